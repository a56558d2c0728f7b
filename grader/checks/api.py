"""Declaring checks (`@check`), failing them (`fail`), and finding them in a file.

Every checks file imports this, a skeleton's report included, so it defines its
records without dataclasses (which import inspect, ast and dis) and imports those only
where a function needs them.
"""

# No `from __future__ import annotations`: a NamedTuple's field annotations given as text
# are each compiled by typing (course/plan.py says so too; the first compile() of a
# process also sets up the parser, 1.3 ms of a learner's run).

import functools
import importlib.util
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal, NamedTuple, NoReturn, TypeVar, get_args

F = TypeVar("F", bound=Callable[..., Any])
# public: shipped to learners by `grade release`; hidden: only where work is graded.
Visibility = Literal["public", "hidden"]


class Case(SimpleNamespace):
    """One case of a check with `cases=`: its label, verdict and sentence (its fields
    are its `vars()`, which the runner reads)."""

    name: str
    passed: bool
    message: str

    def __init__(self, name: str, passed: bool, message: str) -> None:
        super().__init__(name=name, passed=passed, message=message)


class CasesPassed(str):
    """A passing note of a check with cases, carrying each case's verdict."""

    cases: list[Case]


class Drift(NamedTuple):
    """A frequency check's miss as data: one outcome's expected and observed shares."""

    outcome: str
    expected: float
    observed: float


class CheckFailed(AssertionError):
    """A check's verdict: what was observed, what was expected, and a hint.

    `hint` may be a list, from a nudge to a near-answer: `hints` keeps them all, `hint`
    is the first (the learner's loop shows deeper ones on later failures).
    An AssertionError so that pytest reports it as an ordinary test failure.
    """

    def __init__(self, observed: str, expected: str | None = None,
                 hint: str | Sequence[str] | None = None, detail: str | None = None,
                 drift: Drift | None = None, cases: Sequence[Case] = (),
                 credit: float = 0.0) -> None:
        self.observed = observed
        self.cases = list(cases)  # a check with cases: every case's verdict
        self.credit = credit  # the share of the points earned anyway (cases passed)
        self.expected = expected
        self.hints = [hint] if isinstance(hint, str) else list(hint or [])
        self.hint = self.hints[0] if self.hints else None
        self.detail = detail
        self.drift = drift
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = self.observed
        if self.expected:
            text += f"; expected {self.expected}"
        return text + ("" if text.endswith((".", "?", "!")) else ".")


# The public functions' annotations are text (no `from __future__` here): the reference
# (docs/reference.md, from their signatures) shows them as an author writes them.
def fail(observed: str, expected: "str | None" = None, *,
         hint: "str | Sequence[str] | None" = None, detail: "str | None" = None,
         drift: "Drift | None" = None) -> NoReturn:
    """Fail the check: observed vs expected, a hint (or hints, deepening) short of the answer.

    A frequency check also passes the `drift` it saw, for the class report to count.
    """
    raise CheckFailed(observed, expected, hint, detail, drift)


class Check(NamedTuple):
    """A check function with the name a learner sees and its points."""

    name: str
    points: float
    function: Callable[..., Any]
    visibility: Visibility = "public"
    cases: int = 0  # how many cases it runs, each worth points / cases; 0: all or nothing

    @property
    def id(self) -> str:
        return self.function.__name__

    @property
    def line(self) -> int:
        function = self.function
        while hasattr(function, "__wrapped__"):  # cases= wraps it (inspect.unwrap's walk)
            function = function.__wrapped__
        line: int = function.__code__.co_firstlineno
        return line


