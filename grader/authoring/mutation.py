"""Mutation testing of a course's checks: grade every mutant of each solution.

A mutant that still gets full marks *survives*: the checks cannot tell that wrong
answer from the solution. Mutants are graded on warm workers the caller hands in (the
batch engine's pool, from `grade check --mutants`: authoring sits below batch), with a
short time limit (a mutant that loops forever is killed by it). An author
marks a mutant that really behaves like the solution as equivalent, with a reason,
in the solution (``# EQUIVALENT MUTANT``) or in course.yaml (``equivalent_mutants``).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from enum import Enum
from pathlib import Path
from typing import Protocol

from pydantic import Field, computed_field

from grader.authoring.build import relative
from grader.authoring.markers import equivalent_marks, make_skeleton
from grader.authoring.mutants import Mutant, Operator, make_mutants
from grader.authoring.problems import Problem
from grader.course import Course, Exercise, Limits
from grader.course.model import EquivalentMutant
from grader.models import Model
from grader.results import ExerciseResult
from grader.runner import Grader
from grader.sandbox.client import Sandbox

# A mutant gets this many times the solution's grading time, at least MIN_LIMIT
# seconds and at most the course's limit: a mutant that loops forever costs little.
SLOWDOWN = 10
MIN_LIMIT = 2.0


class MutantStatus(str, Enum):
    KILLED = "killed"          # some check failed, or it could not be graded
    SURVIVED = "survived"      # full marks: the checks miss this wrong answer
    EQUIVALENT = "equivalent"  # full marks, and the author says it behaves like the solution


class MutantResult(Model):
    """One mutant and what the checks made of it."""

    id: str
    operator: Operator
    line: int = Field(description="line of the solution (without its markers)")
    file: str = Field("", description="the marked solution, relative to the course")
    source_line: int = Field(0, description="the line in `file`, the marked solution")
    before: str
    after: str
    status: MutantStatus
    failed: list[str] = Field(default_factory=list, description="checks it failed")
    passed: list[str] = Field(default_factory=list, description="checks it passed")
    error: str | None = Field(None, description="why it could not be graded (killed)")
    reason: str | None = Field(None, description="why it is marked equivalent")
    diff: str


class ExerciseMutation(Model):
    """The mutants of one exercise's solution."""

    exercise: str
    mutants: list[MutantResult]
    stale_marks: list[str] = Field(default_factory=list,
                                   description="equivalence marks that match no surviving mutant")

    def _count(self, status: MutantStatus) -> int:
        return sum(m.status == status for m in self.mutants)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def killed(self) -> int:
        return self._count(MutantStatus.KILLED)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def survived(self) -> int:
        return self._count(MutantStatus.SURVIVED)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def equivalent(self) -> int:
        return self._count(MutantStatus.EQUIVALENT)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def kill_rate(self) -> float:
        """Killed among the mutants not marked equivalent (1.0 when there are none)."""
        counted = self.killed + self.survived
        return self.killed / counted if counted else 1.0


class MutationReport(Model):
    """What `grade check --mutants --json` prints."""

    ok: bool
    problems: list[Problem] = Field(default_factory=list,
                                    description="course problems that stopped mutation testing")
    exercises: list[ExerciseMutation] = Field(default_factory=list)
    workers: int = 0
    time_limit: float = 0.0
    seconds: float = 0.0


def _rules(course: Course, exercise: Exercise, raw_solution: str) -> list[EquivalentMutant]:
    from_comments = [EquivalentMutant(code=m.code, mutant=m.which, reason=m.reason)
                     for m in equivalent_marks(raw_solution) if m.code and m.reason]
    return [*exercise.equivalent_mutants, *from_comments]


def _matches(rule: EquivalentMutant, mutant: Mutant) -> bool:
    if rule.code.strip() not in mutant.before:
        return False
    return rule.mutant is None or rule.mutant == mutant.operator.value or (
        rule.mutant in mutant.after)


def _with_time_limit(course: Course, seconds: float) -> Course:
    """The course with every time limit lowered to `seconds` (never raised)."""
    def lower(limits: Limits) -> Limits:
        return limits.model_copy(update={"time_limit": min(limits.time_limit, seconds)})

    exercises = [e.model_copy(update={"limits": lower(e.limits)}) if e.limits else e
                 for e in course.exercises]
    return course.model_copy(update={"limits": lower(course.limits), "exercises": exercises}
                             ).located(course.root)


Key = tuple[str, int]  # (exercise id, mutant index)


class Workers(Protocol):
    """Warm workers that grade files (`grader.batch.pool.WorkerPool` is one)."""

    def grade(self, work: Iterable[tuple[Key, Exercise, Path]]
              ) -> Iterator[tuple[Key, ExerciseResult, object]]: ...


