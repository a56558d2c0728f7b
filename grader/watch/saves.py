"""Noticing saves of one file: watchfiles where installed, else polling its mtime.

Both watch the file's folder by name, so a save that deletes the file and writes it
again, or writes a temporary file and renames it over the old one, is one more save.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator, Iterator
from pathlib import Path

Signature = tuple[int, int, int]

POLL = 0.1  # seconds between looks at the file when polling
# A save is graded once the file has stayed the same this long: an editor that
# truncates and then writes, or saves and then formats, is graded once.
SETTLE = 0.12
SETTLE_AT_MOST = 2.0  # a file that never stops changing is graded anyway
RECHECK_MS = 1000  # watchfiles also wakes this often, in case an event was missed


def signature(path: Path) -> Signature | None:
    """What changes when the file is saved: mtime, size and inode (None: no file)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def backend_name() -> str:
    """"watchfiles", or "polling" when it is not installed or GRADE_WATCH=poll."""
    if os.environ.get("GRADE_WATCH") == "poll":
        return "polling"
    try:
        import watchfiles  # noqa: F401
    except ImportError:
        return "polling"
    return "watchfiles"


def _wakeups_watchfiles(path: Path) -> Generator[None, None, None]:
    import watchfiles

    name = path.name
    for _ in watchfiles.watch(path.parent, watch_filter=lambda _change, p: Path(p).name == name,
                              step=30, rust_timeout=RECHECK_MS, yield_on_timeout=True,
                              recursive=False, raise_interrupt=True):
        yield


def _wakeups_polling(path: Path) -> Generator[None, None, None]:
    last = signature(path)
    while True:
        time.sleep(POLL)
        now = signature(path)
        if now != last:
            last = now
            yield


def _settled(path: Path) -> Signature | None:
    """The file's signature once it has stopped changing (None: it is gone)."""
    deadline = time.monotonic() + SETTLE_AT_MOST
    before = signature(path)
    while True:
        time.sleep(SETTLE)
        now = signature(path)
        if now == before or time.monotonic() > deadline:
            return now
        before = now


def saves(path: Path, since: Signature | None) -> Iterator[None]:
    """Yield once per save of `path` that differs from `since` (the version last graded).

    Forever: the caller stops by closing the generator (or Ctrl-C).
    """
    wakeups = (_wakeups_watchfiles if backend_name() == "watchfiles" else _wakeups_polling)
    generator = wakeups(path)
    try:
        for _ in generator:
            now = _settled(path)
            if now is None or now == since:
                continue
            since = now
            yield
    finally:
        generator.close()
