"""Reading a submission file into Python source, with a clear error for bad input."""

from __future__ import annotations

import io
import tokenize
from pathlib import Path

from grader.results import NO_SUBMISSION, ErrorKind

BLANK = "___"


class SubmissionError(Exception):
    """The file cannot be graded at all; the message is for the learner, `kind` for code."""

    def __init__(self, message: str, kind: ErrorKind, line: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.line = line


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SubmissionError(
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
            "save it as UTF-8 in your editor", ErrorKind.ENCODING, line
        ) from None


def read_source(path: Path, max_kb: int = 256) -> str:
    """The Python source of a `.py` or `.ipynb` submission.

    For a notebook it is a `grader.notebooks.source.NotebookSource`: a `str` that also
    maps its lines back to the notebook's cells.
    """
    if not path.exists():
        raise SubmissionError(f"{NO_SUBMISSION}: {path} does not exist", ErrorKind.MISSING)
    if not path.is_file():
        raise SubmissionError(f"{NO_SUBMISSION}: {path} is not a file", ErrorKind.UNREADABLE)
    try:
        size = path.stat().st_size
        if size > max_kb * 1024:
            raise SubmissionError(
                f"the file is too large ({size // 1024} KB; the limit is {max_kb} KB)",
                ErrorKind.TOO_LARGE)
        data = path.read_bytes()
    except OSError as exc:  # unreadable, or gone since it was found
        raise SubmissionError(f"cannot read the file: {exc.strerror or exc}",
                              ErrorKind.UNREADABLE) from None
    text = _decode(data)
    if path.suffix == ".ipynb":
        from grader.notebooks.source import notebook_source

        text = notebook_source(text)
    check_text(text)
    return text


def check_text(text: str) -> None:
    """Refuse source Python could never run: empty, or holding NUL characters."""
    if not text.strip():
        raise SubmissionError("the file is empty: write your answer in it and save it",
                              ErrorKind.EMPTY)
    if "\0" in text:
        line = text[: text.index("\0")].count("\n") + 1
        raise SubmissionError(
            f"the file contains a NUL byte on line {line} (is it really a text file?); "
            "save it again as plain text", ErrorKind.BINARY, line
        )


def find_blanks(source: str) -> list[int]:
    """Line numbers of every `___` still standing as a name (not in strings or comments)."""
    found: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.NAME and token.string == BLANK:
                found.add(token.start[0])
    except (tokenize.TokenError, SyntaxError):
        pass  # unfinished code: the blanks before it count; the box names the syntax error
    return sorted(found)


def describe_blanks(lines: list[int]) -> str:
    if len(lines) == 1:
        return f"the blank on line {lines[0]} is still empty"
    shown = ", ".join(map(str, lines[:-1])) + f" and {lines[-1]}"
    return f"the blanks on lines {shown} are still empty"
