"""Bytes handed over (a Dask worker's, a server's) become the `Source` a file on disk would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.kinds import ErrorKind
from grader.runner.inputs import source_from_bytes
from grader.runner.read import read
from grader.runner.source import SubmissionError


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


NOTEBOOK = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
    {"cell_type": "markdown", "id": "a", "metadata": {}, "source": "# Sampling"},
    {"cell_type": "code", "id": "b", "metadata": {}, "execution_count": None, "outputs": [],
     "source": "def mean(xs):\n    return sum(xs) / len(xs)"},
    {"cell_type": "code", "id": "c", "metadata": {}, "execution_count": None, "outputs": [],
     "source": "print(mean([1, 2]))"}]})

CASES = {
    "python with a BOM and CRLF": ("ex.py", b"\xef\xbb\xbfx = 1\r\nprint(x)\r\n"),
    "a notebook": ("ex.ipynb", NOTEBOOK.encode()),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bytes_make_the_same_source_as_the_file_on_disk(case: str, tmp_path: Path) -> None:
    name, data = CASES[case]
    (tmp_path / name).write_bytes(data)
    expected = read(tmp_path / name, 256)
    observed = source_from_bytes(name, data, 256)
    assert observed == expected, fail(observed, expected, "bytes must be read as a file is")
    assert observed.noun == ("notebook" if name.endswith(".ipynb") else "file")


def test_a_file_whose_first_bytes_travelled_is_refused_by_its_whole_size(tmp_path: Path) -> None:
    # Only max_kb + 1 bytes of a 2 MB file travel to a Dask worker: the refusal must be
    # the one a TA sees grading on this machine, naming the file's real size.
    whole = b"x = 1\n" * (2 * 1024 * 1024 // 6)
    (tmp_path / "ex.py").write_bytes(whole)
    with pytest.raises(SubmissionError) as on_disk:
        read(tmp_path / "ex.py", 256)
    with pytest.raises(SubmissionError) as sent:
        source_from_bytes("ex.py", whole[:256 * 1024 + 1], 256, len(whole))
    assert (sent.value.kind, str(sent.value)) == (ErrorKind.TOO_LARGE, str(on_disk.value)), \
        fail(str(sent.value), str(on_disk.value), "the same refusal as on disk")


def test_bytes_that_are_not_utf8_are_refused_with_the_line() -> None:
    with pytest.raises(SubmissionError) as refused:
        source_from_bytes("ex.py", b"x = 1\ny = '\xff'\n", 256)
    assert (refused.value.kind, refused.value.line) == (ErrorKind.ENCODING, 2), \
        fail((refused.value.kind, refused.value.line), (ErrorKind.ENCODING, 2),
             "a byte that is not UTF-8 names its line")


def test_a_name_with_folders_is_only_its_file_name() -> None:
    source = source_from_bytes("../../etc/ex.py", b"x = 1\n", 256)
    assert source.filename == "ex.py", fail(source.filename, "ex.py", "never a path")
