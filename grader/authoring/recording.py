"""Grading that records what each check asked the learner's code, and what came back.

`grade check` grades the same file twice and compares these transcripts as well as
the verdicts: a check whose questions or answers change between two runs of the
same file is not deterministic, even when its verdict happens to stay the same
(test inputs drawn from an unseeded `random`, for instance).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from grader.checks import Check, Submission
from grader.course import Course, Exercise
from grader.results import ExerciseResult
from grader.runner import Grader
from grader.sandbox.channel import Boxes, BoxLimits, OpenChannel, Reply

# check id -> one JSON line per request: [op, fields, reply]
Transcript = dict[str, list[str]]


class RecordingChannel:
    """A channel that hands every request and its reply to `record`."""

    def __init__(self, channel: OpenChannel, record: Callable[[str], None]) -> None:
        self._channel = channel
        self._record = record

    def __enter__(self) -> RecordingChannel:
        self._channel.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._channel.__exit__(*exc)

    @property
    def output(self) -> list[str]:
        return self._channel.output

    def request(self, op: str, **fields: Any) -> Reply:
        reply = self._channel.request(op, **fields)
        answer = {k: v for k, v in reply.items() if k != "id"}  # ids count requests
        self._record(json.dumps([op, fields, answer], sort_keys=True, default=repr))
        return reply


class RecordingBoxes:
    """`Boxes` whose channels record: what `grade check` grades through."""

    def __init__(self, boxes: Boxes, record: Callable[[str], None]) -> None:
        self._boxes = boxes
        self._record = record

    def box(self, limits: BoxLimits, seconds: float,
            modules: list[str] | None = None) -> RecordingChannel:
        return RecordingChannel(self._boxes.box(limits, seconds, modules), self._record)


class RecordingGrader(Grader):
    """A `Grader` whose `grade_recorded` also returns each check's transcript."""

    def __init__(self, course: Course, boxes: Boxes) -> None:
        super().__init__(course, RecordingBoxes(boxes, self._record))
        self._transcript: Transcript = {}
        self._current = "(loading the file)"

    def _record(self, line: str) -> None:
        self._transcript.setdefault(self._current, []).append(line)

    def _marked(self, check: Check) -> Check:
        @functools.wraps(check.function)
        def run(submission: Submission) -> Any:
            self._current = check.id
            return check.function(submission)

        return Check(check.name, check.points, run)

    def checks(self, exercise: Exercise) -> list[Check]:
        return [self._marked(c) for c in super().checks(exercise)]

    def loaded_checks(self, exercise: Exercise) -> list[Check]:
        """The checks as written (for their lines), not the recording wrappers."""
        return super().checks(exercise)

    def grade_recorded(self, exercise: Exercise, source: str,
                       filename: str) -> tuple[ExerciseResult, Transcript]:
        self._transcript, self._current = {}, "(loading the file)"
        result = self.grade_source(exercise, source, filename)
        return result, self._transcript


def first_difference(first: list[str], second: list[str]) -> str:
    """What differs first between two transcripts of one check, for the author."""
    for a, b in zip([*first, None], [*second, None], strict=False):
        if a == b:
            continue
        if a is None or b is None:
            return "it made a different number of requests to the learner's code"
        (op, fields, _), (op2, fields2, _) = json.loads(a), json.loads(b)
        if [op, fields] != [op2, fields2]:
            return (f"it asked different things: {_short(op, fields)}, then "
                    f"{_short(op2, fields2)}; draw test inputs from a seeded "
                    "random.Random(seed), not from the global random")
        return (f"the same request ({_short(op, fields)}) got different answers; pass "
                "seed= to every call that draws random numbers")
    return "no difference"


def _short(op: str, fields: dict[str, Any], limit: int = 70) -> str:
    if op != "call":
        text = f"{op} {json.dumps(fields)}"
        return text if len(text) <= limit else text[: limit - 3] + "..."
    args = ", ".join(json.dumps(a) for a in fields.get("args", []))
    args = args if len(args) <= limit else "..." + args[3 - limit:]  # the end differs most
    return f"{fields.get('name')}({args}), seed={fields.get('seed')}"
