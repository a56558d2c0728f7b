"""course.yaml: the shipped one loads; a malformed one names the field and its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.course import ConfigError, Course, load_course
from tests.conftest import ROOT

GOOD = (ROOT / "course.yaml").read_text()


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "course.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_course(path)
    return [str(p) for p in caught.value.problems]


def test_shipped_course_loads(course: Course) -> None:
    assert [e.id for e in course.exercises] == ["exercise-1", "exercise-2", "exercise-3"]
    assert course.learner_path(course.exercises[0]).is_file()
    assert course.limits_for(course.exercises[0]).time_limit == 10


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("exercise_1.py\n    points: 10\n", "exercise_1.py\n    pionts: 10\n",
     "line 13: exercises[0].pionts: unknown field (check its spelling)"),
    ("  time_limit: 10 ", "  time_limit: -1 ",
     "line 5: limits.time_limit: Input should be greater than 0"),
    ("    title: Finish the generator\n", "",
     "line 15: exercises[1].title: required field is missing"),
    ("  - id: exercise-2", "  - id: exercise-1",
     "exercise id 'exercise-1' is used twice"),
    ("    file: exercise_1_weighted_sampling.py", "    file: ../escape.sh",
     "line 10: exercises[0].file: String should match pattern"),
])
def test_malformed_field_is_named_with_its_line(tmp_path: Path, old: str, new: str,
                                                expected: str) -> None:
    assert GOOD.count(old) == 1
    found = problems(tmp_path, GOOD.replace(old, new))
    assert any(expected in p for p in found), found


def test_invalid_yaml_gives_its_line(tmp_path: Path) -> None:
    found = problems(tmp_path, "title: x\nexercises:\n  - id: [unclosed\n")
    assert found and found[0].startswith("line 4: not valid YAML")


def test_a_config_problem_carries_its_line_and_field_as_data(tmp_path: Path) -> None:
    path = tmp_path / "course.yaml"
    path.write_text(GOOD.replace("  time_limit: 10 ", "  time_limit: -1 "))
    with pytest.raises(ConfigError) as caught:
        load_course(path)
    (problem,) = caught.value.problems
    assert (problem.line, problem.field, problem.code) == (5, "limits.time_limit",
                                                           "greater_than")


def test_not_a_mapping(tmp_path: Path) -> None:
    assert problems(tmp_path, "- just\n- a list\n") == [
        "must be a mapping with title and exercises"]


def test_exercise_limits_override_only_the_fields_they_set(tmp_path: Path) -> None:
    text = GOOD.replace("  memory_mb: 512\n", "  memory_mb: 2048\n").replace(
        "exercise_1.py\n    points: 10\n",
        "exercise_1.py\n    points: 10\n    limits:\n      time_limit: 30\n")
    path = tmp_path / "course.yaml"
    path.write_text(text)
    course = load_course(path)
    first, second = course.exercises[:2]
    assert (course.limits_for(first).time_limit, course.limits_for(first).memory_mb) == (30, 2048)
    assert (course.limits_for(second).time_limit, course.limits_for(second).memory_mb) == (10, 2048)
