"""Wheels to ship with an export: `grade` itself, and the dependencies it runs with.

`grade`'s wheel is packed from what is installed, with no build tool: its package
folder (an editable install included) and its installed metadata, without the long
description (the README, whose walk-through spells out answers). The dependencies'
wheels are downloaded by pip for each CPython that platforms run (3.10 to 3.13 on
manylinux x86_64), so an export installs with `--no-index`; when pip cannot reach an
index, each installed dependency is packed again from its files instead, which fits
this machine's Python alone, and the export says so.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as metadata
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

# Written by the installer, not part of a wheel (RECORD is written anew).
_INSTALL_ONLY = {"INSTALLER", "RECORD", "REQUESTED", "direct_url.json"}
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same files give the same wheel
# The index has a stranger's project named `grade`: ours is installed by path or offline.
DISTRIBUTION = "grade-exercises"
# Gradescope's default image is Ubuntu 22.04 (3.10); python:3.12-slim, Ubuntu 24.04 (3.12).
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64")
DOWNLOAD_SECONDS = 300


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


def wheel_file() -> str:
    """The file name of `grade`'s own wheel, as `grade_wheel` writes it."""
    return _wheel_name(metadata.distribution(DISTRIBUTION), "py3-none-any")


def short_metadata(text: str) -> str:
    """METADATA's headers alone: no long description (the README and its answers)."""
    headers = text.replace("\r\n", "\n").split("\n\n", 1)[0]
    kept = [line for line in headers.split("\n")
            if not line.startswith(("Description:", "Description-Content-Type:"))
            and not (line.startswith((" ", "\t", "|")) and line.strip())]
    return "\n".join(kept).rstrip("\n") + "\n"


def grade_wheel(dest: Path) -> Path:
    """`grade`'s own wheel in `dest`: the `grader` package and its installed metadata."""
    dist = metadata.distribution(DISTRIBUTION)
    package = Path(__file__).resolve().parents[1]  # grader/
    dist_info = f"{re.sub(r'[-_.]+', '_', dist.metadata['Name'])}-{dist.version}.dist-info"
    files = {f"grader/{p.relative_to(package).as_posix()}": p.read_bytes()
             for p in sorted(package.rglob("*"))
             if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    files[f"{dist_info}/METADATA"] = short_metadata(
        dist.read_text("METADATA") or dist.read_text("PKG-INFO") or "").encode()
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


def dependency_closure(name: str = DISTRIBUTION) -> list[metadata.Distribution]:
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


@dataclass
class Wheelhouse:
    """The wheels written, and for which Pythons they are complete (installable offline)."""

    wheels: list[Path] = field(default_factory=list)
    complete_for: list[str] = field(default_factory=list)
    missing_for: dict[str, str] = field(default_factory=dict)  # Python -> pip's last line


def _pip_download(python: str, requirements: list[str], dest: Path) -> str | None:
    """pip download for CPython `python` on manylinux x86_64; None, or pip's last words."""
    abi = "cp" + python.replace(".", "")
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
               "--only-binary=:all:", "--implementation", "cp", "--python-version", python,
               "--abi", abi, "--abi", "abi3", "--abi", "none",
               *(a for p in PLATFORMS for a in ("--platform", p)), "--dest", str(dest),
               *requirements]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=DOWNLOAD_SECONDS)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode == 0:
        return None
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    return lines[-1] if lines else f"pip exited with status {done.returncode}"


def _target(python: str) -> tuple[set[Tag], dict[str, str]]:
    """The wheel tags CPython `python` on manylinux x86_64 accepts, and its marker values."""
    version = tuple(int(p) for p in python.split("."))
    tags = {*cpython_tags(version, platforms=PLATFORMS),
            *compatible_tags(version, "cp" + python.replace(".", ""), PLATFORMS)}
    env = {"python_version": python, "python_full_version": f"{python}.0",
           "implementation_name": "cpython", "platform_python_implementation": "CPython",
           "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
           "platform_machine": "x86_64", "extra": ""}
    return tags, env


def _unmet(python: str, dest: Path) -> list[str]:
    """Requirements of the wheels in `dest` that fit `python` and no wheel there meets.

    pip download evaluates markers for the Python running it, not --python-version
    (so 3.10's `tomli; python_version < "3.11"` is never fetched from 3.11): they are
    evaluated here for the target instead.
    """
    tags, env = _target(python)
    fitting: dict[str, list[tuple[str, Path]]] = {}
    for path in dest.glob("*.whl"):
        try:
            name, version, _, wheel_tags = parse_wheel_filename(path.name)
        except InvalidWheelFilename:
            continue
        if wheel_tags & tags:
            fitting.setdefault(name, []).append((str(version), path))
    unmet = []
    for versions in fitting.values():
        for _, path in versions:
            with zipfile.ZipFile(path) as archive:
                meta = next((archive.read(n).decode("utf-8", "replace")
                             for n in archive.namelist() if n.endswith(".dist-info/METADATA")), "")
            for line in meta.split("\n\n", 1)[0].splitlines():
                if not line.startswith("Requires-Dist:"):
                    continue
                wanted = Requirement(line.split(":", 1)[1].strip())
                if wanted.marker and not wanted.marker.evaluate(env):
                    continue
                have = fitting.get(canonicalize_name(wanted.name), [])
                if not any(wanted.specifier.contains(v, prereleases=True) for v, _ in have):
                    unmet.append(f"{wanted.name}{wanted.specifier}")
    return sorted(set(unmet))


def download_for(python: str, wheel: Path, dest: Path) -> str | None:
    """Download `wheel`'s dependencies for CPython `python`; None, or why pip could not."""
    why = _pip_download(python, [str(wheel)], dest)
    for _ in range(5):  # each round adds what the last one's wheels need for `python`
        unmet = _unmet(python, dest) if why is None else []
        if not unmet:
            return why
        why = _pip_download(python, unmet, dest)
    return why or f"still unmet for {python}: {', '.join(_unmet(python, dest))}"


def wheelhouse(dest: Path, *, dependencies: bool = True,
               pythons: Iterable[str] = PYTHONS) -> Wheelhouse:
    """`grade`'s wheel, and (by default) its dependencies' wheels for `pythons`, in `dest`."""
    house = Wheelhouse(wheels=[grade_wheel(dest)])
    if not dependencies:
        return house
    for python in pythons:
        why = download_for(python, house.wheels[0], dest)
        if why is None:
            house.complete_for.append(python)
        else:
            house.missing_for[python] = why
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if here not in house.complete_for:  # offline: what runs here, packed again
        present = {p.name for p in dest.iterdir()}
        for dist in dependency_closure():
            tags = [line.split(":", 1)[1].strip() for line in
                    (dist.read_text("WHEEL") or "").splitlines() if line.startswith("Tag:")]
            if _wheel_name(dist, tags[0] if tags else "py3-none-any") not in present:
                repacked_wheel(dist, dest)
        house.complete_for.append(here)
    house.wheels = sorted(dest.glob("*.whl"))
    return house
