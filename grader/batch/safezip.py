"""Unpacking a downloaded zip without trusting it: no member may leave the target
folder, be a link or a device, or inflate past the limits (zip bombs).

Every member's name and type is checked before anything is written, so a zip with
one hostile member writes nothing at all. Sizes are counted while inflating, not
read from the headers, which a bomb can fake.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.learner_text import cut, inert

CHUNK = 1 << 16
RATIO_FLOOR = 1 << 20  # below this many bytes no ratio is checked (small files are fine)
NAME_MAX = 255  # bytes in one part of a path, on every common disk
MAX_DEPTH = 32  # folders; deeper members are written at their student's top folder
SAFE_PART_BYTES = 120  # what a shortened name keeps of the original


@dataclass(frozen=True)
class ZipLimits:
    """What one download may hold; generous for a class, fatal for a bomb."""

    members: int = 20_000
    member_bytes: int = 64 << 20
    total_bytes: int = 2 << 30
    ratio: int = 200  # inflated/compressed bytes above which a member, or the whole
    # archive, is a bomb (checked past RATIO_FLOOR bytes, while inflating)


class UnsafeZip(Exception):
    """The zip was refused; the message names the member and why."""


def member_problem(info: zipfile.ZipInfo) -> str | None:
    """Why this member may not be unpacked, or None."""
    name = info.filename
    mode = info.external_attr >> 16
    if "\0" in name or "\\" in name:
        return "its name contains a NUL or a backslash"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "it is an absolute path"
    if ".." in PurePosixPath(name).parts:
        return "its path climbs out of the folder with '..'"
    kind = stat.S_IFMT(mode)  # 0: no Unix file type recorded (Windows zips, Python's)
    if kind == stat.S_IFLNK:
        return "it is a symbolic link"
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "it is a device, pipe or socket"
    if info.flag_bits & 0x1:
        return "it is encrypted"
    return None


def _check(archive: zipfile.ZipFile, limits: ZipLimits) -> list[zipfile.ZipInfo]:
    members = archive.infolist()
    if len(members) > limits.members:
        raise UnsafeZip(f"it holds {len(members)} files (the limit is {limits.members})")
    declared = 0
    for info in members:
        problem = member_problem(info)
        if problem:
            raise UnsafeZip(f"member {info.filename!r}: {problem}")
        declared += info.file_size
        if info.file_size > limits.member_bytes or declared > limits.total_bytes:
            raise UnsafeZip(f"member {info.filename!r}: it unpacks to more than the "
                            f"limit ({limits.member_bytes >> 20} MB a file, "
                            f"{limits.total_bytes >> 20} MB in all)")
    return members


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path,
             tally: _Tally, limits: ZipLimits) -> None:
    """Write one member, counting the bytes that actually come out, against the
    member's own limits and the whole archive's (`tally`)."""
    allowed = min(info.file_size, limits.member_bytes)
    ceiling = limits.ratio * max(1, info.compress_size)
    written = 0
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    with archive.open(info) as source, os.fdopen(os.open(target, flags, 0o644), "wb") as out:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > allowed:
                raise UnsafeZip(f"member {info.filename!r}: it inflates past its declared "
                                "size or the limits (a zip bomb)")
            if written > RATIO_FLOOR and written > ceiling:
                raise UnsafeZip(f"member {info.filename!r}: it inflates more than "
                                f"{limits.ratio} times its compressed size (a zip bomb)")
            tally.add(len(chunk), info.filename)
            out.write(chunk)


@dataclass
class _Tally:
    """The whole archive's inflated bytes so far, checked against its totals at every
    chunk: many small members each under a member's limits still make a bomb."""

    limits: ZipLimits
    archive_bytes: int
    written: int = 0

    def add(self, count: int, name: str) -> None:
        self.written += count
        if self.written > self.limits.total_bytes:
            raise UnsafeZip(f"member {name!r}: the archive inflates past "
                            f"{self.limits.total_bytes >> 20} MB in all (a zip bomb)")
        if self.written > RATIO_FLOOR and self.written > self.limits.ratio * self.archive_bytes:
            raise UnsafeZip(f"member {name!r}: the archive inflates more than "
                            f"{self.limits.ratio} times its own size (a zip bomb)")


