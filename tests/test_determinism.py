"""Same submission, same verdict: ten gradings agree check by check."""

from __future__ import annotations

import pytest

from grader.course import Course
from grader.runner import Grader
from tests.conftest import exercise_of

CASES = [
    ("exercise-1", "if r < cumulative:", "if r <= cumulative + 0.01:"),  # borderline-wrong
    ("exercise-2", "random.choice(options)", "random.choice(options[:2])"),
    ("exercise-3", "random.choice(chain[word])", "random.choice(sorted(set(chain[word])))"),
]


@pytest.mark.parametrize(("exercise_id", "old", "new"), CASES, ids=[c[0] for c in CASES])
def test_ten_runs_agree(grader: Grader, course: Course, mutant, exercise_id: str, old: str,
                        new: str) -> None:
    exercise = exercise_of(course, exercise_id)
    source = mutant(exercise_id, old, new)
    runs = [grader.grade_source(exercise, source, "same.py") for _ in range(10)]
    verdicts = {tuple((c.passed, c.score, c.message) for c in r.checks) for r in runs}
    assert len(verdicts) == 1
    assert len({r.score for r in runs}) == 1
