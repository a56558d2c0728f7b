"""Markers in a solution that say what learners fill in, and the skeleton they give.

Two markers, both plain Python comments, so a marked solution still runs as is:

- an inline blank, a trailing comment naming a piece of that line's code::

      "cloudy": 0.3,  # BLANK: 0.3 | replace ___ so that the three weights add up to 1

  The skeleton shows ``___`` in place of the piece; the text after ``|`` (optional)
  becomes the line's comment for learners.

- a region, for outline-style exercises (nbgrader's delimiters; any number of ``#``)::

      # BEGIN SOLUTION
      corpus = "the cat sat on the mat"
      # OUTLINE: corpus = "..."   (optional; one line of skeleton per OUTLINE line)
      # END SOLUTION

  The whole region becomes its ``OUTLINE`` lines, each at its own indentation, or
  ``# your code here`` at the ``BEGIN`` line's indentation when there are none.

A third, for `grade check --mutants`, on a line of its own above the code it is about,
left out of the skeleton and of the stripped solution alike::

      # EQUIVALENT MUTANT (r <= cumulative): r == cumulative has probability 2**-53

  says the mutants of the next code line (only those whose operator or mutated line
  matches the text in parentheses, when given) behave like the solution, and why.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

from grader.runner.source import BLANK, find_blanks

DEFAULT_OUTLINE = "# your code here"

_REGION = re.compile(r"^#+\s*(BEGIN|END) SOLUTION\s*$")
_OUTLINE = re.compile(r"^#+\s*OUTLINE:(.*)$")
_BLANK = re.compile(r"^#\s*BLANK:(.*)$")
_EQUIVALENT = re.compile(r"^#+\s*EQUIVALENT MUTANT\s*(?:\((?P<which>[^)]*)\))?\s*:(?P<reason>.*)$")
# Comments that look like a marker but are not one: a typo would silently leak the answer.
_NEAR_MISS = re.compile(r"^#+\s*(BLANK|OUTLINE|BEGIN\s+SOLUTION|END\s+SOLUTION)\b", re.I)


class MarkerError(Exception):
    """Markers a skeleton cannot be built from: (solution line, message) pairs."""

    def __init__(self, problems: list[tuple[int | None, str]]) -> None:
        super().__init__("; ".join(f"line {n}: {m}" if n else m for n, m in problems))
        self.problems = problems


@dataclass(frozen=True)
class Skeleton:
    """A skeleton's text, and where its blanks and outline regions are (skeleton lines)."""

    text: str
    blanks: list[int] = field(default_factory=list)
    regions: list[int] = field(default_factory=list)
    solution: str = ""  # the solution without its markers (learner comments kept)
    # For each line of `solution`, its line in the marked solution (what the author edits).
    origins: list[int] = field(default_factory=list)

    @property
    def parts(self) -> int:
        """How many parts learners fill in (an outline region counts as one)."""
        return len(self.blanks) + len(self.regions)


@dataclass
class _Region:
    begin: int
    indent: str
    outline: list[str] = field(default_factory=list)


def _comments(source: str) -> dict[int, tuple[int, str]]:
    """Line -> (column, text) of every comment, found by the tokenizer (not inside strings)."""
    found: dict[int, tuple[int, str]] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                found[token.start[0]] = (token.start[1], token.string)
    except (tokenize.TokenError, SyntaxError) as exc:
        line = exc.args[1][0] if isinstance(exc, tokenize.TokenError) else exc.lineno
        raise MarkerError([(line, f"Python cannot read this file: {exc.args[0]}")]) from None
    return found


def _split_ending(line: str) -> tuple[str, str]:
    body = line.rstrip("\r\n")
    return body, line[len(body):]


def _is_name_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _blank_line(code: str, marker: str) -> tuple[str, str]:
    """The skeleton's line (the piece as ``___``) and the plain solution's; or ValueError.

    Both carry the learner's comment.
    """
    piece, _, comment = marker.partition("|")
    piece, comment = piece.strip(), comment.strip()
    if not piece:
        raise ValueError("BLANK: names no code; write # BLANK: <the code to blank>")
    count = code.count(piece)
    if count != 1:
        where = "does not occur" if count == 0 else f"occurs {count} times"
        raise ValueError(f"the blank {piece!r} {where} in the code of this line; "
                         "name a piece of code that occurs exactly once")
    start = code.index(piece)
    end = start + len(piece)
    if (_is_name_char(piece[0]) and start > 0 and _is_name_char(code[start - 1])) or (
            _is_name_char(piece[-1]) and end < len(code) and _is_name_char(code[end])):
        raise ValueError(f"the blank {piece!r} is part of a longer name; blank whole names")
    note = f"  # {comment}" if comment else ""
    return code[:start] + BLANK + code[end:] + note, code + note


