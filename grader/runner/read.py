"""Reading a submission file into a `Source`, with a clear error for bad input."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from grader.kinds import NO_SUBMISSION, ErrorKind
from grader.runner.source import Source, SubmissionError, check_text


def _decode(data: bytes) -> str:
    """UTF-8 text as Python reads a file: without a byte-order mark, CRLF as LF.

    Windows editors save both; graded as they are, a CRLF file would quote its
    lines with a stray "\r" and a BOM would be a character before line 1.
    """
    try:
        return data.decode("utf-8-sig").replace("\r\n", "\n")
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


def _bytes(path: Path, max_kb: int) -> bytes:
    """The file's bytes, refused when over `max_kb` (also if it grows while read)."""
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
    return data


def _notebook(text: str, filename: str) -> Source:
    from grader.runner.notebook import notebook_source  # nbformat: only for notebooks

    try:
        return notebook_source(text, filename)
    except SubmissionError:
        raise
    except Exception as exc:
        # A notebook is parsed from the learner's bytes alone: whatever breaks the
        # parsing is the file's problem, never "a bug in the grader".
        raise SubmissionError(f"the file is not a notebook Jupyter can open "
                              f"({type(exc).__name__}); save it again from "
                              "Jupyter", ErrorKind.NOT_NOTEBOOK) from None


def read(path: Path, max_kb: int = 256) -> Source:
    """The `Source` of a `.py` or `.ipynb` submission; SubmissionError if there is none.

    Only a regular file is read. A notebook becomes source here, once: its code cells
    joined, with the map back.
    """
    text = _decode(_bytes(path, max_kb))
    source = _notebook(text, path.name) if path.suffix == ".ipynb" else Source(text, path.name)
    check_text(source)
    return source
