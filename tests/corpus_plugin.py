"""Grade corpus files through the real pytest plugin, in one process (imports paid once).

    python tests/corpus_plugin.py ITEMS.json   # [[id, checks_file, submission], ...]

Prints one JSON object: id -> {"error": the setup failure or null, "checks": {check id:
[passed, message]}}. Messages are what the check raised: `fail()`'s sentence, or for
any other exception the sentence `grade` makes of it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from grader.checks import CheckFailed
from grader.results import CheckResult, CheckStatus
from grader.runner.outcomes import unexpected


def _raw(exc: BaseException) -> str:
    if isinstance(exc, CheckFailed):
        return exc.message
    if isinstance(exc, pytest.fail.Exception):
        return str(exc.msg)
    return unexpected(exc)[0]


def _message(exc: BaseException) -> str:
    """The sentence as a result keeps it: pytest shows learner text whole, a result caps it
    (grader/learner_text.py), so both go through the model before they are compared."""
    return CheckResult(name="-", passed=False, score=0, max_score=1, message=_raw(exc),
                       status=CheckStatus.FAILED).message


class Recorder:
    def __init__(self) -> None:
        self.error: str | None = None
        self.checks: dict[str, list[Any]] = {}

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        outcome = yield
        report = outcome.get_result()
        exc = call.excinfo.value if call.excinfo else None
        if report.when == "setup" and report.failed and exc is not None:
            self.error = _message(exc)
        if report.when == "call":
            self.checks[item.name] = [report.passed, _message(exc) if exc else "passed"]


def main() -> None:
    results = {}
    for ident, checks_file, submission in json.loads(Path(sys.argv[1]).read_text()):
        recorder = Recorder()
        pytest.main([checks_file, "--submission", submission, "-q", "-p", "no:cacheprovider",
                     "-p", "no:randomly", "--no-header", "--no-summary", "-o", "addopts=",
                     "--rootdir", str(sys.argv[2])], plugins=[recorder])
        results[ident] = {"error": recorder.error, "checks": recorder.checks}
    sys.stdout.write("\n@@RESULTS@@" + json.dumps(results) + "\n")


if __name__ == "__main__":
    main()
