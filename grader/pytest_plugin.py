"""Run a course's checks under plain pytest: ``pytest checks/exercise_1.py --submission F``.

Registered as a pytest11 entry point, so it is active wherever `grade` is
installed. It gives checks the same `submission` they get from `grade`, through the
same pipeline (grader.runner): the file read with course.yaml's limits, preflighted,
loaded in a sandbox box. Every check gets a pytest-timeout of the submission's time
limit, so a check that never returns (a buggy author check included) is stopped.
The `grade` runner does not use pytest's machinery at run time (one process serves a
whole class); this plugin is for authors and for the benchmark's naive baseline.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from grader.checks import Submission
from grader.course import ConfigError, Limits, find_course, load_course
from grader.runner import Failure, SubmissionError, box_limits, load, preflight, read
from grader.runner.outcomes import describe_stop
from grader.sandbox.client import BoxStopped, SandboxError
from grader.sandbox.levels import make_sandbox

DEFAULT_TIME_LIMIT = 30.0  # seconds, for checks outside any course
# pytest-timeout's limit is the submission's plus this: the box's own deadline (and its
# grace) must stop learner code first, with grade's sentence; pytest-timeout is for a
# check that never returns by itself.
TIMEOUT_SLACK = 5.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grade")
    group.addoption("--submission", default=None, help="learner file the checks grade")
    group.addoption("--submission-time-limit", type=float, default=None,
                    help="wall-clock seconds for the whole submission (default: course.yaml's, "
                    f"else {DEFAULT_TIME_LIMIT:g})")


def limits_for(checks_file: Path, time_limit: float | None) -> Limits:
    """The limits course.yaml sets for the exercise whose checks are `checks_file`."""
    try:
        course = load_course(find_course(checks_file.parent))
    except ConfigError:
        limits = Limits(time_limit=time_limit or DEFAULT_TIME_LIMIT)
    else:
        exercise = next((e for e in course.exercises
                         if course.checks_path(e).resolve() == checks_file.resolve()), None)
        limits = course.limits_for(exercise) if exercise else course.limits
    if time_limit:
        limits = limits.model_copy(update={"time_limit": time_limit})
    return limits


def _limits(config: pytest.Config, checks_file: Path) -> Limits:
    return limits_for(checks_file, config.getoption("--submission-time-limit"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A pytest-timeout (the submission's time limit + slack) on every check without one."""
    if not config.getoption("--submission"):
        return
    for item in items:
        if "submission" in getattr(item, "fixturenames", ()) and \
                item.get_closest_marker("timeout") is None:
            limit = _limits(config, item.path).time_limit + TIMEOUT_SLACK
            item.add_marker(pytest.mark.timeout(limit))


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    """A box that stops during a check fails it with `grade`'s sentence, not a traceback."""
    try:
        return (yield)
    except (BoxStopped, SandboxError) as exc:
        stop = exc
    pytest.fail(describe_stop(stop)[0], pytrace=False)


@pytest.fixture(scope="module")
def submission(request: pytest.FixtureRequest) -> Iterator[Submission]:
    """The learner file given by --submission, loaded in a fresh sandbox box."""
    given = request.config.getoption("--submission")
    if not given:
        raise pytest.UsageError("these checks need --submission PATH")
    limits = _limits(request.config, request.path)
    try:
        source = read(Path(given), limits.max_source_kb)
    except SubmissionError as exc:
        pytest.fail(str(exc), pytrace=False)
    refused = preflight(source)
    if refused is not None:
        pytest.fail(refused.error, pytrace=False)
    with make_sandbox() as sandbox, sandbox.box(box_limits(limits), limits.time_limit) as box:
        loaded = load(source, box)
        if isinstance(loaded, Failure):
            pytest.fail(loaded.error, pytrace=False)
        yield loaded
