"""Writing files so that a kill, a full disk or a second process never leaves half of one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

TEMPORARY = ".tmp"  # every temporary file ends so; a clean folder holds none


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


def _mode() -> int:
    """What open() would give a new file: mkstemp's 0600 would hide exports from the
    other TAs of a shared drive, whom the umask lets read them."""
    return 0o666 & ~_umask()


def write_atomic(path: Path, data: str | bytes, *, durable: bool = False) -> Path:
    """Write `data` to `path` via a temporary file of a unique name and a rename."""
    return write_all_atomic([(path, data)], durable=durable)[0]


def write_all_atomic(files: Sequence[tuple[Path, str | bytes]], *, durable: bool = False
                     ) -> list[Path]:
    """Write every (path, data): all the temporary files first, then all the renames.

    A full disk or an interrupt while writing leaves every old file as it was and
    no temporary file (unique names: two processes never share one), so a folder
    never mixes a new gradebook with an old report. `durable` also flushes each file
    to the disk before its rename, for what cannot be made again (a journal, the
    learner's progress): a power cut then keeps the old file or the new, whole.
    """
    pending: list[tuple[str, Path]] = []
    mode = _mode()
    try:
        for path, data in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                             suffix=TEMPORARY)
            pending.append((temporary, path))
            os.chmod(temporary, mode)
            with os.fdopen(fd, "wb") as f:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
                if durable:
                    f.flush()
                    os.fsync(f.fileno())
        while pending:
            temporary, path = pending[0]
            os.replace(temporary, path)
            pending.pop(0)
    except BaseException:
        for temporary, _ in pending:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        raise
    return [path for path, _ in files]