def make_skeleton(solution: str) -> Skeleton:
    """The learner's skeleton of a marked solution. Raises MarkerError listing every problem."""
    comments = _comments(solution)
    problems: list[tuple[int | None, str]] = []
    out: list[str] = []
    plain: list[str] = []
    blanks: list[tuple[int, int]] = []  # (solution line, skeleton line)
    regions: list[int] = []
    region: _Region | None = None
    pending: tuple[int, str] | None = None  # a BLANK alone on its line, for the next one
    origins: list[int] = []
    for number, line in enumerate(solution.splitlines(keepends=True), 1):
        body, ending = _split_ending(line)
        column, comment = comments.get(number, (0, ""))
        alone = not body[:column].strip()
        region_mark = _REGION.match(comment) if alone else None
        outline = _OUTLINE.match(comment) if alone else None
        blank = _BLANK.match(comment)
        if alone and _EQUIVALENT.match(comment):
            continue  # for the author's mutation testing only
        if region_mark and region_mark.group(1) == "BEGIN":
            if region is not None:
                problems.append((number, f"BEGIN SOLUTION inside the region begun on line "
                                         f"{region.begin}; close it first with END SOLUTION"))
                continue
            region = _Region(number, body[:column])
        elif region_mark:
            if region is None:
                problems.append((number, "END SOLUTION without a BEGIN SOLUTION before it"))
                continue
            regions.append(len(out) + 1)
            out += [text + ending for text in region.outline or
                    [region.indent + DEFAULT_OUTLINE]]
            region = None
        elif outline:
            if region is None:
                problems.append((number, "OUTLINE: outside a BEGIN/END SOLUTION region"))
            else:
                text = outline.group(1)
                text = text[1:] if text.startswith(" ") else text  # "# OUTLINE: x" -> "x"
                region.outline.append((body[:column] + text).rstrip())
        elif blank and region is not None:
            problems.append((number, "BLANK: inside a solution region, which is hidden whole"))
        elif blank and alone:  # on its own line: for the next line (ruff's line length)
            if pending is not None:
                problems.append((pending[0], "BLANK: on its own line needs a line of code "
                                 "right after it"))
            pending = (number, blank.group(1))
        elif blank or (pending is not None and body.strip() and region is None):
            marker = blank.group(1) if blank else pending[1]  # type: ignore[index]
            at, pending = (number if blank else pending[0]), None  # type: ignore[index]
            code = (body[:column] if comment else body).rstrip()
            kept = "" if blank else body[len(code):]  # the code line's own comment stays
            try:
                learner, reader = _blank_line(code, marker)
            except ValueError as exc:
                problems.append((at, str(exc)))
                continue
            learner, reader = learner + kept, reader + kept
            out.append(learner + ending)
            plain.append(reader + ending)
            origins.append(number)
            blanks.append((at, len(out)))
        elif comment and _NEAR_MISS.match(comment):
            problems.append((number, f"{comment.strip()!r} looks like a marker but is not "
                                     "one; write '# BLANK: code | comment', '# OUTLINE: text', "
                                     "'# BEGIN SOLUTION' or '# END SOLUTION'"))
        else:
            plain.append(line)
            origins.append(number)
            if region is None:
                out.append(line)
    if region is not None:
        problems.append((region.begin, "BEGIN SOLUTION is never closed by an END SOLUTION"))
    if pending is not None:
        problems.append((pending[0], "BLANK: on its own line needs a line of code right "
                         "after it"))
    text = "".join(out)
    if not problems:
        standing = set(find_blanks(text))
        problems += [(source_line, "this blank lands inside a string or comment, where the "
                                   "grader cannot see that it is still empty")
                     for source_line, skeleton_line in blanks if skeleton_line not in standing]
    if problems:
        raise MarkerError(problems)
    return Skeleton(text, [s for _, s in blanks], regions, "".join(plain), origins)


@dataclass(frozen=True)
class EquivalentMark:
    """An ``# EQUIVALENT MUTANT`` comment: the code line it is about, which mutants, why."""

    line: int  # of the comment, in the solution
    code: str  # the next code line, without its comment
    which: str | None
    reason: str


def equivalent_marks(solution: str) -> list[EquivalentMark]:
    """Every ``# EQUIVALENT MUTANT`` comment of a solution, with the code line below it."""
    comments = _comments(solution)
    lines = solution.splitlines()
    marks = []
    for number, (column, comment) in sorted(comments.items()):
        found = _EQUIVALENT.match(comment)
        if not found or lines[number - 1][:column].strip():
            continue
        code = ""
        for below in range(number + 1, len(lines) + 1):
            column_below = comments.get(below, (len(lines[below - 1]), ""))[0]
            code = lines[below - 1][:column_below].strip()
            if code:
                break
        which = (found["which"] or "").strip() or None
        marks.append(EquivalentMark(number, code, which, found["reason"].strip()))
    return marks


def strip_markers(solution: str) -> str:
    """The solution as a reader sees it: markers gone, learners' comments kept."""
    return make_skeleton(solution).solution


def fill_blanks(skeleton: str, answer: str = "None") -> str:
    """The skeleton with every ``___`` name replaced by `answer`: a wrong but runnable file."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(skeleton).readline))
    except (tokenize.TokenError, SyntaxError):
        return skeleton
    lines = skeleton.splitlines(keepends=True)
    spots = [t.start for t in tokens if t.type == tokenize.NAME and t.string == BLANK]
    for row, col in reversed(spots):  # right to left keeps earlier columns valid
        line = lines[row - 1]
        lines[row - 1] = line[:col] + answer + line[col + len(BLANK):]
    return "".join(lines)
