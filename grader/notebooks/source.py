"""A learner's notebook as one Python module, the way the kernel ran it, line for line.

Code cells are joined in order, one blank line after each, so every line of the
joined source belongs to exactly one cell: messages that name "line 14" can be
turned back into "code cell 3, line 2". IPython-only lines (magics, shell escapes,
help lines) are replaced one for one by plain Python with a note, never dropped,
so line numbers never shift.
"""

from __future__ import annotations

import io
import json
import re
import tokenize
from dataclasses import dataclass
from typing import TYPE_CHECKING

from grader import learner_text as lt
from grader.results import ErrorKind, ExerciseResult

if TYPE_CHECKING:  # grader.runner imports this module: import its error lazily
    from grader.runner.source import SubmissionError

# Cell magics whose body is Python: the grader runs the body once, as the kernel would.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})

_HELP = re.compile(r"^\s*(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")
_ASSIGNED = re.compile(r"^(\s*)([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*[%!]")
_LINE = re.compile(r"\b(on|running) line (\d+)\b")
_LINES = re.compile(r"\bon lines ((?:\d+, )*\d+ and \d+)\b")


@dataclass(frozen=True)
class CellSpan:
    """Where code cell `number` (1-based, code cells only) sits in the joined source."""

    number: int
    first_line: int
    lines: int


@dataclass(frozen=True)
class Skipped:
    """An IPython-only line the grader replaced: where it was and what it said."""

    cell: int
    line: int
    text: str


class NotebookSource(str):
    """The joined Python source (a `str`), plus the map back to cells and what was skipped."""

    cells: tuple[CellSpan, ...]
    skipped: tuple[Skipped, ...]

    def __new__(cls, text: str, cells: tuple[CellSpan, ...] = (),
                skipped: tuple[Skipped, ...] = ()) -> NotebookSource:
        self = super().__new__(cls, text)
        self.cells = cells
        self.skipped = skipped
        return self

    def locate(self, line: int) -> tuple[int, int] | None:
        """(code cell number, line in that cell) of a line of the joined source."""
        for span in self.cells:
            if span.first_line <= line < span.first_line + span.lines:
                return span.number, line - span.first_line + 1
        return None

    def where(self, line: int) -> str:
        found = self.locate(line)
        return f"code cell {found[0]}, line {found[1]}" if found else f"line {line}"

    def _where_many(self, lines: list[int]) -> str:
        by_cell: dict[str, list[str]] = {}
        for line in lines:
            cell, local = self.locate(line) or (0, line)
            by_cell.setdefault(f"code cell {cell}" if cell else "the notebook", []).append(
                str(local))
        parts = [f"{cell} (line{'s' if len(nums) > 1 else ''} {_and(nums)})"
                 for cell, nums in by_cell.items()]
        return _and(parts)

    def relocate_text(self, text: str) -> str:
        """`text` with the grader's "on line N" phrases pointing at cells instead."""
        text = _LINES.sub(lambda m: "in " + self._where_many(
            [int(n) for n in re.findall(r"\d+", m.group(1))]), text)
        return _LINE.sub(lambda m: ("in " if m.group(1) == "on" else "running ")
                         + self.where(int(m.group(2))), text)

    def relocate(self, result: ExerciseResult) -> ExerciseResult:
        """The result with line numbers as cells, and a note on skipped lines if it failed."""
        error = result.error
        if error is not None:
            error = self.relocate_text(error.replace("your file", "your notebook"))
            if self.skipped:
                shown = "; ".join(f"code cell {s.cell}, line {s.line}: {lt.cut(s.text, 80)}"
                                  for s in self.skipped[:3])
                more = f" and {len(self.skipped) - 3} more" if len(self.skipped) > 3 else ""
                error += (f" (note: the grader does not run IPython magics or shell "
                          f"commands, so it skipped {shown}{more})")
            # model_copy does not validate: bound the learner's magic lines here
            error = lt.bounded(error, lt.ERROR_CHARS)
        checks = [c.model_copy(update={"message": lt.bounded(self.relocate_text(c.message),
                                                             lt.ERROR_CHARS)})
                  for c in result.checks]
        found = self.locate(result.error_line) if result.error_line else None
        cell, line = found if found else (None, None)
        return result.model_copy(update={"error": error, "checks": checks,
                                         "error_cell": cell, "error_line": line})


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _is_candidate(line: str) -> bool:
    stripped = line.lstrip()
    return (stripped.startswith(("%", "!")) or bool(_HELP.match(line))
            or bool(_ASSIGNED.match(line)))


