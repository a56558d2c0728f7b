"""Writing export files so that a kill never leaves half of one behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

TEMPORARY = ".tmp"  # every temporary file ends so; a clean OUTDIR holds none


def write_atomic(path: Path, text: str) -> Path:
    """Write `text` to `path` via a temporary file of a unique name and a rename."""
    return write_all_atomic([(path, text)])[0]


def write_all_atomic(files: list[tuple[Path, str]]) -> list[Path]:
    """Write every (path, text): all the temporary files first, then all the renames.

    A full disk or an interrupt while writing leaves every old file as it was and
    no temporary file (unique names: two processes never share one), so OUTDIR
    never mixes a new gradebook with an old report.
    """
    pending: list[tuple[str, Path]] = []
    try:
        for path, text in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                             suffix=TEMPORARY)
            pending.append((temporary, path))
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(text)
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