# (course, how many workers) -> started workers, closed on leaving the `with`
PoolFactory = Callable[[Course, int], AbstractContextManager[Workers]]


def _baseline(course: Course, exercises: list[Exercise], texts: dict[str, str]
              ) -> tuple[dict[str, ExerciseResult], float]:
    """Each solution graded once here: it must get full marks; how long it takes."""
    results = {}
    with Sandbox() as sandbox:
        grader = Grader(course, sandbox)
        for exercise in exercises:
            results[exercise.id] = grader.grade_source(
                exercise, texts[exercise.id], course.solution_path(exercise).name)
    slowest = max((r.seconds for r in results.values()), default=0.0)
    return results, max(MIN_LIMIT, SLOWDOWN * slowest)


def _outcome(mutant: Mutant, solution: str, result: ExerciseResult,
             rule: EquivalentMutant | None, where: tuple[str, list[int]]) -> MutantResult:
    failed = [c.name for c in result.checks if not c.passed]
    passed = [c.name for c in result.checks if c.passed]
    survived = result.full_marks
    rule = rule if survived else None
    status = (MutantStatus.KILLED if not survived else
              MutantStatus.EQUIVALENT if rule else MutantStatus.SURVIVED)
    file, origins = where
    source_line = origins[mutant.line - 1] if 0 < mutant.line <= len(origins) else mutant.line
    return MutantResult(id=mutant.id, operator=mutant.operator, line=mutant.line, file=file,
                        source_line=source_line, before=mutant.before, after=mutant.after,
                        status=status,
                        failed=failed, passed=passed, error=result.error,
                        reason=rule.reason if rule else None, diff=mutant.diff(solution))


def run_mutants(course: Course, exercises: list[Exercise], jobs: int,
                pool: PoolFactory) -> MutationReport:
    """Make and grade every mutant of each exercise's solution on `jobs` warm workers
    that `pool` starts."""
    started = time.monotonic()
    raw = {e.id: course.solution_path(e).read_text(encoding="utf-8") for e in exercises}
    skeletons = {e.id: make_skeleton(raw[e.id]) for e in exercises}
    texts = {e.id: skeletons[e.id].solution for e in exercises}
    baseline, limit = _baseline(course, exercises, texts)
    problems = [Problem(file=str(Path(course.solutions_dir) / course.solution_path(e).name),
                        line=None, message=(
        f"the solution does not get full marks ({baseline[e.id].error or 'some checks fail'}), "
        "so its mutants say nothing about the checks"), exercise=e.id)
        for e in exercises if not baseline[e.id].full_marks]
    if problems:
        return MutationReport(ok=False, problems=problems)
    mutants = {e.id: make_mutants(texts[e.id]) for e in exercises}
    graded: dict[tuple[str, int], ExerciseResult] = {}
    mutant_course = _with_time_limit(course, limit)
    with tempfile.TemporaryDirectory(prefix="grade-mutants-") as folder:
        work: list[tuple[Key, Exercise, Path]] = []
        for exercise in exercises:
            for index, mutant in enumerate(mutants[exercise.id]):
                path = Path(folder) / f"{exercise.id}-{index}" / exercise.file
                path.parent.mkdir()
                path.write_text(mutant.source, encoding="utf-8")
                copied = mutant_course.exercise(exercise.id)
                assert copied is not None  # the same course, other limits
                work.append(((exercise.id, index), copied, path))
        workers = max(1, min(jobs, len(work)))
        if work:
            with pool(mutant_course, workers) as warm:
                for key, result, _worker in warm.grade(work):
                    graded[key] = result
    report = MutationReport(ok=True, workers=workers, time_limit=limit)
    for exercise in exercises:
        rules = _rules(course, exercise, raw[exercise.id])
        outcomes, used = [], set()
        for index, mutant in enumerate(mutants[exercise.id]):
            rule = next((r for r in rules if _matches(r, mutant)), None)
            where = (relative(course, course.solution_path(exercise)),
                     skeletons[exercise.id].origins)
            outcomes.append(_outcome(mutant, texts[exercise.id], graded[exercise.id, index],
                                     rule, where))
            if outcomes[-1].status == MutantStatus.EQUIVALENT:
                used.add(id(rule))
        stale = [f"{r.code!r}" + (f" ({r.mutant})" if r.mutant else "") + f": {r.reason}"
                 for r in rules if id(r) not in used]
        report.exercises.append(ExerciseMutation(exercise=exercise.id, mutants=outcomes,
                                                 stale_marks=stale))
    report.ok = all(e.survived == 0 for e in report.exercises)
    report.seconds = round(time.monotonic() - started, 2)
    return report
