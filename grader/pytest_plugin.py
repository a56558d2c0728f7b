"""Run a course's checks under plain pytest: ``pytest checks/exercise_1.py --submission F``.

Registered as a pytest11 entry point, so it is active wherever `grade` is
installed. It gives checks the same `submission` they get from `grade`: the file
loaded in a sandbox box. The `grade` runner does not use pytest's machinery at
run time (one process serves a whole class); this plugin is for authors and for
the benchmark's naive baseline.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.checks import Submission
from grader.checks.errors import explain
from grader.course import Limits
from grader.runner.source import SubmissionError, describe_blanks, find_blanks, read_source
from grader.sandbox.levels import make_sandbox


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grade")
    group.addoption("--submission", default=None, help="learner file the checks grade")
    group.addoption("--submission-time-limit", type=float, default=30.0,
                    help="wall-clock seconds for the whole submission")


@pytest.fixture(scope="module")
def submission(request: pytest.FixtureRequest) -> Iterator[Submission]:
    """The learner file given by --submission, loaded in a fresh sandbox box."""
    given = request.config.getoption("--submission")
    if not given:
        raise pytest.UsageError("these checks need --submission PATH")
    path = Path(given)
    try:
        source = read_source(path)
    except SubmissionError as exc:
        pytest.fail(str(exc), pytrace=False)
    if blanks := find_blanks(source):
        pytest.fail(describe_blanks(blanks), pytrace=False)
    seconds = request.config.getoption("--submission-time-limit")
    limits = Limits(time_limit=seconds).box_settings()
    with make_sandbox() as sandbox, sandbox.box(limits, seconds) as box:
        loaded = box.request("load", source=source, filename=path.name)
        if "error" in loaded:
            pytest.fail(f"your file {explain(loaded['error'], source)}", pytrace=False)
        yield Submission(box, path.name, printed=str(loaded.get("stdout", "")), source=source)