@dataclass(frozen=True)
class Renamed:
    """A member written under a safe name: where it went, and the note saying why."""

    path: Path
    note: str


def _shortened(part: str, digest: str) -> str:
    """`part` cut to fit NAME_MAX on every disk, kept recognisable: its start, a hash
    of the whole member name, its suffix (so `.py` still matches an exercise)."""
    suffix = PurePosixPath(part).suffix
    suffix = suffix if len(suffix.encode()) <= 16 else ""
    stem = part[: len(part) - len(suffix)] if suffix else part
    head = stem.encode("utf-8", "surrogateescape")[:SAFE_PART_BYTES].decode("utf-8", "ignore")
    return f"{head}~{digest}{suffix}"


def _name_problem(parts: tuple[str, ...]) -> str | None:
    if len(parts) > MAX_DEPTH:
        return f"it is {len(parts)} folders deep (more than {MAX_DEPTH})"
    if any(len(p.encode("utf-8", "surrogateescape")) > NAME_MAX for p in parts):
        return f"a part of its name is longer than {NAME_MAX} bytes"
    return None


def safe_parts(name: str) -> tuple[tuple[str, ...], str | None]:
    """Where member `name` is written (its parts) and, if not as named, why."""
    parts = PurePosixPath(name).parts
    problem = _name_problem(parts)
    if problem is None:
        return parts, None
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    kept = parts[:1] if len(parts) > 1 else ()  # the top folder names the student
    if kept and len(kept[0].encode("utf-8", "surrogateescape")) > NAME_MAX:
        kept = (_shortened(kept[0], digest),)
    return (*kept, _shortened(parts[-1], digest)), problem


def _place(target: Path, info: zipfile.ZipInfo) -> tuple[Path, str | None]:
    parts, problem = safe_parts(info.filename.rstrip("/"))
    return target.joinpath(*parts), problem


def _fallback(target: Path, info: zipfile.ZipInfo) -> Path:
    """Where a member goes whose path is taken by a file where a folder should be (or
    the reverse): beside its student's folder's files, under a hashed name."""
    digest = hashlib.sha256(info.filename.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    parts = PurePosixPath(info.filename).parts
    top = target / parts[0] if len(parts) > 1 and (target / parts[0]).is_dir() else target
    return top / _shortened(parts[-1], digest)


def _clash(path: Path) -> str | None:
    """Why `path` cannot be written as a file: a folder holds its name, or a file
    holds the name of a folder on its way (creating the folders it needs)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        return "a folder on its path is also a file in the zip"
    return "it is both a file and a folder in the zip" if path.is_dir() else None


def _write(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, tally: _Tally,
           limits: ZipLimits, renamed: list[Renamed]) -> None:
    path, problem = _place(target, info)
    if info.is_dir():
        if problem:
            return  # its files are placed one by one, each under a safe name
        try:
            path.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            pass  # a file holds the name: the folder's own members are placed one by one
        return
    clash = _clash(path)
    if clash:
        path, problem = _fallback(target, info), clash
        if path.exists():
            renamed.append(Renamed(path, inert(f"zip member {info.filename!r} was left "
                                               f"out: {problem}")))
            return
    elif path.exists():
        raise UnsafeZip(f"member {inert(info.filename)!r}: it appears twice")
    _inflate(archive, info, path, tally, limits)
    if problem:
        renamed.append(Renamed(path, inert(f"zip member {cut(info.filename, 300)!r} was "
                                           f"unpacked as {path.name!r}: {problem}")))


def extract(zip_path: Path, target: Path, limits: ZipLimits | None = None) -> list[Renamed]:
    """Unpack `zip_path` into the fresh folder `target` (replaced if it exists); return
    the members written under a safe name instead of their own (a part of the name
    past NAME_MAX, too deep, both a file and a folder), each with why.

    On refusal `target` is removed and UnsafeZip says why.
    """
    limits = limits or ZipLimits()
    if target.exists():
        shutil.rmtree(target)
    renamed: list[Renamed] = []
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members = _check(archive, limits)
            target.mkdir(parents=True)
            tally = _Tally(limits, max(1, zip_path.stat().st_size))
            for info in members:
                _write(archive, info, target, tally, limits, renamed)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise UnsafeZip(f"it is not a readable zip ({exc})") from None
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return renamed
