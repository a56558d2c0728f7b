"""The notes a command prints about this machine's sandbox, as text (no click)."""

from __future__ import annotations

PORTABLE_NOTE = ("note: portable isolation on this machine: your code runs in a separate "
                 "process with time and memory limits, but it is not locked away from your "
                 "files; see README, 'On macOS / on Windows / in Jupyter'")
PORTABLE_BATCH_NOTE = ("note: portable isolation on this machine: hostile code is not "
                       "contained here (it could read or change files, other students' "
                       "included); grade untrusted classes on Linux")


def weakened_note(level: str, missing: list[str], batch: bool = False) -> str | None:
    """The note saying which isolation measures a sandbox at `level` lacks (`missing`);
    None when it lacks none."""
    if level == "portable":
        return PORTABLE_BATCH_NOTE if batch else PORTABLE_NOTE
    if missing:
        return (f"note: reduced isolation on this machine (no {', '.join(missing)});"
                " see README, 'Threat model'")
    return None
