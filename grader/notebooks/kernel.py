"""Our checks inside a Jupyter kernel: what nbgrader's autograded test cells call.

`run_check("exercise-1", "test_weights_sum_to_one")` grades the notebook the way
`grade exercise-1 notebook.ipynb` does, so nbgrader's score equals ours:

- the learner's program is what the kernel holds now, by the same rule as
  `grader.check()` (`grader.runner.inputs`): each cell's last run, without our own
  check cells;
- it goes through `grade`'s own pipeline (grader.runner): joined and cleaned
  (`join_cells`), preflighted, loaded into a fresh in-process host (an `InProcess`
  channel) and checked with `run_check`. A fresh module, not the kernel's namespace:
  IPython defines `___` (its third-last output) and keeps whatever earlier runs left
  behind, so the live namespace can pass checks that the same file fails under `grade`;
- so every verdict and sentence is `grade`'s.

A failed check raises AssertionError, which nbgrader scores as 0 for the cell.
Nothing is written to stderr on success: nbgrader would count that as a failure.
Everything here runs in the learner's own kernel, which can patch it: its verdicts
are feedback. The grade is `grade batch --nbgrader-db`'s, computed from the
notebook's source in the sandbox and written over autograde's (docs/notebooks.md).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from grader import runner
from grader.checks import Check, Submission, load_checks
from grader.notebooks.history import kernel_runs
from grader.runner import Failure, load, preflight
from grader.runner.inputs import MARKER, kernel_source
from grader.runner.source import Source
from grader.sandbox.inprocess import InProcess

__all__ = ["MARKER", "grade_cells", "register_checks", "run_check"]

_checks: dict[str, list[Check]] = {}
_loaded: dict[str, tuple[tuple[str, ...], Submission | Failure]] = {}


def register_checks(exercise_id: str, source: str,
                    helpers: dict[str, str] | None = None) -> list[Check]:
    """Load a checks module from its source text (the export embeds it in a hidden test),
    with the helper modules it imports from its folder written beside it."""
    with tempfile.TemporaryDirectory(prefix="grade-checks-") as scratch:  # imported, then gone
        folder = Path(scratch)
        for name, text in (helpers or {}).items():
            (folder / f"{name}.py").write_text(text, encoding="utf-8")
        path = folder / f"{exercise_id.replace('-', '_')}_checks.py"
        path.write_text(source, encoding="utf-8")
        _checks[exercise_id] = load_checks(path)
    return _checks[exercise_id]


def _load(source: Source) -> Submission | Failure:
    """The learner's module loaded in a fresh in-process host, or why it cannot be graded."""
    refused = preflight(source)
    return refused if refused is not None else load(source, InProcess())


def grade_cells(exercise_id: str, check_id: str, source: Source) -> str:
    """Run one registered check on the learner's program; the passing note, or raise."""
    checks = {c.id: c for c in _checks.get(exercise_id, [])}
    if check_id not in checks:
        raise RuntimeError(f"no check {check_id!r} for {exercise_id}: run the notebook's "
                           "cells from the top, the first check cell loads the checks")
    key = (source.text,)
    if exercise_id not in _loaded or _loaded[exercise_id][0] != key:
        _loaded[exercise_id] = (key, _load(source))
    loaded = _loaded[exercise_id][1]
    if isinstance(loaded, Failure):
        raise AssertionError(f"{loaded.error}, so nothing could be checked")
    result = runner.judge(checks[check_id], loaded)
    if not result.passed:
        hint = f"\nhint: {result.hint}" if result.hint else ""
        detail = f"\n{result.detail}" if result.detail else ""
        raise AssertionError(f"{result.message}{hint}{detail}")
    return f"passed: {result.message}" if result.message != "passed" else "passed"


def run_check(exercise_id: str, check_id: str, checks: str | None = None,
              helpers: dict[str, str] | None = None) -> None:
    """Grade the notebook running in this kernel with one check; AssertionError if it fails."""
    if checks is not None:
        register_checks(exercise_id, checks, helpers)
    note = grade_cells(exercise_id, check_id,
                       kernel_source(kernel_runs(), f"{exercise_id}.ipynb"))
    print(note)
