"""Unpacking a downloaded zip without trusting it: no member may leave the target
folder, be a link or a device, or inflate past the limits (zip bombs).

Every member's name and type is checked before anything is written, so a zip with
one hostile member writes nothing at all. Sizes are counted while inflating, not
read from the headers, which a bomb can fake.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

CHUNK = 1 << 16


@dataclass(frozen=True)
class ZipLimits:
    """What one download may hold; generous for a class, fatal for a bomb."""

    members: int = 20_000
    member_bytes: int = 64 << 20
    total_bytes: int = 2 << 30
    ratio: int = 200  # inflated/compressed bytes above which a large member is a bomb


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
             budget: int, limits: ZipLimits) -> int:
    """Write one member, counting the bytes that actually come out; return them."""
    allowed = min(info.file_size, limits.member_bytes, budget)
    ceiling = limits.ratio * max(1, info.compress_size)
    written = 0
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    with archive.open(info) as source, os.fdopen(os.open(target, flags, 0o644), "wb") as out:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > allowed:
                raise UnsafeZip(f"member {info.filename!r}: it inflates past its declared "
                                "size or the limits (a zip bomb)")
            if written > (1 << 20) and written > ceiling:
                raise UnsafeZip(f"member {info.filename!r}: it inflates more than "
                                f"{limits.ratio} times its compressed size (a zip bomb)")
            out.write(chunk)
    return written


def extract(zip_path: Path, target: Path, limits: ZipLimits | None = None) -> None:
    """Unpack `zip_path` into the fresh folder `target` (replaced if it exists).

    On refusal `target` is removed and UnsafeZip says why.
    """
    limits = limits or ZipLimits()
    if target.exists():
        shutil.rmtree(target)
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members = _check(archive, limits)
            target.mkdir(parents=True)
            total = 0
            for info in members:
                path = target.joinpath(*PurePosixPath(info.filename).parts)
                if info.is_dir():
                    path.mkdir(parents=True, exist_ok=True)
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                try:
                    total += _inflate(archive, info, path, limits.total_bytes - total, limits)
                except FileExistsError:
                    raise UnsafeZip(f"member {info.filename!r}: it appears twice") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise UnsafeZip(f"it is not a readable zip ({exc})") from None
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
