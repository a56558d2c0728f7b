"""What check authors keep writing by hand: approximate equality, expected errors, copies.

`approx` compares floats (and dicts and lists of them) within a tolerance and says
which key differs first; `raises` expects learner code to raise an exception type,
decided on the error's fields, never on its sentence; `leaves_arguments_alone`
fails a function that changes what it was given instead of returning a new value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from grader.checks.api import fail
from grader.checks.submission import LearnerError, LearnerFunction

REL = 1e-6
ABS = 1e-12


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Approx:
    """An expected value to compare within tolerance: `answer == approx(expected)`."""

    def __init__(self, expected: Any, rel: float, abs_: float) -> None:
        self.expected, self.rel, self.abs = expected, rel, abs_

    def __repr__(self) -> str:
        return f"approx({self.expected!r})"

    def __eq__(self, actual: object) -> bool:
        return self.why_not(actual) is None

    __hash__ = None  # type: ignore[assignment]  # compares by tolerance: unhashable

    def why_not(self, actual: Any) -> str | None:
        """None when `actual` is close enough; else what differs first, as a phrase."""
        return self._differ(actual, self.expected, "")

    def _differ(self, actual: Any, expected: Any, at: str) -> str | None:
        where = f"at {at}: " if at else ""
        if isinstance(expected, Mapping):
            if not isinstance(actual, Mapping):
                return f"{where}{_short(actual)} is not a dict"
            if missing := [k for k in expected if k not in actual]:
                return f"{where}key {missing[0]!r} is missing"
            if extra := [k for k in actual if k not in expected]:
                return f"{where}key {extra[0]!r} should not be there"
            return next((d for k in expected
                         if (d := self._differ(actual[k], expected[k], f"{at}[{k!r}]"))), None)
        if isinstance(expected, Sequence) and not isinstance(expected, str):
            if not isinstance(actual, Sequence) or isinstance(actual, str):
                return f"{where}{_short(actual)} is not a list"
            if len(actual) != len(expected):
                return f"{where}{len(actual)} items, not {len(expected)}"
            return next((d for i, (a, e) in enumerate(zip(actual, expected, strict=True))
                         if (d := self._differ(a, e, f"{at}[{i}]"))), None)
        if isinstance(expected, (int, float)) and not isinstance(expected, bool):
            if not isinstance(actual, (int, float)) or isinstance(actual, bool):
                return f"{where}{_short(actual)} is not a number"
            if math.isclose(actual, expected, rel_tol=self.rel, abs_tol=self.abs):
                return None
            tolerance = max(self.rel * abs(expected), self.abs)
            return f"{where}{actual!r}, not {expected!r} (± {tolerance:.2g})"
        return None if actual == expected else f"{where}{_short(actual)}, not {_short(expected)}"


def approx(expected: Any, *, rel: float = REL, abs: float = ABS) -> Approx:
    """`expected` (a number, or dicts and lists of numbers) compared within tolerance.

    Like `pytest.approx`: `answer == approx({"a": 0.5, "b": 0.5})`. Numbers match when
    within `rel` of the expected value or within `abs`; other values must be equal.
    `approx(e).why_not(answer)` says what differs first ("at ['b']: 0.3, not 0.25"),
    for the message of `fail`.
    """
    return Approx(expected, rel, abs)


def raises(exc_type: type[BaseException], function: LearnerFunction, *args: Any,
           seed: int | None = None, hint: str | None = None) -> LearnerError:
    """Call `function(*args)` and expect it to raise `exc_type` (or a subclass).

    Like `pytest.raises`, decided on the error's type, not its sentence. Returns the
    `LearnerError` (its `error_message`, `line`) for further checks; fails the check,
    with a message for the learner, when the call returns or raises something else.
    """
    wanted = exc_type.__name__
    advice = hint or f"check the input first, and raise {wanted} when it is not allowed"
    try:
        result = function(*args, seed=seed)
    except LearnerError as error:
        if error.is_a(exc_type):
            return error
        observed = (f"{function.shown(args)} raised {error.type_name}"
                    f"{': ' + error.error_message if error.error_message else ''}"
                    if error.kind == "exception" else error.observed)
        fail(observed, f"it to raise {wanted}", hint=advice)
    fail(f"{function.shown(args)} returned {_short(result)}", f"it to raise {wanted}",
         hint=advice)


def leaves_arguments_alone(function: LearnerFunction, *args: Any,
                           seed: int | None = None) -> Any:
    """Call `function(*args)`; fail if it changed an argument in place. Returns its result.

    Arguments cross into the sandbox as JSON copies, so a plain call never shows an
    in-place change: this asks the box for the arguments after the call.
    """
    result, after = function.call_in_place(*args, seed=seed)
    for index, (before, now) in enumerate(zip(args, after, strict=True)):
        if approx(before).why_not(now) is not None:
            fail(f"{function.shown(args)} changed its argument {index + 1} to {_short(now)}",
                 "the argument left as it was and a new value returned",
                 hint="build a new dict or list and return it; do not change the one given")
    return result
