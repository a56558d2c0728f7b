"""A learner's notebook as one Python module, the way the kernel ran it, line for line.

Code cells are joined in order, one blank line after each, so every line of the
joined source belongs to exactly one cell: a `Source` then names "code cell 3,
line 2" where a .py file would say "line 14", when each message is made.
IPython-only lines (magics, shell escapes, help lines) are replaced one for one by
plain Python with a note, never dropped, so line numbers never shift.
"""

from __future__ import annotations

import io
import json
import re
import tokenize

from pydantic import ConfigDict, Field, StrictInt, ValidationError

from grader.models import Model
from grader.results import ErrorKind
from grader.runner.source import CellSpan, ReplacedLine, Source, SubmissionError

# Cell magics whose body is Python: the grader runs the body once, as the kernel would.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})

_HELP = re.compile(r"^\s*(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")
_ASSIGNED = re.compile(r"^(\s*)([A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*)\s*=\s*[%!]")


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


def _cell_lines(cell: str, number: int) -> tuple[list[str], list[ReplacedLine]]:
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
        skipped = [ReplacedLine(number, 1, first[:60])]
        if name in PYTHON_CELL_MAGICS:  # the body is Python: keep it, drop the magic
            body, more = _cell_lines("\n".join(lines[1:]), number)
            shifted = [ReplacedLine(s.cell, s.line + 1, s.text) for s in more]
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
    return out, [ReplacedLine(number, i + 1, lines[i].strip()[:60]) for i in magic]


def join_cells(cells: list[str], filename: str = "notebook.ipynb",
               labels: list[str] | None = None) -> Source:
    """Code cells' sources, in order, as one module with a map back to the cells
    (named by `labels` when given, else "code cell N")."""
    out: list[str] = []
    spans: list[CellSpan] = []
    skipped: list[ReplacedLine] = []
    for number, cell in enumerate(cells, 1):
        lines, skips = _cell_lines(cell, number)
        label = labels[number - 1] if labels else ""
        spans.append(CellSpan(number, len(out) + 1, len(lines), label))
        skipped += skips
        out += [*lines, ""]
    return Source("\n".join(out), filename, notebook=True, cells=tuple(spans),
                  skipped=tuple(skipped))


def _not_a_notebook(why: str) -> SubmissionError:
    return SubmissionError(f"this is not a Jupyter notebook ({why}); open it in Jupyter and "
                           "save it again, or if it is Python code, name it .py",
                           ErrorKind.NOT_NOTEBOOK)


# Read, not written: keys the grader does not read are ignored; built on first use.
_READ = ConfigDict(defer_build=True, extra="ignore")


class _Cell(Model):
    """The part of a notebook cell the grader reads (v4 `source`, v3 `input`)."""

    model_config = _READ
    cell_type: str
    source: object = ""
    input: object = ""


class _Worksheet(Model):
    model_config = _READ
    cells: list[_Cell] = Field(default_factory=list)


class _Notebook(Model):
    """The part of a notebook file the grader reads: its version and its cells.

    Not nbformat's schema validation: it imports jsonschema's format checkers, which
    take seconds, and an extra key or a missing output never stops Python running
    the code cells, which is all the grader needs from a notebook."""

    model_config = _READ
    nbformat: StrictInt
    cells: list[_Cell] | None = None
    worksheets: list[_Worksheet] | None = None  # nbformat 3


def _first_error(exc: ValidationError) -> str:
    """What is wrong, in a notebook's words: "cell 2 has no cell_type"."""
    error = exc.errors()[0]
    parts: list[str] = []
    for before, part in zip(("", *error["loc"]), error["loc"]):
        if isinstance(part, int):
            parts.append(f"{'worksheet' if before == 'worksheets' else 'cell'} {part + 1}")
        elif part not in ("cells", "worksheets"):
            parts.append(str(part))
    where = "'s ".join(parts)
    where = where if where.startswith(("cell", "worksheet")) else f"its {where}"
    if error["type"] in ("model_type", "dict_type"):
        return f"{where} is not a JSON object"
    if error["type"] == "missing":
        owner, _, field = where.rpartition("'s ")
        return f"{owner or 'it'} has no {field.removeprefix('its ')}"
    if error["type"] in ("int_type", "int_parsing"):
        return f"{where} is not a whole number"
    return f"{where}: {error['msg']}"


def _text(source: object) -> str | None:
    """A cell's source as one string (Jupyter saves it as a list of lines), or None."""
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    return None


def code_cells(text: str) -> list[str]:
    """The sources of a notebook's code cells, in order; SubmissionError if it is not one."""
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
        notebook = _Notebook.model_validate(data)
    except ValidationError as exc:
        raise _not_a_notebook(_first_error(exc)) from None
    if notebook.nbformat == 4 and notebook.cells is not None:
        cells = [(c.cell_type, c.source) for c in notebook.cells]
    elif notebook.nbformat == 3 and notebook.worksheets is not None:
        cells = [(c.cell_type, c.input) for w in notebook.worksheets for c in w.cells]
    else:
        raise _not_a_notebook(f"it is in nbformat version {notebook.nbformat}, which this "
                              "grader does not read")
    sources = [_text(source) for kind, source in cells if kind == "code"]
    if not all(isinstance(s, str) for s in sources):
        raise _not_a_notebook("a code cell's source is not text")
    return [s for s in sources if s is not None]


def notebook_source(text: str, filename: str = "notebook.ipynb") -> Source:
    """The Python source of a notebook's text; SubmissionError for a corrupt one."""
    cells = code_cells(text)
    if not any(cell.strip() for cell in cells):
        raise SubmissionError("the notebook has no code in it: write your answer in its "
                              "code cells and save it", ErrorKind.EMPTY)
    return join_cells(cells, filename)
