"""`grade export nbgrader DIR`: the course as an nbgrader course directory.

One assignment (default ``exercises``) with one notebook per exercise, named by
exercise id (``source/exercises/exercise-1.ipynb``), so grades map back without
the course. Each notebook holds:

- the task (a locked markdown cell, from the skeleton's docstring);
- the skeleton's cells. Where the solution differs from the skeleton, the cell is
  an nbgrader solution cell: the differing statements sit between
  ``### BEGIN SOLUTION`` / ``### END SOLUTION`` (widened to whole statements of one
  block, so nbgrader's stub leaves valid Python), with the skeleton's version just
  above them as comments, so the released notebook still shows the scaffolding;
- one locked autograded test cell per check, worth the check's points. Its code is
  a hidden test (``### BEGIN HIDDEN TESTS``) calling `grader.notebooks.kernel.run_check`;
  the first one also carries the checks file's source. The kernel needs `grade`
  installed.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from grader.authoring.markers import strip_markers
from grader.checks import Check, load_checks
from grader.checks.api import local_modules
from grader.course import Course, Exercise
from grader.notebooks.build import Module, new_notebook, split_module, task_markdown, write_notebook
from grader.notebooks.kernel import MARKER

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
DELIMITERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
DEFAULT_ASSIGNMENT = "exercises"

CONFIG = '''"""nbgrader configuration, written by `grade export nbgrader`.

Run nbgrader from this folder:
    nbgrader generate_assignment {assignment}
    nbgrader autograde {assignment}
The notebooks' autograded tests call the `grade` package: install it (pip install
grade) wherever nbgrader runs notebooks, i.e. in the kernel's environment.
"""

c = get_config()  # noqa: F821 (nbgrader provides it)
# A check cell may draw tens of thousands of samples: allow it time.
c.Execute.timeout = {timeout}
'''


class ExportError(Exception):
    """The course cannot be exported as it is; the message says what to change."""


@dataclass(frozen=True)
class Region:
    """Solution lines [start, end) of a cell (0-based) and their skeleton lines."""

    start: int
    end: int
    skeleton: tuple[str, ...]


def slug(text: str) -> str:
    """An nbgrader grade_id for a check name: letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "check"


