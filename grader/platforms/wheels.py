"""Wheels to ship with an export: `grade` itself, and the dependencies it runs with here.

Both are packed from what is installed, with no build tool and no network: `grade`'s
wheel from its package folder (an editable install included) and the installed
metadata; each dependency's wheel from its installed files, with the WHEEL tags it
was installed under, so a platform like this one installs it offline. On another
platform pip skips a wheel whose tags do not fit and fetches that one instead.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as metadata
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import grader

# Written by the installer, not part of a wheel (RECORD is written anew).
_INSTALL_ONLY = {"INSTALLER", "RECORD", "REQUESTED", "direct_url.json"}
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same files give the same wheel


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def write_wheel(path: Path, files: dict[str, bytes], dist_info: str) -> Path:
    """Write the wheel `path` holding `files` (archive name -> bytes) plus its RECORD."""
    record = [_record_line(name, data) for name, data in sorted(files.items())]
    record.append(f"{dist_info}/RECORD,,")
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in [*sorted(files.items()),
                           (f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode())]:
            info = zipfile.ZipInfo(name, _EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path


def _wheel_name(dist: metadata.Distribution, tag: str) -> str:
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    return f"{name}-{dist.version}-{tag}.whl"


def grade_wheel(dest: Path) -> Path:
    """`grade`'s own wheel in `dest`: the `grader` package and its installed metadata."""
    dist = metadata.distribution("grade")
    package = Path(grader.__file__).resolve().parent
    dist_info = f"grade-{dist.version}.dist-info"
    files = {f"grader/{p.relative_to(package).as_posix()}": p.read_bytes()
             for p in sorted(package.rglob("*"))
             if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    files[f"{dist_info}/METADATA"] = (dist.read_text("METADATA") or dist.read_text("PKG-INFO")
                                      or "").encode()
    files[f"{dist_info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: grade\n"
                                   b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[f"{dist_info}/entry_points.txt"] = (dist.read_text("entry_points.txt") or "").encode()
    files[f"{dist_info}/top_level.txt"] = b"grader\n"
    return write_wheel(dest / _wheel_name(dist, "py3-none-any"), files, dist_info)


def _requirements(name: str, extras: Iterable[str] = ()) -> list[str]:
    """The distributions `name` needs here (markers evaluated), by canonical name."""
    needed = []
    for line in metadata.requires(name) or []:
        requirement = Requirement(line)
        if requirement.marker and not any(
                requirement.marker.evaluate({"extra": e}) for e in [*extras, ""]):
            continue
        needed.append(requirement.name)
    return needed


def dependency_closure(name: str = "grade") -> list[metadata.Distribution]:
    """Every installed distribution `name` needs, directly or not (not `name` itself)."""
    seen: dict[str, metadata.Distribution] = {}
    todo = _requirements(name)
    while todo:
        wanted = canonicalize_name(todo.pop())
        if wanted in seen:
            continue
        seen[wanted] = metadata.distribution(wanted)
        todo += _requirements(wanted)
    return [seen[key] for key in sorted(seen)]


def repacked_wheel(dist: metadata.Distribution, dest: Path) -> Path:
    """`dist`'s installed files packed again as the wheel they were installed from."""
    wheel_text = dist.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in wheel_text.splitlines()
            if line.startswith("Tag:")]
    tag = tags[0] if tags else "py3-none-any"
    files: dict[str, bytes] = {}
    dist_info = ""
    for entry in dist.files or []:
        name = entry.as_posix()
        if name.startswith("..") or "__pycache__" in name or name.endswith(".pyc"):
            continue  # scripts (made again from entry points) and bytecode
        top = name.split("/", 1)[0]
        if top.endswith(".dist-info"):
            dist_info = top
            if name.split("/")[-1] in _INSTALL_ONLY:
                continue
        located = Path(str(dist.locate_file(entry)))
        if located.is_file():
            files[name] = located.read_bytes()
    return write_wheel(dest / _wheel_name(dist, tag), files, dist_info)


def wheelhouse(dest: Path, *, dependencies: bool = True) -> list[Path]:
    """`grade`'s wheel, and (by default) its installed dependencies' wheels, in `dest`."""
    wheels = [grade_wheel(dest)]
    if dependencies:
        wheels += [repacked_wheel(dist, dest) for dist in dependency_closure()]
    return wheels
