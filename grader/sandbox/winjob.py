"""A Windows Job Object for a portable box: memory, CPU time, one process, killed as a tree.

Windows has no rlimits and no process groups a box cannot leave; a Job Object
is the OS's own answer (it is what Docker, Chrome and Python's own test runner
use). Through ctypes, so no dependency: pywin32 would add ~10 MB for five calls.
Importing this module is safe anywhere; only `confine` needs Windows.
"""

from __future__ import annotations

import ctypes
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.sandbox.channel import BoxLimits

JOB_OBJECT_EXTENDED_LIMIT_INFORMATION = 9  # JOBOBJECTINFOCLASS
JOB_OBJECT_LIMIT_PROCESS_TIME = 0x2
JOB_OBJECT_LIMIT_ACTIVE_PROCESS = 0x8
JOB_OBJECT_LIMIT_PROCESS_MEMORY = 0x100
JOB_OBJECT_LIMIT_JOB_MEMORY = 0x200
JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION = 0x400
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000
TICKS_PER_SECOND = 10_000_000  # CPU time limits count 100 ns ticks
KILLED = 1  # the exit status TerminateJobObject gives every process of the job
# NTSTATUS codes a crashed process exits with: read as the Linux box's SIGSEGV.
CRASHES = frozenset({0xC0000005, 0xC00000FD, 0xC0000409})  # access violation, stack, fail-fast


class BasicLimits(ctypes.Structure):
    _fields_ = [("PerProcessUserTimeLimit", ctypes.c_int64),
                ("PerJobUserTimeLimit", ctypes.c_int64),
                ("LimitFlags", ctypes.c_uint32),
                ("MinimumWorkingSetSize", ctypes.c_size_t),
                ("MaximumWorkingSetSize", ctypes.c_size_t),
                ("ActiveProcessLimit", ctypes.c_uint32),
                ("Affinity", ctypes.c_size_t),
                ("PriorityClass", ctypes.c_uint32),
                ("SchedulingClass", ctypes.c_uint32)]


class IoCounters(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in (
        "ReadOperationCount", "WriteOperationCount", "OtherOperationCount",
        "ReadTransferCount", "WriteTransferCount", "OtherTransferCount")]


class ExtendedLimits(ctypes.Structure):
    """JOBOBJECT_EXTENDED_LIMIT_INFORMATION (144 bytes on 64-bit Windows)."""

    _fields_ = [("BasicLimitInformation", BasicLimits),
                ("IoInfo", IoCounters),
                ("ProcessMemoryLimit", ctypes.c_size_t),
                ("JobMemoryLimit", ctypes.c_size_t),
                ("PeakProcessMemoryUsed", ctypes.c_size_t),
                ("PeakJobMemoryUsed", ctypes.c_size_t)]


def limits_for(box_limits: BoxLimits) -> ExtendedLimits:
    """The Job Object limits equal to the Linux box's rlimits."""
    memory = int(box_limits["memory_mb"]) * 1024 * 1024
    info = ExtendedLimits()
    basic = info.BasicLimitInformation
    basic.LimitFlags = (JOB_OBJECT_LIMIT_PROCESS_TIME | JOB_OBJECT_LIMIT_ACTIVE_PROCESS
                        | JOB_OBJECT_LIMIT_PROCESS_MEMORY | JOB_OBJECT_LIMIT_JOB_MEMORY
                        | JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION
                        | JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE)
    basic.PerProcessUserTimeLimit = int(box_limits["cpu_seconds"]) * TICKS_PER_SECOND
    basic.ActiveProcessLimit = 1  # the box itself: no child process can start
    info.ProcessMemoryLimit = info.JobMemoryLimit = memory
    return info


class Job:
    """One box's Job Object; closing it kills every process in it (KILL_ON_JOB_CLOSE)."""

    handle: int | None
    _kernel32: Any

    def __init__(self, process_handle: int, box_limits: BoxLimits) -> None:
        if sys.platform != "win32":
            raise OSError("Job Objects exist on Windows only")
        self._kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        self._kernel32.CreateJobObjectW.restype = ctypes.c_void_p
        self.handle = self._kernel32.CreateJobObjectW(None, None)
        if not self.handle:
            raise ctypes.WinError(ctypes.get_last_error())  # type: ignore[attr-defined]
        info = limits_for(box_limits)
        if not self._kernel32.SetInformationJobObject(
                ctypes.c_void_p(self.handle), JOB_OBJECT_EXTENDED_LIMIT_INFORMATION,
                ctypes.byref(info), ctypes.sizeof(info)) or \
                not self._kernel32.AssignProcessToJobObject(ctypes.c_void_p(self.handle),
                                                            ctypes.c_void_p(process_handle)):
            error = ctypes.get_last_error()  # type: ignore[attr-defined]
            self.close()
            raise ctypes.WinError(error)  # type: ignore[attr-defined]

    def close(self) -> None:
        """Kill every process of the job, then let the job go (idempotent)."""
        if self.handle:
            self._kernel32.TerminateJobObject(ctypes.c_void_p(self.handle), KILLED)
            self._kernel32.CloseHandle(ctypes.c_void_p(self.handle))
            self.handle = None
