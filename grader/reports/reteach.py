"""What to reteach: who did not try, whose file could not run, what the others got wrong.

A check that a file never reached (its blanks were still empty, it had a syntax
error, it ran out of time) says nothing about that check, so checks are ranked by
their failures among the files that ran. Every decision is made on kinds
(`ErrorKind`, `CheckStatus`) and on the data a check gave when it failed
(`WrongAnswer`), never on the text of a message.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum

from grader.results import CheckStatus, ClassResult, ErrorKind, ExerciseResult, WrongAnswer


class Attempt(str, Enum):
    """How far one submission got."""

    MISSING = "no file"
    NOT_ATTEMPTED = "not attempted"      # blanks still empty, or an empty file
    COULD_NOT_RUN = "could not run"      # syntax, a crash, the time limit, ...
    GRADER_FAULT = "grader fault"        # nothing to learn from it: grade it again
    ANSWERED_WRONG = "answered wrong"    # ran, and some check failed
    FULL_MARKS = "full marks"


NOT_ATTEMPTED = frozenset({ErrorKind.BLANKS, ErrorKind.EMPTY})
# What the class report calls each kind of file that could not run.
KIND_NAMES = {ErrorKind.TIMEOUT: "time limit", ErrorKind.RAISED: "raised an exception",
              ErrorKind.SYNTAX: "syntax error", ErrorKind.MEMORY: "out of memory",
              ErrorKind.RECURSION: "recursion", ErrorKind.EXITED: "exited",
              ErrorKind.CRASHED: "crashed", ErrorKind.FORBIDDEN: "forbidden operation",
              ErrorKind.INTERFERENCE: "interfered with the grader"}


def attempt(result: ExerciseResult) -> Attempt:
    kind = result.error_kind
    if kind is ErrorKind.MISSING:
        return Attempt.MISSING
    if kind in NOT_ATTEMPTED:
        return Attempt.NOT_ATTEMPTED
    if kind is ErrorKind.GRADER_FAULT:
        return Attempt.GRADER_FAULT
    if kind is not None:
        return Attempt.COULD_NOT_RUN
    # The checks' own score: a correct file handed in late (or overridden) was not
    # answered wrong, whatever its final score.
    raw = result.adjustment.raw if result.adjustment else result.score
    return Attempt.FULL_MARKS if raw >= result.max_score else Attempt.ANSWERED_WRONG


def kind_name(kind: ErrorKind) -> str:
    return KIND_NAMES.get(kind, kind.value.replace("_", " "))


@dataclass(frozen=True)
class ExerciseAttempts:
    """One exercise's submissions by how far they got; why the others could not run."""

    exercise: str
    attempts: dict[Attempt, int]
    could_not_run: dict[ErrorKind, int]

    @property
    def ran(self) -> int:
        return self.attempts[Attempt.ANSWERED_WRONG] + self.attempts[Attempt.FULL_MARKS]


@dataclass(frozen=True)
class Drifts:
    """A frequency check's misses for one outcome and direction, over the class."""

    outcome: str
    overdrawn: bool
    count: int
    expected: float
    median_observed: float


@dataclass(frozen=True)
class CheckFailures:
    """One check among the files that ran: how many failed it, and the usual wrong answer."""

    exercise: str
    name: str
    failed: int
    ran: int
    common: tuple[str, int] | None  # the most common wrong answer, and how many gave it
    drifts: list[Drifts] = field(default_factory=list)  # frequency checks, most common first
    errored: int = 0  # the check itself raised, or was skipped: the author's business

    @property
    def rate(self) -> float:
        return self.failed / self.ran if self.ran else 0.0


def exercise_attempts(result: ClassResult) -> list[ExerciseAttempts]:
    found = []
    for index, info in enumerate(result.exercises):
        outcomes = [s.exercises[index] for s in result.students]
        attempts = Counter(attempt(r) for r in outcomes)
        kinds = Counter(r.error_kind for r in outcomes if attempt(r) is Attempt.COULD_NOT_RUN)
        found.append(ExerciseAttempts(info.id, {a: attempts.get(a, 0) for a in Attempt},
                                      dict(kinds.most_common())))  # type: ignore[arg-type]
    return found


def _drifts(wrong: list[WrongAnswer]) -> list[Drifts]:
    groups: dict[tuple[str, bool], list[WrongAnswer]] = {}
    for answer in wrong:
        if answer.overdrawn is not None and answer.outcome is not None:
            groups.setdefault((answer.outcome, answer.overdrawn), []).append(answer)
    found = [Drifts(outcome, over, len(group), group[0].expected_share or 0.0,
                    statistics.median(a.observed_share or 0.0 for a in group))
             for (outcome, over), group in groups.items()]
    return sorted(found, key=lambda d: (-d.count, d.outcome))


def check_failures(result: ClassResult) -> list[CheckFailures]:
    """Every check's failures among the files that ran, most failed first."""
    found = []
    for index, info in enumerate(result.exercises):
        ran = [s.exercises[index] for s in result.students
               if attempt(s.exercises[index]) in (Attempt.ANSWERED_WRONG, Attempt.FULL_MARKS)]
        if not ran:
            continue
        for position, check in enumerate(ran[0].checks):
            verdicts = [r.checks[position] for r in ran]
            wrong = [c.wrong for c in verdicts
                     if c.status is CheckStatus.FAILED and c.wrong is not None]
            drifts = _drifts(wrong)
            # Frequency misses differ in every digit: they are counted as drifts instead.
            answers = Counter(w.observed for w in wrong if w.outcome is None)
            found.append(CheckFailures(
                info.id, check.name, sum(not c.passed for c in verdicts), len(ran),
                answers.most_common(1)[0] if answers else None, drifts,
                sum(c.status in (CheckStatus.ERRORED, CheckStatus.SKIPPED) for c in verdicts)))
    return sorted(found, key=lambda c: (-c.rate, -c.failed, c.exercise))
