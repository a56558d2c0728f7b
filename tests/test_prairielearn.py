"""PrairieLearn: the exported question's entrypoint, run on a temporary /grade tree,
writes a results.json of PrairieLearn's documented shape for every kind of submission."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from grader.authoring.markers import strip_markers
from grader.course import Course, load_course
from grader.notebooks.build import notebook_text
from grader.platforms.prairielearn import run_prairielearn
from tests.conftest import ROOT, exercise_of, grade_command


class PLTest(BaseModel):
    """A test as <pl-external-grader-results> renders it (PL's docs/externalGrading.md)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str
    description: str | None = None
    points: float
    max_points: float
    message: str | None = None
    output: str | None = None
    images: list[object] | None = None


class PLResults(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    gradable: bool | None = None
    score: float | None = Field(None, ge=0, le=1)
    message: str | None = None
    output: str | None = None
    format_errors: str | list[str] | None = None
    images: list[object] | None = None
    tests: list[PLTest] | None = None


@pytest.fixture(scope="module")
def questions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("prairielearn") / "export"
    done = subprocess.run([*grade_command(), "export", "prairielearn", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return out


def _grade(questions: Path, tmp_path: Path, files: dict[str, str | bytes],
           data: dict | None = None, entrypoint_process: bool = False
           ) -> tuple[PLResults, dict]:
    """Lay out /grade as PrairieLearn does, run the question's entrypoint, read results."""
    info = json.loads((questions / "questions" / "exercise-1" / "info.json").read_text())
    root = tmp_path / "grade"
    shutil.copytree(questions / "questions" / "exercise-1" / "tests", root / "tests")
    (root / "student").mkdir()
    (root / "data").mkdir()
    (root / "data" / "data.json").write_text(json.dumps(data or {"params": {}}))
    for name, content in files.items():
        (root / "student" / name).write_bytes(
            content.encode() if isinstance(content, str) else content)
    entrypoint = info["externalGradingOptions"]["entrypoint"]
    assert entrypoint[:4] == ["grade", "--course", "/grade/tests", "prairielearn"]
    if entrypoint_process:  # the real command; else the same function, in this process
        command = [*grade_command(), *(a.replace("/grade", str(root)) for a in entrypoint[1:]),
                   "--root", str(root)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                              cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    else:
        course = load_course(root / "tests" / "course.yaml")
        run_prairielearn(course, course.exercises[0], root)
    data_out = json.loads((root / "results" / "results.json").read_text())
    return PLResults.model_validate(data_out), data_out


def test_each_question_enables_external_grading_with_tests_and_an_image(
        questions: Path, course: Course) -> None:
    for exercise in course.exercises:
        folder = questions / "questions" / exercise.id
        info = json.loads((folder / "info.json").read_text())
        assert info["gradingMethod"] == "External"
        options = info["externalGradingOptions"]
        assert options["enabled"] is True and options["image"]
        assert 0 < options["timeout"] <= 600
        assert (folder / "tests" / "course.yaml").is_file()
        assert (folder / "tests" / exercise.checks).is_file()
        assert f'file-name="{exercise.file}"' in (folder / "question.html").read_text()
        assert not (folder / "tests" / "solutions").exists()
    dockerfile = (questions / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python" in dockerfile
    wheel = "grade_exercises-0.1.0-py3-none-any.whl"
    assert f"pip install --no-cache-dir /tmp/wheels/{wheel}" in dockerfile  # by path
    assert (questions / "wheels" / wheel).is_file()


def test_a_good_answer_scores_one_and_a_wrong_one_its_fraction(
        questions: Path, tmp_path: Path, course: Course, mutant) -> None:
    solution = strip_markers(course.solution_path(exercise_of(course, "exercise-1")).read_text())
    results, _ = _grade(questions, tmp_path / "good", {"exercise_1_weighted_sampling.py":
                                                       solution}, entrypoint_process=True)
    assert (results.gradable, results.score) == (True, 1.0)
    assert results.tests and len(results.tests) == 7
    assert sum(t.points for t in results.tests) == 10
    wrong = mutant("exercise-1", "if r < cumulative:", "if r > cumulative:")
    results, _ = _grade(questions, tmp_path / "wrong", {"exercise_1 (1).py": wrong})
    assert (results.gradable, results.score) == (True, 0.6)
    failed = [t for t in results.tests or [] if t.points < t.max_points]
    assert failed and all("hint:" in (t.message or "") for t in failed
                          if not (t.message or "").startswith("a hidden check"))
    assert "graded exercise_1 (1).py as exercise-1" in (results.message or "")


@pytest.mark.parametrize(("files", "reason"), [
    ({}, "no file for exercise-1"),
    ({"exercise_1_weighted_sampling.py": "weather = {\n"}, "syntax error"),
    ({"exercise_1_weighted_sampling.py": (ROOT / "exercises" /
                                          "exercise_1_weighted_sampling.py").read_text()},
     "still empty"),
    ({"exercise_1_weighted_sampling.py": b"\xff\xfe"}, "not UTF-8"),
], ids=["missing", "syntax", "blanks", "encoding"])
def test_what_is_not_an_answer_yet_is_not_gradable(questions: Path, tmp_path: Path,
                                                   files: dict, reason: str) -> None:
    results, raw = _grade(questions, tmp_path, files)
    assert results.gradable is False
    assert raw["format_errors"] and reason in raw["format_errors"][0]


def test_a_hostile_answer_is_graded_and_scores_nothing(questions: Path,
                                                        tmp_path: Path) -> None:
    hostile = "import os\nos.kill(os.getppid(), 9)\nos._exit(0)\n"
    results, _ = _grade(questions, tmp_path, {"exercise_1_weighted_sampling.py": hostile})
    assert (results.gradable, results.score) == (True, 0.0)
    assert "sandbox forbids" in (results.message or "")


def test_a_notebook_and_files_carried_in_data_json_are_graded(
        questions: Path, tmp_path: Path, course: Course) -> None:
    exercise = exercise_of(course, "exercise-1")
    solution = strip_markers(course.solution_path(exercise).read_text())
    results, _ = _grade(questions, tmp_path / "nb",
                        {"exercise_1_weighted_sampling.ipynb": notebook_text(exercise,
                                                                            solution)})
    assert results.score == 1.0
    carried = {"submitted_answers": {"_files": [
        {"name": "exercise_1_weighted_sampling.py",
         "contents": base64.b64encode(solution.encode()).decode()}]}}
    results, _ = _grade(questions, tmp_path / "data", {}, data=carried)
    assert results.score == 1.0


def test_hidden_checks_show_their_name_and_points_but_not_what_they_saw(
        questions: Path, tmp_path: Path, mutant) -> None:
    # PrairieLearn shows every test at once: a hidden check's message quotes hidden cases.
    wrong = mutant("exercise-1", "if r < cumulative:", "if r > cumulative:")
    _, raw = _grade(questions, tmp_path, {"exercise_1_weighted_sampling.py": wrong})
    tests = {t["name"]: t for t in raw["tests"]}
    hidden = tests["Draws from distributions you never saw follow their weights"]
    assert (hidden["points"], hidden["max_points"]) == (0, 1)
    assert hidden["message"] == "a hidden check: what it tested and saw is not shown"
    assert hidden["output"] == ""
    public = tests["Draws from weather follow its weights"]
    assert public["points"] == 0 and "hint:" in public["message"]  # public ones explain
    shown = json.dumps(raw)
    for secret in ("apple", "banana", "cherry", "rare"):  # keys of the hidden UNSEEN cases
        assert secret not in shown, (secret, "a hidden case reached the learner")
