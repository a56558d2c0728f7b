"""Notebook skeletons: one `.ipynb` per exercise, built from its `.py` skeleton.

The skeleton's module docstring becomes the task (a markdown cell); its code is
split into cells at its top-level sections (a blank line followed by a comment,
a `def`, a `class` or the `if __name__ == "__main__":` demo). Cell ids are fixed,
so building twice gives the same bytes.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from grader.course import Course, Exercise
from grader.runner.notebook import statement_starts

MAIN = re.compile(r"""^if __name__ == ["']__main__["']:\s*(#.*)?$""")
_SECTION = re.compile(r"^(#|def |async def |class |@)")
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
# The last cell of every skeleton notebook: grades what the kernel has run (grader.jupyter).
GRADE_CELL = 'import grader\ngrader.check("{exercise}")'
GRADE_NOTE = ("Grade your work: run the cell below. It grades what you have run: each "
              "cell as you last ran it (no need to save first), and shows what to fix.")
# The first code cell: from `import grader` on, the kernel notes which of the learner's
# runs failed, so grader.check() grades each cell's last run (grader.runner.inputs).
SETUP_CELL = "import grader  # lets the grading cell at the end see which of your cells ran"


@dataclass
class Module:
    """A `.py` file as notebook material: its docstring and its code cells."""

    docstring: str
    cells: list[str] = field(default_factory=list)
    demo: int | None = None  # index of the cell that was the `__main__` block


def _docstring_end(source: str) -> tuple[str, int]:
    """The module docstring and the number of lines it takes (0 if there is none)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return "", 0
    first = tree.body[0] if tree.body else None
    if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        return ast.get_docstring(tree) or "", first.end_lineno or 0
    return "", 0


def split_module(source: str) -> Module:
    """Split a skeleton or solution into its docstring and code cells."""
    docstring, skip = _docstring_end(source)
    lines = source.splitlines()[skip:]
    starts = statement_starts(lines, comments=True) or set()
    cells: list[list[str]] = [[]]
    for number, line in enumerate(lines, 1):
        section = ((number in starts and _SECTION.match(line)) or MAIN.match(line))
        if section and cells[-1] and not lines[number - 2].strip():
            cells.append([])
        cells[-1].append(line)
    module = Module(docstring)
    for cell in cells:
        text = "\n".join(cell).strip("\n")
        if not text:
            continue
        first, *body = text.splitlines()
        if MAIN.match(first):  # in a notebook the demo is a cell of its own, unindented
            module.demo = len(module.cells)
            text = textwrap.dedent("\n".join(body))
        module.cells.append(text)
    return module


def _markdown(text: str, command: str) -> str:
    """Docstring prose as markdown: blanks and the grading command as inline code."""
    text = text.replace("___", "`___`")
    return re.sub(r"\bgrade (exercise-[\w-]+)", f"`{command}`", text)


def task_markdown(exercise: Exercise, docstring: str, notebook: str,
                  inline: bool = False) -> str:
    """The task cell: the skeleton's docstring in markdown, plus how to grade the notebook
    (`inline`: with the grading cell that ends a skeleton notebook)."""
    command = f"grade {exercise.id} {notebook}"
    head, _, body = docstring.partition("\n")
    title = head.strip().rstrip(".") or f"{exercise.id}: {exercise.title}"
    task = _markdown(body.strip(), command)
    if inline:  # the notebook ends with grader.check(): it grades the kernel, unsaved
        how = ("Run the cells from top to bottom after every change; the last cell grades "
               "what you have run, with no need to save. To grade it in a terminal, save it "
               + ("first." if command in task else f"first:\n\n    {command}"))
    else:
        how = "Run the cells from top to bottom after every change, and save the notebook"
        how += (" before you grade it." if command in task
                else f", then grade it in a terminal:\n\n    {command}")
    return f"# {title}\n\n{task}\n\n{how}\n"


def skeleton_notebook(exercise: Exercise, source: str, notebook: str) -> object:
    """The learner's notebook for one exercise, from its `.py` skeleton's text."""
    from nbformat import v4

    module = split_module(source)
    cells = [v4.new_markdown_cell(task_markdown(exercise, module.docstring, notebook, inline=True),
                                  id="task"),
             v4.new_code_cell(SETUP_CELL, id="setup")]
    for index, code in enumerate(module.cells, 1):
        if index - 1 == module.demo:
            cells.append(v4.new_markdown_cell("Try it: run the cell below to see your "
                                              "code at work.", id=f"try-{index}"))
        cells.append(v4.new_code_cell(code, id=f"code-{index}"))
    cells += [v4.new_markdown_cell(GRADE_NOTE, id="grade-note"),
              v4.new_code_cell(GRADE_CELL.format(exercise=exercise.id), id="grade")]
    return new_notebook(cells)


def new_notebook(cells: list[object]) -> object:
    """A notebook with a Python 3 kernel, as Jupyter would save it."""
    from nbformat import v4

    return v4.new_notebook(cells=cells, metadata={
        "kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}})


def notebook_json(notebook: object) -> str:
    """`notebook` validated and serialised the way nbformat (and Jupyter) write it."""
    import nbformat

    nbformat.validate(notebook)
    text: str = nbformat.writes(notebook)
    return text + "\n"


def write_notebook(notebook: object, path: Path) -> Path:
    """Validate `notebook` and write it to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(notebook_json(notebook), encoding="utf-8")
    return path


def notebook_name(exercise: Exercise) -> str:
    """The notebook's file name: the learner file's stem with .ipynb."""
    return Path(exercise.file).with_suffix(".ipynb").name


def notebook_text(exercise: Exercise, skeleton: str) -> str:
    """The skeleton notebook of `exercise` (built by `grade build` next to the .py)."""
    return notebook_json(skeleton_notebook(exercise, skeleton, notebook_name(exercise)))


def write_notebooks(course: Course, outdir: Path | None = None) -> list[Path]:
    """Write one skeleton notebook per exercise into `outdir` (default: exercises/)."""
    outdir = outdir if outdir is not None else course.root / course.exercises_dir
    return [write_notebook(
                skeleton_notebook(exercise, course.learner_path(exercise).read_text("utf-8"),
                                  notebook_name(exercise)),
                outdir / notebook_name(exercise))
            for exercise in course.exercises]
