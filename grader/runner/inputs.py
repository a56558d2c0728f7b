"""A `Source` from no path: bytes handed over (Dask, a server), or a Jupyter kernel's history.

`grader.check()` (grader/jupyter.py) and nbgrader's check cells (notebooks/kernel.py) both
grade `kernel_source(runs)`. A learner runs cells out of order, runs a cell that fails,
fixes it and runs it again, and never restarts. The rule, in full:

1. Our own cells do not count: nbgrader check cells (`# grade-check:`) and grading
   cells (`grader.check(...)`).
2. A *cell* is what the front-end says it is: the cell id JupyterLab, Notebook 7 and
   VS Code send with every run. Without one (older front-ends), a run is the same cell
   as an earlier run with the same text, or, when both only define names (defs,
   classes, `x = ...`, imports), with exactly the same names, or when the run just
   before it failed and is mostly the same text (a fix run straight after the error).
   `weather["cloudy"] = 0.3` defines nothing: it only changes `weather`, so it is a
   cell of its own.
3. Each cell counts once, as its LAST run: a run that raised or did not parse, or
   still held `___`, no longer counts once a later run of that cell replaced it. A
   failed run that nothing replaced still counts, exactly as the saved notebook would.
4. Each cell sits where it FIRST RAN WITHOUT ERROR (where it last ran, if it never
   did): a cell fixed after the demo ran keeps its place before the demo, and a demo
   that failed before its function existed comes after it once it has run cleanly.
5. Cells are named as the learner sees them: "code cell 3" when the kernel's saved
   notebook holds the cell's id (Jupyter Server names the notebook), else by the
   cell's first line.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from grader.kinds import ErrorKind
from grader.runner.notebook import join_cells
from grader.runner.read import _decode, _notebook
from grader.runner.source import Source, SubmissionError, check_text

MARKER = "# grade-check:"  # first line of every nbgrader check cell: not learner code
GRADING_CALL = re.compile(r"\bgrader\s*\.\s*check\s*\(")  # a notebook's grading cell


@dataclass(frozen=True)
class Run:
    """One run of one cell, as the kernel reported it."""

    source: str
    cell_id: str | None = None  # the front-end's id of the cell, when it sends one
    failed: bool = False  # raised, or did not parse


def ours(source: str) -> bool:
    """True for a check cell or a grading cell: grading code, not the learner's."""
    return source.lstrip().startswith(MARKER) or bool(GRADING_CALL.search(source))


def _bound_names(node: ast.AST) -> set[str] | None:
    """The names a statement binds by def, class, import or plain assignment; None if it
    does anything else (an assignment into `x[...]` or `x.attr` changes, not defines)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return set()  # a docstring or a bare literal
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AnnAssign):
        targets = [node.target]
    names: set[str] = set()
    for target in targets:
        inner = target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]
        for item in inner:
            item = item.value if isinstance(item, ast.Starred) else item
            if not isinstance(item, ast.Name):
                return None
            names.add(item.id)
    return names or None


def definitions_only(cell: str) -> frozenset[str] | None:
    """The names a cell defines, if all it does is define names; else None."""
    try:
        body = ast.parse(cell).body
    except (SyntaxError, ValueError):
        return None
    names: set[str] = set()
    for node in body:
        found = _bound_names(node)
        if found is None:
            return None
        names |= found
    return frozenset(names) or None


def first_line(cell: str) -> str:
    """The cell's first line that says something, as the learner sees it on screen."""
    for line in cell.splitlines():
        if line.strip():
            shown = line.strip()
            return shown if len(shown) <= 40 else shown[:39] + "…"
    return ""


def _a_fix_of(before: Run, run: Run) -> bool:
    """Whether `run` looks like `before` (which failed) edited and run again."""
    return before.failed and before.cell_id is None and difflib.SequenceMatcher(
        None, before.source, run.source).ratio() >= 0.6


def _cell_keys(runs: Sequence[Run]) -> list[object]:
    """Which cell each run belongs to (rule 2)."""
    keys: list[object] = []
    by_text: dict[str, object] = {}
    by_names: dict[frozenset[str], object] = {}
    for index, run in enumerate(runs):
        names = definitions_only(run.source) if run.cell_id is None else None
        key: object = run.cell_id
        if key is None:
            key = by_text.get(run.source, by_names.get(names, index) if names else index)
            if key == index and index and _a_fix_of(runs[index - 1], run):
                key = keys[-1]
        by_text.setdefault(run.source, key)
        if names:
            by_names[names] = key
        keys.append(key)
    return keys


def _last_runs(runs: Sequence[Run]) -> list[Run]:
    """The runs that make the program the kernel holds now, in order (rules 1 to 4)."""
    learner = [run for run in runs if not ours(run.source)]
    last_at: dict[object, int] = {}
    place: dict[object, int] = {}
    for index, key in enumerate(_cell_keys(learner)):
        last_at[key] = index
        if not learner[index].failed:
            place.setdefault(key, index)
    order = sorted(last_at, key=lambda key: place.get(key, last_at[key]))
    return [learner[last_at[key]] for key in order]


def program(runs: Sequence[Run]) -> list[str]:
    """The cells that make the program the kernel holds now, in order."""
    return [run.source for run in _last_runs(runs)]


def _label(run: Run, positions: Mapping[str, int]) -> str:
    if run.cell_id is not None and run.cell_id in positions:
        return f"code cell {positions[run.cell_id]}"
    return f'the cell "{first_line(run.source)}"' if first_line(run.source) else "an empty cell"


def kernel_source(runs: Sequence[Run], filename: str = "notebook.ipynb",
                  positions: Mapping[str, int] | None = None) -> Source:
    """The `Source` of what the kernel holds now (rule 5: each cell named by its
    position among the code cells of the saved notebook, `positions` by cell id, when
    it is there, else by its first line)."""
    chosen = _last_runs(runs)
    labels = [_label(run, positions or {}) for run in chosen]
    return join_cells([run.source for run in chosen], filename, labels)


def source_from_bytes(name: str, data: bytes, max_kb: int, size: int | None = None) -> Source:
    """The `Source` of a file handed over as bytes (a Dask worker's, a server's), read as
    `read` reads a file named `name`; SubmissionError if it is refused.

    `size` is the whole file's, when only its first bytes travelled: a file over
    `max_kb` is refused by its size, as on disk, without sending the rest.
    """
    size = len(data) if size is None else size
    if size > max_kb * 1024:
        raise SubmissionError(
            f"the file is too large ({size // 1024} KB; the limit is {max_kb} KB)",
            ErrorKind.TOO_LARGE)
    name = PurePath(name).name
    text = _decode(data)
    source = _notebook(text, name) if name.endswith(".ipynb") else Source(text, name)
    check_text(source)
    return source

