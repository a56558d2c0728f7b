"""docs/reference.md, the author API's reference, generated from its docstrings.

`python -m grader.authoring.reference > docs/reference.md` rewrites it; a test fails
when the file is not what this prints, so the reference never drifts from the code.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from grader.checks import (
    LearnerError,
    LearnerFunction,
    Submission,
    approx,
    check,
    fail,
    leaves_arguments_alone,
    raises,
)
from grader.checks import stats as stats_module
from grader.checks.compare import Approx

HEADER = """\
# Reference: the check author's API

Generated from the docstrings by `python -m grader.authoring.reference > docs/reference.md`
(tests/test_reference.py fails when this file is out of date). The guide is
[authoring.md](authoring.md). Everything below is imported from `grader.checks`,
except the statistics helpers (`grader.checks.stats`).
"""

Entry = tuple[str, Any, list[str]]  # heading, object, members to list under it
ENTRIES: list[Entry] = [
    ("check", check, []),
    ("fail", fail, []),
    ("Submission", Submission, ["filename", "printed", "source", "has", "value", "function"]),
    ("LearnerFunction", LearnerFunction, ["__call__", "draw", "call_in_place", "shown"]),
    ("LearnerError", LearnerError, ["is_a", "qualified_name"]),
    ("raises", raises, []),
    ("approx", approx, []),
    ("Approx", Approx, ["why_not"]),
    ("leaves_arguments_alone", leaves_arguments_alone, []),
    ("stats", stats_module, ["tolerance", "expect_frequencies", "frequencies", "histogram"]),
]
ATTRIBUTES = {  # plain attributes have no docstring of their own: said here, once
    "filename": "The learner file's name as graded (`exercise_1.py`, or the notebook's).",
    "printed": "What the learner's file printed while loading (capped).",
    "source": "The learner's Python source (a notebook's code cells joined).",
}


class _Written(str):
    """An annotation as its source spells it: shown without quotes."""

    def __repr__(self) -> str:
        return str(self)


def _signature(thing: Callable[..., Any], name: str) -> str:
    try:  # annotations are strings here (PEP 563): shown as written, without quotes
        signature = inspect.signature(thing)
    except (TypeError, ValueError):
        return name
    parameters = [p.replace(annotation=_Written(p.annotation)) if isinstance(p.annotation, str)
                  else p for p in signature.parameters.values()]
    returns = signature.return_annotation
    return name + str(signature.replace(parameters=parameters, return_annotation=_Written(
        returns) if isinstance(returns, str) else returns))


def _doc(thing: Any) -> str:
    return inspect.cleandoc(thing.__doc__ or "").strip()


def _member(owner: Any, name: str) -> str:
    if name in ATTRIBUTES:
        return f"- `{name}`: {ATTRIBUTES[name]}"
    value = inspect.getattr_static(owner, name)
    if isinstance(value, property):
        return f"- `{name}` (property): {_doc(value)}"
    function = getattr(owner, name)
    signature = _signature(function, "fn" if name == "__call__" else name)
    signature = signature.replace("(self, ", "(").replace("(self)", "()")
    doc = _doc(function).replace("\n", "\n  ")
    return f"- `{signature}`: {doc}"


def render() -> str:
    """The whole reference as Markdown."""
    parts = [HEADER]
    for heading, thing, members in ENTRIES:
        parts.append(f"## `{heading}`\n")
        if inspect.isfunction(thing):
            parts.append(f"```python\n{_signature(thing, heading)}\n```\n")
        parts.append(_doc(thing) + "\n")
        if members:
            parts.append("\n".join(_member(thing, m) for m in members) + "\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
