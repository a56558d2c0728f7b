"""What a check author writes against: `@check`, `fail`, the `Submission` proxy, stats.

A check is a function named ``test_*`` taking one argument, ``submission``; it
passes by returning and fails by raising `CheckFailed` (via `fail`). The same
file runs under plain pytest through the `grader.pytest_plugin`.
"""

from grader.checks.api import Check, CheckFailed, Drift, check, fail, load_checks, local_modules
from grader.checks.compare import approx, leaves_arguments_alone, raises
from grader.checks.submission import LearnerError, LearnerFunction, Submission

__all__ = [
    "Check", "CheckFailed", "Drift", "LearnerError", "LearnerFunction", "Submission",
    "approx", "check", "fail", "leaves_arguments_alone", "load_checks", "local_modules",
    "raises",
]
