"""Reading a submission file into Python source, with a clear error for bad input."""

from __future__ import annotations

import errno
import io
import os
import stat
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


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a pipe (FIFO)"),
          (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


def _open_regular(path: Path) -> int:
    """A descriptor of `path` if it is a regular file itself: never a link, pipe or device.

    The link test and the open are one step (O_NOFOLLOW, then fstat of what was
    opened): a file swapped for a link to /etc/shadow in between is still refused,
    and a FIFO cannot make the grader wait (O_NONBLOCK).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY)
    except FileNotFoundError:
        raise SubmissionError(f"{NO_SUBMISSION}: {path} does not exist",
                              ErrorKind.MISSING) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # the last part of the path is a symbolic link
            raise SubmissionError(f"{NO_SUBMISSION}: {path} is a symbolic link; "
                                  "submit the file itself", ErrorKind.UNREADABLE) from None
        raise SubmissionError(f"cannot read the file: {exc.strerror or exc}",
                              ErrorKind.UNREADABLE) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        raise SubmissionError(f"{NO_SUBMISSION}: {path} is {kind}, not a file",
                              ErrorKind.UNREADABLE)
    return fd


def read_source(path: Path, max_kb: int = 256) -> str:
    """The Python source of a `.py` or `.ipynb` submission.

    For a notebook it is a `grader.notebooks.source.NotebookSource`: a `str` that also
    maps its lines back to the notebook's cells. Only a regular file is read.
    """
    fd = _open_regular(path)
    try:
        with os.fdopen(fd, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > max_kb * 1024:
                raise SubmissionError(
                    f"the file is too large ({size // 1024} KB; the limit is {max_kb} KB)",
                    ErrorKind.TOO_LARGE)
            data = f.read(max_kb * 1024 + 1)
    except OSError as exc:  # unreadable, or gone since it was found
        raise SubmissionError(f"cannot read the file: {exc.strerror or exc}",
                              ErrorKind.UNREADABLE) from None
    if len(data) > max_kb * 1024:  # it grew after the size was read
        raise SubmissionError(f"the file is too large (the limit is {max_kb} KB)",
                              ErrorKind.TOO_LARGE)
    text = _decode(data)
    if path.suffix == ".ipynb":
        from grader.notebooks.source import notebook_source

        try:
            text = notebook_source(text)
        except SubmissionError:
            raise
        except Exception as exc:
            # A notebook is parsed from the learner's bytes alone: whatever breaks the
            # parsing is the file's problem, never "a bug in the grader".
            raise SubmissionError(f"the file is not a notebook Jupyter can open "
                                  f"({type(exc).__name__}); save it again from "
                                  "Jupyter", ErrorKind.NOT_NOTEBOOK) from None
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