def nbgrader_meta(grade_id: str, *, grade: bool = False, solution: bool = False,
                  locked: bool = False, points: float | None = None) -> dict[str, object]:
    meta: dict[str, object] = {"grade": grade, "grade_id": grade_id, "locked": locked,
                               "schema_version": 3, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _statements(tree: ast.AST) -> list[list[ast.stmt]]:
    """Every statement's chain of enclosing statements, outermost first, itself last."""
    chains: list[list[ast.stmt]] = []

    def visit(node: ast.AST, chain: list[ast.stmt]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                chains.append([*chain, child])
                visit(child, [*chain, child])
            else:
                visit(child, chain)

    visit(tree, [])
    return chains


def _widen(chains: list[list[ast.stmt]], lines: Iterable[int]) -> tuple[int, int] | None:
    """The smallest run of sibling statements covering the code on `lines` (1-based),
    as 0-based [start, end); None when those lines hold no code."""
    touched = []
    for line in lines:
        holding = [c for c in chains if c[-1].lineno <= line <= (c[-1].end_lineno or 0)]
        if holding:
            touched.append(max(holding, key=len))
    if not touched:
        return None
    depth = 0
    while all(len(c) > depth + 1 for c in touched) and len({id(c[depth]) for c in touched}) == 1:
        depth += 1
    units = {id(c[depth]): c[depth] for c in touched}.values()
    return min(u.lineno for u in units) - 1, max(u.end_lineno or u.lineno for u in units)


def _code(line: str) -> bool:
    return bool(line.strip()) and not line.lstrip().startswith("#")


def solution_regions(skeleton: str, solution: str) -> tuple[list[str], list[Region]]:
    """The solution cell's lines and the regions where it differs from the skeleton's."""
    old, new = skeleton.splitlines(), solution.splitlines()
    chains = _statements(ast.parse(solution))
    spans: list[tuple[int, int]] = []
    for tag, _, _, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False) \
            .get_opcodes():
        if tag == "equal" or not any(_code(line) for line in new[j1:j2]):
            continue
        widened = _widen(chains, [j + 1 for j in range(j1, j2) if _code(new[j])])
        assert widened is not None
        spans.append((min(j1, widened[0]), max(j2, widened[1])))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:  # overlapping: one block, widened again
            lines = range(merged[-1][0] + 1, max(end, merged[-1][1]) + 1)
            wide = _widen(chains, [n for n in lines if _code(new[n - 1])]) or (start, end)
            merged[-1] = (min(merged[-1][0], wide[0]), max(end, wide[1]))
        else:
            merged.append((start, end))
    return new, [Region(s, e, tuple(_skeleton_span(old, new, s, e))) for s, e in merged]


def _skeleton_span(old: list[str], new: list[str], start: int, end: int) -> list[str]:
    """The skeleton's lines that correspond to solution lines [start, end)."""
    opcodes = difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()

    def to_old(j: int, at_end: bool) -> int:
        for tag, i1, i2, j1, j2 in opcodes:
            if tag == "equal" and j1 <= j <= j2:
                return i1 + (j - j1)
            if j1 < j < j2 or j == (j2 if at_end else j1):  # in or at the edge of a change
                return i2 if at_end else i1
        return len(old) if at_end else 0

    return old[to_old(start, False):to_old(end, True)]


def _template(skeleton: Iterable[str], indent: str) -> list[str]:
    """The skeleton's version of a region as comments, minus "your code here" lines."""
    out = []
    for line in skeleton:
        text = line.strip()
        if not text or re.fullmatch(r"#\s*your code here\.?", text, re.IGNORECASE):
            continue
        if text.startswith("#"):
            out.append(line)
        else:
            body = line[len(indent):] if line.startswith(indent) else text
            out.append(f"{indent}# {body}")
    return out


def solution_cell_source(skeleton: str, solution: str) -> str | None:
    """The nbgrader source of a cell with its solution marked; None if nothing differs."""
    lines, regions = solution_regions(skeleton, solution)
    if not regions:
        return None
    out: list[str] = []
    at = 0
    for region in regions:
        first = next(line for line in lines[region.start:region.end] if _code(line))
        indent = first[: len(first) - len(first.lstrip())]
        out += lines[at:region.start]
        out += _template(region.skeleton, indent)
        out += [indent + BEGIN, *lines[region.start:region.end], indent + END]
        at = region.end
    return "\n".join(out + lines[at:])


def _embedded(source: str) -> str:
    """The checks file's text as a Python literal that is still readable."""
    if "'''" not in source and not source.endswith("\\"):
        return "r'''" + source + "'''"
    return repr(source)


def check_cell_source(exercise: Exercise, check: Check, checks_source: str | None,
                      helpers: dict[str, str] | None = None) -> str:
    embedded = f", checks={_embedded(checks_source)}" if checks_source is not None else ""
    if helpers:
        shown = ", ".join(f"{name!r}: {_embedded(text)}" for name, text in helpers.items())
        embedded += f", helpers={{{shown}}}"
    points = f"{check.points:g} point{'s' if check.points != 1 else ''}"
    return "\n".join([
        f"{MARKER} {check.name} ({points})",
        "# A hidden test: it runs when your notebook is graded.",
        BEGIN_HIDDEN,
        "from grader.notebooks.kernel import run_check",
        f"run_check({exercise.id!r}, {check.id!r}{embedded})",
        END_HIDDEN,
    ])


def _pair_cells(exercise: Exercise, skeleton: Module, solution: Module) -> list[tuple[str, str]]:
    if len(skeleton.cells) != len(solution.cells):
        raise ExportError(
            f"{exercise.id}: the skeleton splits into {len(skeleton.cells)} cells but the "
            f"solution into {len(solution.cells)}; keep the same section comments, defs and "
            "blank lines in both so their cells pair up")
    return list(zip(skeleton.cells, solution.cells, strict=True))


def exercise_notebook(course: Course, exercise: Exercise) -> object:
    """The nbgrader source notebook of one exercise."""
    from nbformat import v4

    skeleton_text = course.learner_path(exercise).read_text(encoding="utf-8")
    # As a reader sees it: our authoring markers are not nbgrader's.
    solution_text = strip_markers(course.solution_path(exercise).read_text(encoding="utf-8"))
    checks_path = course.checks_path(exercise)
    checks_source = checks_path.read_text(encoding="utf-8")
    for path, text in [(course.learner_path(exercise), skeleton_text),
                       (course.solution_path(exercise), solution_text),
                       (checks_path, checks_source)]:
        if found := [d for d in DELIMITERS if d in text]:
            raise ExportError(f"{path} contains {found[0]!r}, which nbgrader reads as a "
                              "marker; reword it")
    skeleton, solution = split_module(skeleton_text), split_module(solution_text)
    name = f"{exercise.id}.ipynb"
    cells = [v4.new_markdown_cell(task_markdown(exercise, skeleton.docstring, name), id="task",
                                  metadata=nbgrader_meta("task", locked=True))]
    for index, (old, new) in enumerate(_pair_cells(exercise, skeleton, solution), 1):
        marked = solution_cell_source(old, new)
        meta = nbgrader_meta(f"answer-{index}", solution=True) if marked else {}
        cells.append(v4.new_code_cell(marked or new, id=f"code-{index}", metadata=meta))
    cells.append(v4.new_markdown_cell(
        f"## Checks\n\nThe cells below are the checks of `grade {exercise.id}`, with their "
        "points. They are hidden until your notebook is graded.", id="checks",
        metadata=nbgrader_meta("checks", locked=True)))
    checks = load_checks(checks_path)
    ids = [slug(c.name) for c in checks]
    if len(set(ids)) != len(ids):
        raise ExportError(f"{exercise.id}: two checks have names that differ only in "
                          "punctuation or case; nbgrader needs distinct ids")
    helpers = {name: path.read_text(encoding="utf-8")
               for name, path in local_modules(checks_path).items()}
    for number, (check, grade_id) in enumerate(zip(checks, ids, strict=True)):
        source = (check_cell_source(exercise, check, checks_source, helpers) if number == 0
                  else check_cell_source(exercise, check, None))
        cells.append(v4.new_code_cell(source, id=f"check-{number + 1}", metadata=nbgrader_meta(
            grade_id, grade=True, locked=True, points=check.points)))
    return new_notebook(cells)


def export_nbgrader(course: Course, outdir: Path,
                    assignment: str = DEFAULT_ASSIGNMENT) -> list[Path]:
    """Write `outdir/nbgrader_config.py` and `outdir/source/<assignment>/<id>.ipynb`."""
    if not re.fullmatch(r"[\w-]+", assignment):
        raise ExportError(f"assignment name {assignment!r}: use letters, digits, - and _")
    notebooks = [exercise_notebook(course, e) for e in course.exercises]  # fail before writing
    folder = outdir / "source" / assignment
    written = [write_notebook(nb, folder / f"{e.id}.ipynb")
               for e, nb in zip(course.exercises, notebooks, strict=True)]
    timeout = max(30, 3 * max(int(course.limits_for(e).time_limit) for e in course.exercises))
    config = outdir / "nbgrader_config.py"
    config.write_text(CONFIG.format(assignment=assignment, timeout=timeout), encoding="utf-8")
    return [config, *written]
