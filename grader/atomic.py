"""Writing files so that a kill, a full disk or a second process never leaves half of one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

TEMPORARY = ".tmp"  # every temporary file ends so; a clean folder holds none
# A file's content: its text, its bytes, or its text in parts (written as they come, so
# a large file is never whole in memory)
Content = str | bytes | Iterable[str]


def _umask() -> int:
    """The process's umask, read without changing it where Linux says it (another
    thread never sees a umask of 0), else by setting and restoring it."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """What open() would give a new file: mkstemp's 0600 would hide exports from the
    other TAs of a shared drive, whom the umask lets read them."""
    return 0o666 & ~_umask()


def write_atomic(path: Path, data: str | bytes, *, durable: bool = False) -> Path:
    """Write `data` to `path` via a temporary file of a unique name and a rename."""
    return write_all_atomic([(path, data)], durable=durable)[0]


def temporary_name(path: Path) -> str:
    """The name `path`'s temporary file is first tried under (`_temporary`)."""
    return str(path.parent / f".{path.name}{TEMPORARY}")


def _temporary(path: Path, mode: int) -> tuple[int, str]:
    """A new temporary file beside `path`, open for writing, and its name.

    First `.NAME.tmp`, created exclusively (O_EXCL: a name another process holds is
    never shared) with the final mode, which is all a folder only one writer uses (an
    OUTDIR under its journal's lock) ever needs: one open, no chmod, no random names.
    A name already taken (another writer, or a killed run's leftover) falls back to
    mkstemp's unique names."""
    name = temporary_name(path)
    try:
        return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC, mode), name
    except FileExistsError:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMPORARY)
        os.chmod(name, mode)
        return fd, name


_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
BLOCK = 1 << 16  # bytes written at once (a file given in parts is never whole in memory)


def _encoded(data: Content) -> Iterator[bytes]:
    if isinstance(data, bytes):
        yield data
    elif isinstance(data, str):
        yield data.encode("utf-8")
    else:
        for part in data:
            yield part.encode("utf-8")


class Written(str):
    """The name of a temporary file that already holds a file's data (`write_temporary`):
    given as that file's data to `write_all_atomic`, it is renamed with the rest."""


def write_temporary(path: Path, data: Content, mode: int | None = None) -> Written:
    """`data` in a new temporary file beside `path` (its folder made if need be), for a
    later `write_all_atomic` to rename; removed again if writing it fails. `mode`:
    `file_mode()`'s, when the caller knows it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = _temporary(path, file_mode() if mode is None else mode)
    try:
        _write(fd, data, False)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return Written(temporary)


def write_all_atomic(files: Iterable[tuple[Path, Content]], *, durable: bool = False
                     ) -> list[Path]:
    """Write every (path, data): all the temporary files first, then all the renames.

    A full disk or an interrupt while writing leaves every old file as it was and
    no temporary file (unique names: two processes never share one), so a folder
    never mixes a new gradebook with an old report. `durable` also flushes each file
    to the disk before its rename, for what cannot be made again (a journal, the
    learner's progress): a power cut then keeps the old file or the new, whole.
    `files` may be a generator: each text is written as it is made and not kept (a
    class's exports are never all in memory at once); an exception it raises is an
    interrupt like any other. A `Written` data is a temporary file made already: it is
    renamed (or removed) with the others.
    """
    pending: list[tuple[str, Path]] = []
    mode = file_mode()
    folders: set[Path] = set()
    try:
        for path, data in files:
            if isinstance(data, Written):
                if durable:  # made by write_temporary, which does not flush it
                    raise ValueError(f"{path}: a Written file is not durable")
                pending.append((data, path))
                continue
            if path.parent not in folders:  # one mkdir per folder, not per file
                path.parent.mkdir(parents=True, exist_ok=True)
                folders.add(path.parent)
            fd, temporary = _temporary(path, mode)
            pending.append((temporary, path))
            _write(fd, data, durable)
        written = [path for _, path in pending]
        for index, (temporary, path) in enumerate(pending):
            os.replace(temporary, path)
            pending[index] = ("", path)
    except BaseException:
        for temporary, _ in pending:
            if temporary:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
        raise
    return written


def _write(fd: int, data: Content, durable: bool) -> None:
    """Write `data` to the open `fd` in blocks of up to BLOCK bytes (one system call
    each, however small its parts), flush it to the disk if `durable`, and close it."""
    try:
        parts: list[bytes] = []
        size = 0
        for chunk in _encoded(data):
            parts.append(chunk)
            size += len(chunk)
            if size >= BLOCK:
                _write_out(fd, b"".join(parts))
                parts, size = [], 0
        if parts:
            _write_out(fd, b"".join(parts))
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def _write_out(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
