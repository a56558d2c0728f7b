"""Reading a submission file into a `Source`, with a clear error for bad input."""

from __future__ import annotations

from pathlib import Path

from grader.results import NO_SUBMISSION, ErrorKind
from grader.runner.source import Source, SubmissionError, check_text


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SubmissionError(
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
            "save it as UTF-8 in your editor", ErrorKind.ENCODING, line
        ) from None


def read(path: Path, max_kb: int = 256) -> Source:
    """The `Source` of a `.py` or `.ipynb` submission; SubmissionError if there is none.

    A notebook becomes source here, once: its code cells joined, with the map back.
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
        from grader.runner.notebook import notebook_source  # nbformat: only for notebooks

        source = notebook_source(text, path.name)
    else:
        source = Source(text, path.name)
    check_text(source)
    return source
