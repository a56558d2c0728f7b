"""Outcomes as types: the kind of a box's stop or a load error, the status of a check.

Each function gives the learner's sentence and the kind together, from the same
data, so no caller ever has to read the sentence back.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from grader.checks import CheckFailed
from grader.kinds import CheckStatus, ErrorKind
from grader.sandbox.client import BoxStopped, SandboxError, StopReason

if TYPE_CHECKING:  # the messages' types (TypedDicts: building them costs a learner's run)
    from grader.sandbox.channel import LearnerErrorInfo

_STOP_KIND = {
    StopReason.TIMEOUT: ErrorKind.TIMEOUT,
    StopReason.EXIT: ErrorKind.EXITED,
    StopReason.SEGFAULT: ErrorKind.CRASHED,
    StopReason.CRASH: ErrorKind.CRASHED,
    StopReason.PROTOCOL: ErrorKind.INTERFERENCE,
    StopReason.DISK: ErrorKind.DISK,
}
# The host's error kinds (sandbox/host.py, describe_error) while a file loads.
_LOAD_KIND = {
    "syntax": ErrorKind.SYNTAX,
    "exception": ErrorKind.RAISED,
    "interrupt": ErrorKind.RAISED,
    "opaque": ErrorKind.RAISED,
    "missing": ErrorKind.RAISED,
    "exit": ErrorKind.EXITED,
    "timeout": ErrorKind.TIMEOUT,
    "memory": ErrorKind.MEMORY,
    "recursion": ErrorKind.RECURSION,
    "process": ErrorKind.FORBIDDEN,
    "forbidden": ErrorKind.FORBIDDEN,
    "disk": ErrorKind.DISK,
    "file_size": ErrorKind.DISK,
}
GRADER_FAULT_ADVICE = ("nothing was counted: grade it again, and tell your teaching "
                       "assistant if it repeats")


def _line(line: int) -> str:
    return f"line {line}"


def describe_stop(stop: BoxStopped | SandboxError,
                  where: Callable[[int], str] = _line) -> tuple[str, ErrorKind]:
    """The learner's sentence and the kind, for a box that stopped answering."""
    if isinstance(stop, SandboxError):
        return (f"the grader's sandbox failed while grading this file ({stop}); "
                f"{GRADER_FAULT_ADVICE}", ErrorKind.GRADER_FAULT)
    kind = _STOP_KIND[stop.reason]
    if stop.reason is StopReason.TIMEOUT:
        running = f" (it was running {where(stop.line)})" if stop.line else ""
        within = f"within {stop.seconds:g} s" if stop.seconds is not None else "in time"
        return (f"time limit: your code did not finish {within}{running}; "
                "look for a loop that never ends", kind)
    if stop.reason is StopReason.PROTOCOL:
        return "your code interfered with the grader's channel; nothing it reported counts", kind
    if stop.reason is StopReason.EXIT:
        how = (f"os._exit({stop.exit_code}) or similar" if stop.exit_code is not None
               else f"it sent itself {stop.signal}")
        return (f"your code ended its own process ({how}), so it could not be checked; "
                "remove that call", kind)
    if stop.reason is StopReason.DISK:
        return ("your code wrote more to disk than the grader allows (too many bytes or "
                "files), so it was stopped; does it write files in a loop?", kind)
    if stop.reason is StopReason.SEGFAULT:
        return ("your code crashed the Python interpreter (segmentation fault), usually by "
                "recursing far too deeply after raising the recursion limit", kind)
    return ("your code stopped its own process (a crash, or running out of memory), so it "
            "could not be checked", kind)


def load_error_kind(error: LearnerErrorInfo) -> ErrorKind:
    """The kind of an error the host reported while loading the file."""
    return _LOAD_KIND.get(str(error.get("kind")), ErrorKind.RAISED)


def is_skip(exc: BaseException) -> bool:
    """`isinstance(exc, pytest.skip.Exception)`, without importing pytest to ask: a check
    that called pytest.skip() has imported it already."""
    outcomes = sys.modules.get("_pytest.outcomes")  # where pytest.skip.Exception lives
    return outcomes is not None and isinstance(exc, outcomes.Skipped)


def is_verdict(exc: BaseException) -> bool:
    """A check's own "wrong": fail(), a plain assert, or pytest.fail()."""
    if isinstance(exc, (CheckFailed, AssertionError)):
        return True
    outcomes = sys.modules.get("_pytest.outcomes")
    return outcomes is not None and isinstance(exc, outcomes.Failed)


def unexpected(exc: BaseException) -> tuple[str, CheckStatus]:
    """A check that ended without returning: it counts as failed, and says why."""
    if is_skip(exc):
        return f"not checked (skipped: {exc}), so it counts as failed", CheckStatus.SKIPPED
    status = CheckStatus.FAILED if is_verdict(exc) else CheckStatus.ERRORED
    return (f"could not check your answer ({type(exc).__name__}: {exc}), so it counts as "
            "failed", status)
