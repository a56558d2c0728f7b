"""Our checks inside a Jupyter kernel: what nbgrader's autograded test cells call.

`run_check("exercise-1", "test_weights_sum_to_one")` grades the notebook the way
`grade exercise-1 notebook.ipynb` does, so nbgrader's score equals ours:

- the learner's program is the raw source of the code cells the kernel has run,
  in order, without our own check cells (IPython keeps it in its history);
- it goes through `grade`'s own pipeline (grader.runner): joined and cleaned
  (`join_cells`), preflighted, loaded into a fresh in-process host (an `InProcess`
  channel) and checked with `run_check`. A fresh module, not the kernel's namespace:
  IPython defines `___` (its third-last output) and keeps whatever earlier runs left
  behind, so the live namespace can pass checks that the same file fails under `grade`;
- so every verdict and sentence is `grade`'s.

A failed check raises AssertionError, which nbgrader scores as 0 for the cell.
Nothing is written to stderr on success: nbgrader would count that as a failure.
nbgrader's model trusts the kernel, so this module does not sandbox anything.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from grader import runner
from grader.checks import Check, Submission, load_checks
from grader.runner import Failure, check, load
from grader.runner.notebook import join_cells
from grader.sandbox.inprocess import InProcess

MARKER = "# grade-check:"  # first line of every check cell: these are not learner code
GRADING_CALL = re.compile(r"\bgrader\s*\.\s*check\s*\(")  # a notebook's grading cell

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


def learner_cells(history: list[str]) -> list[str]:
    """The cells the kernel ran, with our check cells (and the running one) and the
    notebook's own grading cells (`grader.check(...)`) blanked out.

    Blanked, not dropped, so "code cell 3" still means the third code cell.
    """
    return ["" if cell.lstrip().startswith(MARKER) or GRADING_CALL.search(cell) else cell
            for cell in history]


def _history() -> list[str]:
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise RuntimeError("run_check runs inside a Jupyter kernel")
    return list(shell.history_manager.input_hist_raw[1:])  # [0] is always ""


def _load(cells: list[str], filename: str) -> Submission | Failure:
    """The learner's module loaded in a fresh in-process host, or why it cannot be graded."""
    source = join_cells(cells, filename)
    refused = check(source)
    return refused if refused is not None else load(source, InProcess(), 0.0)


def grade_cells(exercise_id: str, check_id: str, cells: list[str],
                filename: str = "notebook.ipynb") -> str:
    """Run one registered check on a program given as cells; the passing note, or raise."""
    checks = {c.id: c for c in _checks.get(exercise_id, [])}
    if check_id not in checks:
        raise RuntimeError(f"no check {check_id!r} for {exercise_id}: run the notebook's "
                           "cells from the top, the first check cell loads the checks")
    key = tuple(cells)
    if exercise_id not in _loaded or _loaded[exercise_id][0] != key:
        _loaded[exercise_id] = (key, _load(cells, filename))
    loaded = _loaded[exercise_id][1]
    if isinstance(loaded, Failure):
        raise AssertionError(f"{loaded.error}, so nothing could be checked")
    result = runner.run_check(checks[check_id], loaded)
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
    note = grade_cells(exercise_id, check_id, learner_cells(_history()),
                       f"{exercise_id}.ipynb")
    print(note)
