"""Exclusive file locks on every OS: `flock` on POSIX, `msvcrt.locking` on Windows.

`fcntl` does not exist on Windows, and a module that imports it at the top
cannot even be imported there; batch journals and a learner's progress file
lock through this module instead.
"""

from __future__ import annotations

import time


def lock_file(fd: int, wait: bool) -> bool:
    """Lock the open file `fd` until it is closed; False if another process holds it
    (never False when `wait`: it waits for the lock instead)."""
    try:
        import fcntl
    except ImportError:
        return _lock_windows(fd, wait)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _lock_windows(fd: int, wait: bool) -> bool:
    try:
        import msvcrt
    except ImportError:
        return True  # neither fcntl nor msvcrt (no real OS): nothing to lock with
    while True:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
            return True
        except OSError:
            if not wait:
                return False
            time.sleep(0.05)
