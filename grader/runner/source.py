"""A submission's Python source, and where each of its lines came from.

A `.py` file is its own source. A notebook's code cells are joined into one module
(runner/notebook.py) and the `Source` keeps the map back to the cells, so every
message names "code cell 3, line 2" when it is made: no finished sentence is
rewritten afterwards.
"""

# No `from __future__ import annotations`: a NamedTuple's field annotations given as text
# are each compiled by typing (course/plan.py says so too; the first compile() of a
# process also sets up the parser, 1.3 ms of a learner's run).

from typing import NamedTuple

from grader import learner_text as lt
from grader.kinds import ErrorKind

BLANK = "___"


class SubmissionError(Exception):
    """The file cannot be graded at all; the message is for the learner, `kind` for code."""

    def __init__(self, message: str, kind: ErrorKind, line: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.line = line


class CellSpan(NamedTuple):
    """Where code cell `number` (1-based, code cells only) sits in the joined source."""

    number: int
    first_line: int
    lines: int
    label: str = ""  # how the learner knows the cell, when not by its number


def cell_name(number: int, label: str = "") -> str:
    """"code cell 3", or the cell's own label (a kernel's history has no numbers)."""
    return label or f"code cell {number}"


class ReplacedLine(NamedTuple):
    """An IPython-only line the grader replaced: where it was and what it said."""

    cell: int
    line: int
    text: str


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


class Source(NamedTuple):
    """The Python text of a submission, its file name, and (for a notebook) its cells.

    (Named tuples, not dataclasses, here: a skeleton's report reads its file through
    this module, and dataclasses bring inspect, ast and dis, about 15 modules.)"""

    text: str
    filename: str
    notebook: bool = False
    cells: tuple[CellSpan, ...] = ()
    skipped: tuple[ReplacedLine, ...] = ()

    @property
    def noun(self) -> str:
        """What the learner handed in, as a learner calls it."""
        return "notebook" if self.notebook else "file"

    def cell_name(self, number: int) -> str:
        """How the learner knows code cell `number` of this source."""
        labels = {span.number: span.label for span in self.cells}
        return cell_name(number, labels.get(number, ""))

    def locate(self, line: int) -> tuple[int | None, int]:
        """(code cell, line in it) of a line of the source; (None, line) outside cells."""
        for span in self.cells:
            if span.first_line <= line < span.first_line + span.lines:
                return span.number, line - span.first_line + 1
        return None, line

    def where(self, line: int) -> str:
        """"line 14", or in a notebook "code cell 3, line 2"."""
        cell, local = self.locate(line)
        return f"{self.cell_name(cell)}, line {local}" if cell else f"line {line}"

    def at(self, lines: list[int]) -> str:
        """Where some lines are, after a preposition: "on lines 3 and 5",
        "in code cell 3 (lines 8, 9 and 10)"."""
        if not self.notebook:
            if len(lines) == 1:
                return f"on line {lines[0]}"
            return f"on lines {_and([str(n) for n in lines])}"
        if len(lines) == 1:
            return f"in {self.where(lines[0])}"
        by_cell: dict[str, list[str]] = {}
        for line in lines:
            cell, local = self.locate(line)
            by_cell.setdefault(self.cell_name(cell) if cell else "the notebook", []).append(
                str(local))
        return "in " + _and([f"{cell} (line{'s' if len(nums) > 1 else ''} {_and(nums)})"
                             for cell, nums in by_cell.items()])

    def skipped_note(self) -> str:
        """For a notebook's errors: the IPython-only lines the grader did not run."""
        if not self.skipped:
            return ""
        shown = "; ".join(f"{self.cell_name(s.cell)}, line {s.line}: {lt.cut(s.text, 80)}"
                          for s in self.skipped[:3])
        more = f" and {len(self.skipped) - 3} more" if len(self.skipped) > 3 else ""
        return (f" (note: the grader does not run IPython magics or shell commands, so it "
                f"skipped {shown}{more})")


def find_blanks(source: str) -> list[int]:
    """Line numbers of every `___` still standing as a name (not in strings or comments)."""
    if BLANK not in source:  # no token can be `___` then: no need to tokenize
        return []
    import io  # here: a file with no `___` (every finished one) needs no tokenizer
    import tokenize

    found: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.NAME and token.string == BLANK:
                found.add(token.start[0])
    except (tokenize.TokenError, SyntaxError):
        pass  # unfinished code: the blanks before it count; the box names the syntax error
    return sorted(found)


def describe_blanks(lines: list[int], source: Source | None = None) -> str:
    """"the blanks on lines 18 and 33 are still empty" (in a notebook: its cells)."""
    at = (source or Source("", "")).at(lines)
    if len(lines) == 1:
        return f"the blank {at} is still empty"
    return f"the blanks {at} are still empty"


def check_text(source: Source) -> None:
    """Refuse source Python could never run: empty, or holding NUL characters."""
    text = source.text
    if not text.strip():
        raise SubmissionError("the file is empty: write your answer in it and save it",
                              ErrorKind.EMPTY)
    if "\0" in text:
        line = text[: text.index("\0")].count("\n") + 1
        raise SubmissionError(
            f"the file contains a NUL byte {source.at([line])} (is it really a text file?); "
            "save it again as plain text", ErrorKind.BINARY, line
        )


def require_gradable(source: Source) -> None:
    """Refuse (SubmissionError) what no box needs to see: an empty file, NUL bytes, blanks."""
    check_text(source)
    if blanks := find_blanks(source.text):
        raise SubmissionError(describe_blanks(blanks, source) +
                              ": replace each ___ with your answer", ErrorKind.BLANKS, blanks[0])