def _label(case: object, limit: int = 60) -> str:
    text = repr(case)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _with_cases(function: Callable[..., Any],
                cases: Sequence[object] | Mapping[str, object]) -> Callable[..., Any]:
    """`function(submission, case)` run on every case: credit per case, every case reported."""
    named = list(cases.items()) if isinstance(cases, Mapping) else \
        [(_label(c), c) for c in cases]

    @functools.wraps(function)
    def run(submission: Any) -> CasesPassed:
        seen: list[Case] = []
        failures: list[tuple[str, CheckFailed]] = []
        for label, case in named:
            try:
                function(submission, case)
            except CheckFailed as exc:
                seen.append(Case(label, False, exc.message))
                failures.append((label, exc))
            else:
                seen.append(Case(label, True, "passed"))
        passed = len(named) - len(failures)
        if failures:
            label, first = failures[0]
            raise CheckFailed(f"{passed} of {len(named)} cases pass; {label}: {first.observed}",
                              first.expected, first.hints, first.detail, first.drift,
                              cases=seen, credit=passed / len(named))
        note = CasesPassed(f"all {len(named)} cases pass")
        note.cases = seen
        return note

    import inspect  # here: only a check with cases= needs a signature made

    # pytest (grader.pytest_plugin) reads this: one fixture, `submission`, not `case`.
    run.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("submission", inspect.Parameter.POSITIONAL_OR_KEYWORD)])
    return run


def check(name: str, points: float, visibility: "Visibility" = "public", *,
          cases: "Sequence[object] | Mapping[str, object] | None" = None
          ) -> "Callable[[F], F]":
    """Mark a ``test_*`` function as a graded check worth `points`.

    A ``visibility="hidden"`` check is left out of the learner's release (`grade release`)
    and runs only where work is graded (batch, Gradescope, PrairieLearn, ...).

    With `cases` (a list, or a dict of label -> case), the function takes
    ``(submission, case)`` and runs once per case: each case earns ``points / len(cases)``,
    every case's verdict is reported (`CheckResult.cases`), and the message names the
    first case that failed.
    """
    if visibility not in get_args(Visibility):
        raise ValueError(f"visibility must be 'public' or 'hidden', not {visibility!r}")
    if cases is not None and not cases:
        raise ValueError("cases= needs at least one case")

    def mark(function: F) -> F:
        target = _with_cases(function, cases) if cases is not None else function
        target.__grade_check__ = Check(  # type: ignore[attr-defined]
            name, float(points), target, visibility, len(cases or ()))
        return target  # type: ignore[return-value]

    return mark


def local_modules(path: Path, source: str | None = None) -> dict[str, Path]:
    """The helper modules a checks file imports from its own folder: name -> file.

    These travel with the checks file wherever it runs (e.g. in an nbgrader notebook).
    `source` is the file's text as it will ship (a release's, without hidden checks).
    """
    import ast  # here: only `grade release` and the nbgrader export ask

    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source)
    names = {alias.name for node in tree.body if isinstance(node, ast.Import)
             for alias in node.names}
    names |= {node.module for node in tree.body
              if isinstance(node, ast.ImportFrom) and node.module and not node.level}
    folder = path.resolve().parent
    return {name: folder / f"{name}.py" for name in sorted(names)
            if (folder / f"{name}.py").is_file()}


def load_checks(path: Path) -> list[Check]:
    """Import a checks file and return its checks in the order they are written.

    Helper modules beside the file can be imported by name while it loads.

    Raises whatever importing the file raises: `grade check` reports it with a line.
    """
    name = f"grade_checks_{path.stem}_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    # A checks file may import helper modules that sit next to it (checks/markov.py).
    folder = str(path.resolve().parent)
    before = set(sys.modules)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(folder)
        # Helpers stay bound in this checks module, but leave the module cache: another
        # course's checks/markov.py must not get this one.
        for helper in set(sys.modules) - before - {module.__name__}:
            if str(getattr(sys.modules[helper], "__file__", "")).startswith(folder + os.sep):
                del sys.modules[helper]
    found = [getattr(v, "__grade_check__", None) for v in vars(module).values()]
    checks = [c for c in found if isinstance(c, Check) and c.function.__module__ == name]
    return sorted(checks, key=lambda c: c.line)
