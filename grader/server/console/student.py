"""A learner's page: attempts over time, the diff between consecutive attempts, the
code with line numbers and each check's verdict, and what their code printed."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from grader.reports.reteach import attempt
from grader.results import ExerciseResult
from grader.server import store
from grader.server.models import Learner, Submission

OUTPUT_CAP = 20_000  # characters of printed output shown (the rest is cut, said so)
CODE_CAP = 200_000


@dataclass(frozen=True)
class Attempt:
    job: Submission
    result: ExerciseResult | None
    code: str
    diff: str  # against the previous attempt of the same exercise

    @property
    def kind(self) -> str:
        return attempt(self.result).value if self.result else self.job.state

    @property
    def lines(self) -> list[tuple[int, str]]:
        return list(enumerate(self.code.splitlines(), start=1))

    @property
    def output(self) -> str:
        text = self.result.output if self.result else ""
        return text if len(text) <= OUTPUT_CAP else text[:OUTPUT_CAP] + "\n[... cut ...]"


def _code(job: Submission) -> str:
    try:
        raw = store.get(Path(settings.GRADE_DATA), job.sha256)[:CODE_CAP]
    except OSError:
        return "(the file is not in this server's store)"
    return raw.decode("utf-8", errors="replace")


def attempts(learner: Learner, exercise: str) -> list[Attempt]:
    """The learner's attempts at `exercise`, newest first, each diffed with the one before."""
    found: list[Attempt] = []
    previous = ""
    for job in learner.submissions.filter(exercise=exercise).order_by("received_at", "id"):
        code = _code(job)
        diff = "".join(difflib.unified_diff(previous.splitlines(keepends=True),
                                            code.splitlines(keepends=True),
                                            "previous", "this attempt", n=2))
        result = ExerciseResult.model_validate_json(job.result) if job.result else None
        found.append(Attempt(job, result, code, diff))
        previous = code
    return found[::-1]
