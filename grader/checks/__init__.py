"""What a check author writes against: `@check`, `fail`, the `Submission` proxy, stats.

A check is a function named ``test_*`` taking one argument, ``submission``; it
passes by returning and fails by raising `CheckFailed` (via `fail`). The same
file runs under plain pytest through the `grader.pytest_plugin`.
"""

from typing import TYPE_CHECKING, Any

from grader.checks.api import Check, CheckFailed, Drift, check, fail, load_checks, local_modules
from grader.checks.submission import LearnerError, LearnerFunction, Submission

if TYPE_CHECKING:
    from grader.checks.compare import approx, leaves_arguments_alone, raises

__all__ = [
    "Check", "CheckFailed", "Drift", "LearnerError", "LearnerFunction", "Submission",
    "approx", "check", "fail", "leaves_arguments_alone", "load_checks", "local_modules",
    "raises",
]
_COMPARE = ("approx", "leaves_arguments_alone", "raises")


def __getattr__(name: str) -> Any:
    """The comparison helpers, imported when a checks file asks for one (PEP 562): a
    skeleton's report imports the checks file for its checks' names and points."""
    if name in _COMPARE:
        from grader.checks import compare

        return getattr(compare, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
