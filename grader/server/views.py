"""The learners' view of a submission: their result (hidden checks withheld until
published), lateness, queue position, and the receipt's counting rule."""

from __future__ import annotations

import functools
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from grader.course import Course as CourseModel
from grader.course.late import lateness
from grader.course.load import load_course
from grader.course.model import Withheld
from grader.results import ExerciseResult
from grader.server import queue, review
from grader.server.models import Course, Submission

RULE = ("your last graded submission of an exercise counts (a grader fault never counts); "
        "past the deadline the course's late policy applies")
BEST_RULE = RULE.replace("your last graded", "your best-scoring graded")  # `counts: best`


@functools.lru_cache(maxsize=64)
def course_of(root: str) -> CourseModel:
    return load_course(Path(root) / "course.yaml")


def learner_result(course: Course, text: str, published: bool | None = None
                   ) -> ExerciseResult:
    """The result as the learner may see it: hidden checks counted and withheld until the
    staff publish them, as a learner's release does (`published`: already looked up)."""
    result = ExerciseResult.model_validate_json(text)
    hidden = [c for c in result.checks if c.visibility == "hidden"]
    if not hidden or (review.published(course, result.exercise) if published is None
                      else published):
        return result
    public = [c for c in result.checks if c.visibility != "hidden"]
    score = sum(c.score for c in public)
    return result.model_copy(update={
        "checks": public, "score": round(score, 6),
        "max_score": round(sum(c.max_score for c in public), 6),
        "withheld": Withheld(checks=len(hidden), points=sum(c.max_score for c in hidden))})


def late(course: Course, exercise_id: str, received: datetime, max_score: float
         ) -> dict[str, Any] | None:
    """How late `received` is for the exercise, by the same code as `grade batch`."""
    model = course_of(course.root)
    exercise = model.exercise(exercise_id)
    deadline = model.deadline_for(exercise) if exercise else None
    if exercise is None or deadline is None:
        return None
    found = lateness(model.late_policy_for(exercise), deadline, received, max_score)
    return {"deadline": deadline.isoformat(), "late_by_seconds": found.late_by.total_seconds(),
            "on_time": found.on_time, "penalty": found.penalty, "refused": found.refused}


_PACE: list[float] = [-1.0, 1.0, 0.0]  # (when computed, seconds per job, jobs in hand)


def pace(workers: int) -> tuple[float, int]:
    """Seconds between verdicts at the server's current pace (the recent gap between
    verdicts while it is busy, or one job's grading time over the workers when it was
    idle), and how many jobs are in the workers' hands (all ahead of a queued job).
    Every waiting learner polls, so computed once a second."""
    if time.monotonic() - _PACE[0] < 1.0:
        return _PACE[1], int(_PACE[2])
    recent = list(Submission.objects.filter(state=Submission.GRADED, leased_at__isnull=False)
                  .order_by("-graded_at").values_list("leased_at", "graded_at")[:50])
    spans = [(graded - leased).total_seconds() for leased, graded in recent]
    each = sum(spans) / len(spans) / max(workers, 1) if spans else 1.0
    if len(recent) > 1:  # a gap the size of an idle spell is no pace: min() drops it
        gaps = (recent[0][1] - recent[-1][1]).total_seconds() / (len(recent) - 1)
        each = min(each, gaps)
    in_hand = Submission.objects.filter(state=Submission.GRADING).count()
    _PACE[:] = [time.monotonic(), each, in_hand]
    return each, in_hand


def estimate(job: Submission, ahead: int, workers: int) -> float:
    """Seconds until `job`'s verdict: the queue ahead of it and the jobs in hand (a job
    being graded waits, on average, for half of those), at the server's pace."""
    if job.state == Submission.GRADED:
        return 0.0
    each, in_hand = pace(workers)
    before = ahead + in_hand if job.state == Submission.QUEUED else in_hand / 2
    return round((before + 1) * each, 1)


def describe(job: Submission, workers: int) -> dict[str, Any]:
    """The submission as the API returns it to its learner."""
    result = None
    if job.result:
        published = review.published(job.course, job.exercise)
        result = learner_result(job.course, job.result, published)
        if published:  # final grades
            result = review.settled(course_of(job.course.root), job.course, job.learner,
                                    result, job.received_at)
    ahead = queue.position(job)
    return {
        "id": job.id, "exercise": job.exercise, "state": job.state,
        "received_at": job.received_at.isoformat(), "sha256": job.sha256, "size": job.size,
        "rule": BEST_RULE if course_of(job.course.root).counts == "best" else RULE,
        "counts": job.counts if job.state == Submission.GRADED else None,
        "position": ahead,
        "estimate_seconds": estimate(job, ahead, workers),
        "graded_at": job.graded_at.isoformat() if job.graded_at else None,
        "grader_version": job.grader_version or None,
        "late": late(job.course, job.exercise, job.received_at,
                     result.final_max_score if result else 0.0),
        "result": result.model_dump(mode="json") if result else None,
    }