def statement_starts(lines: list[str], comments: bool = False) -> set[int] | None:
    """1-based numbers of lines that begin a statement (not inside a string, bracket
    or continuation), and with `comments` lines holding only a comment; None if the
    lines cannot be tokenized."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    starts: set[int] = set()
    depth, fresh = 0, True
    skip = {tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER, tokenize.COMMENT}
    for token in tokens:
        if token.type in (tokenize.NEWLINE, tokenize.NL):
            fresh = fresh or depth == 0
            continue
        if comments and fresh and token.type == tokenize.COMMENT:
            starts.add(token.start[0])
        if token.type in skip:
            continue
        if fresh:
            starts.add(token.start[0])
            fresh = False
        if token.type == tokenize.OP and token.string in "([{":
            depth += 1
        elif token.type == tokenize.OP and token.string in ")]}":
            depth = max(0, depth - 1)
    return starts


def _replacement(line: str) -> str:
    """Plain Python standing in for one IPython-only line, on one line."""
    stripped = line.strip()
    note = f"# grade: skipped IPython line: {stripped[:60]}"
    if assigned := _ASSIGNED.match(line):
        return f"{assigned.group(1)}{assigned.group(2)} = None  {note}"
    indent = line[: len(line) - len(line.lstrip())]
    return f"{indent}pass  {note}"


def _cell_lines(cell: str, number: int) -> tuple[list[str], list[Skipped]]:
    """One cell's lines with IPython-only lines replaced, and what was replaced."""
    # Python's own line breaks only: splitlines() would also cut at \x0c, \x85 or
    # \u2028, which Python keeps inside a line (and a string).
    text = cell.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.removesuffix("\n").split("\n") if text else []
    if not lines:
        return [], []
    first = lines[0].strip()
    if first.startswith("%%"):
        name = first[2:].split(maxsplit=1)[0] if first[2:].strip() else ""
        skipped = [Skipped(number, 1, first[:60])]
        if name in PYTHON_CELL_MAGICS:  # the body is Python: keep it, drop the magic
            body, more = _cell_lines("\n".join(lines[1:]), number)
            shifted = [Skipped(s.cell, s.line + 1, s.text) for s in more]
            return [f"# grade: skipped IPython line: {first[:60]}", *body], skipped + shifted
        return ([f"# grade: skipped a %%{name} cell, which is not Python"]
                + [f"# {line}" for line in lines[1:]], skipped)
    candidates = [i for i, line in enumerate(lines) if _is_candidate(line)]
    if not candidates:
        return lines, []
    # Tokenize as is (Python 3.11 tolerates `!` and `?`); else with the candidates
    # blanked out (newer tokenizers reject them); else treat every candidate as IPython.
    placeholder = [(line[: len(line) - len(line.lstrip())] + "pass") if i in candidates
                   else line for i, line in enumerate(lines)]
    starts = statement_starts(lines)
    starts = statement_starts(placeholder) if starts is None else starts
    magic = [i for i in candidates if starts is None or i + 1 in starts]
    out = [_replacement(line) if i in magic else line for i, line in enumerate(lines)]
    return out, [Skipped(number, i + 1, lines[i].strip()[:60]) for i in magic]


def join_cells(cells: list[str]) -> NotebookSource:
    """Code cells' sources, in order, as one module with a map back to the cells."""
    out: list[str] = []
    spans: list[CellSpan] = []
    skipped: list[Skipped] = []
    for number, cell in enumerate(cells, 1):
        lines, skips = _cell_lines(cell, number)
        spans.append(CellSpan(number, len(out) + 1, len(lines)))
        skipped += skips
        out += [*lines, ""]
    return NotebookSource("\n".join(out), tuple(spans), tuple(skipped))


def _not_a_notebook(why: str) -> SubmissionError:
    from grader.runner.source import SubmissionError

    return SubmissionError(f"this is not a Jupyter notebook ({why}); open it in Jupyter and "
                           "save it again, or if it is Python code, name it .py",
                           ErrorKind.NOT_NOTEBOOK)


def code_cells(text: str) -> list[str]:
    """The sources of a notebook's code cells, in order; SubmissionError if it is not one."""
    import nbformat  # slow to import: only when a notebook is graded

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _not_a_notebook(f"it is not JSON: {exc.msg} on line {exc.lineno}") from None
    except RecursionError:  # e.g. 100,000 nested brackets
        raise _not_a_notebook("its JSON is nested too deeply") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells", data.get("worksheets")),
                                                    list):
        raise _not_a_notebook("it has no list of cells")
    try:
        notebook = nbformat.reads(text, as_version=4)
        cells = [c for c in notebook.cells if c.get("cell_type") == "code"]
        sources = [c.get("source", "") for c in cells]
    except Exception as exc:  # nbformat raises many kinds for a damaged notebook
        raise _not_a_notebook(f"{type(exc).__name__}: {str(exc)[:120]}") from None
    if not all(isinstance(s, str) for s in sources):
        raise _not_a_notebook("a code cell's source is not text")
    return sources


def notebook_source(text: str) -> NotebookSource:
    """The Python source of a notebook's text; SubmissionError for a corrupt one."""
    from grader.runner.source import SubmissionError

    cells = code_cells(text)
    if not any(cell.strip() for cell in cells):
        raise SubmissionError("the notebook has no code in it: write your answer in its "
                              "code cells and save it", ErrorKind.EMPTY)
    return join_cells(cells)
