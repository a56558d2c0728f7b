"""A cgroup (v2) per portable box on Linux: whatever the box starts is killed with it.

A process group or a session is the box's to leave (`setsid`); a cgroup is not: a
process can only be moved out of one by whoever may write the cgroup tree, and the
box is put in its own before any learner code runs. Used where the grader may
create cgroups (root, or a delegated subtree such as a systemd user slice);
elsewhere `Cgroup.create` gives None and the box is killed by group and session.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from pathlib import Path

KILL_WAIT = 2.0  # seconds for the kernel to empty a killed cgroup before it is left


def _own_cgroup() -> Path | None:
    """This process's cgroup v2 folder, if the unified hierarchy is mounted."""
    try:
        own = next(line[3:] for line in Path("/proc/self/cgroup").read_text().splitlines()
                   if line.startswith("0::"))
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except (OSError, StopIteration):
        return None
    for line in mounts:
        fields = line.split()
        if " - cgroup2 " in line and len(fields) > 4:
            folder = Path(fields[4], own.strip("/"))
            if folder.is_dir():
                return folder
    return None


class Cgroup:
    """One box's cgroup: `add` its process before learner code runs, `kill` at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def create(cls, name: str) -> Cgroup | None:
        """A new cgroup below this process's own, or None where that is not allowed."""
        parent = _own_cgroup()
        if parent is None:
            return None
        folder = parent / name
        try:
            folder.mkdir()
        except OSError:
            return None  # not ours to write (no root, no delegation): group and session
        return cls(folder)

    def add(self, pid: int) -> bool:
        """Move `pid` in; False if the kernel refused (then the caller kills otherwise)."""
        try:
            (self.folder / "cgroup.procs").write_text(str(pid))
        except OSError:
            return False
        return True

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in (self.folder / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def kill(self) -> None:
        """SIGKILL every process in it (cgroup.kill, Linux 5.14+; else one by one until
        none is left, since a process may fork between the reading and the killing)."""
        kill_file = self.folder / "cgroup.kill"
        give_up = time.monotonic() + KILL_WAIT
        while (left := self.pids()) and time.monotonic() < give_up:
            try:
                kill_file.write_text("1")
            except OSError:
                for pid in left:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
            time.sleep(0.005)

    def remove(self) -> None:
        """Kill what is left and remove the cgroup (busy until the kernel has emptied it)."""
        self.kill()
        give_up = time.monotonic() + KILL_WAIT
        while True:
            try:
                self.folder.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError as exc:
                if exc.errno != errno.EBUSY or time.monotonic() > give_up:
                    return  # left behind, empty: the next boot's problem, no process's
                time.sleep(0.01)
