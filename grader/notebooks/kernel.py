"""Our checks inside a Jupyter kernel: what nbgrader's autograded test cells call.

`run_check("exercise-1", "test_weights_sum_to_one")` grades the notebook the way
`grade exercise-1 notebook.ipynb` does, so nbgrader's score equals ours:

- the learner's program is the raw source of the code cells the kernel has run,
  in order, without our own check cells (IPython keeps it in its history);
- it is joined and cleaned exactly as `grade` does (`join_cells`), checked for
  `___` blanks, and loaded into a fresh in-process `Host`. A fresh module, not the
  kernel's namespace: IPython defines `___` (its third-last output) and keeps
  whatever earlier runs left behind, so the live namespace can pass checks that
  the same file fails under `grade`;
- the check runs against that module through the same `Submission` proxy.

A failed check raises AssertionError, which nbgrader scores as 0 for the cell.
Nothing is written to stderr on success: nbgrader would count that as a failure.
nbgrader's model trusts the kernel, so this module does not sandbox anything.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from grader.checks import Check, CheckFailed, Submission, load_checks
from grader.checks.errors import explain
from grader.notebooks.source import NotebookSource, join_cells
from grader.runner.source import describe_blanks, find_blanks
from grader.sandbox.host import Host

MARKER = "# grade-check:"  # first line of every check cell: these are not learner code
GRADING_CALL = re.compile(r"\bgrader\s*\.\s*check\s*\(")  # a notebook's grading cell

_checks: dict[str, list[Check]] = {}
_loaded: dict[str, tuple[tuple[str, ...], HostChannel | str]] = {}


class HostChannel:
    """A `Submission` channel over an in-process `Host` (no box: the kernel is trusted)."""

    def __init__(self, host: Host, printed: str) -> None:
        self.host = host
        self.printed = printed

    def request(self, op: str, **fields: Any) -> dict[str, Any]:
        return self.host.handle({"op": op, **fields})


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


def _load(exercise_id: str, source: NotebookSource, filename: str) -> HostChannel | str:
    """The learner's module loaded in a fresh Host, or why it cannot be graded."""
    if blanks := find_blanks(source):
        return source.relocate_text(describe_blanks(blanks)) + \
            ": replace each ___ with your answer"
    host = Host()
    loaded = host.handle({"op": "load", "source": str(source), "filename": filename})
    if "error" in loaded:
        return source.relocate_text(f"your notebook {explain(loaded['error'], source)}")
    return HostChannel(host, str(loaded.get("stdout", "")))


def grade_cells(exercise_id: str, check_id: str, cells: list[str],
                filename: str = "notebook.ipynb") -> str:
    """Run one registered check on a program given as cells; the passing note, or raise."""
    checks = {c.id: c for c in _checks.get(exercise_id, [])}
    if check_id not in checks:
        raise RuntimeError(f"no check {check_id!r} for {exercise_id}: run the notebook's "
                           "cells from the top, the first check cell loads the checks")
    key = tuple(cells)
    if _loaded.get(exercise_id, ((), ""))[0] != key:
        _loaded[exercise_id] = (key, _load(exercise_id, join_cells(cells), filename))
    channel = _loaded[exercise_id][1]
    if isinstance(channel, str):
        raise AssertionError(f"{channel}, so nothing could be checked")
    # The joined source (a NotebookSource): learner errors then name cells, as in `grade`.
    submission = Submission(channel, filename, printed=channel.printed,
                            source=join_cells(cells))
    try:
        note = checks[check_id].function(submission)
    except CheckFailed as failed:
        hint = f"\nhint: {failed.hint}" if failed.hint else ""
        detail = f"\n{failed.detail}" if failed.detail else ""
        raise AssertionError(f"{failed.message}{hint}{detail}") from None
    except Exception as exc:  # `grade` scores a check that trips over an answer as 0 too
        raise AssertionError(f"could not check your answer ({type(exc).__name__}: "
                             f"{exc})") from None
    return f"passed: {note}" if isinstance(note, str) and note else "passed"


def run_check(exercise_id: str, check_id: str, checks: str | None = None,
              helpers: dict[str, str] | None = None) -> None:
    """Grade the notebook running in this kernel with one check; AssertionError if it fails."""
    if checks is not None:
        register_checks(exercise_id, checks, helpers)
    note = grade_cells(exercise_id, check_id, learner_cells(_history()),
                       f"{exercise_id}.ipynb")
    print(note)
