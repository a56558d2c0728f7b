"""GitHub Classroom: the exported workflow's steps, run here, give the reporter each
check's points, the same as `grade exercise-N --json`."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Literal

import pytest
import yaml
from pydantic import BaseModel, ConfigDict

from grader.authoring.markers import strip_markers
from grader.course import Course
from tests.conftest import ROOT, exercise_of


class ReporterTest(BaseModel):
    """A test as classroom-resources/autograding-*-grader actions write it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str
    status: Literal["pass", "fail", "error"]
    score: float
    message: str
    test_code: str
    filename: str
    line_no: int
    duration: int


class ReporterInput(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    version: Literal[1]
    status: Literal["pass", "fail", "error"]
    max_score: float
    tests: list[ReporterTest]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, course: Course) -> Path:
    """The exported template repository, with a learner's work committed in it."""
    from tests.conftest import grade_command

    out = tmp_path_factory.mktemp("classroom") / "repo"
    done = subprocess.run([*grade_command(), "export", "github-classroom", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    one = exercise_of(course, "exercise-1")
    (out / "exercises" / one.file).write_text(
        strip_markers(course.solution_path(one).read_text()))
    two = exercise_of(course, "exercise-2")
    (out / "exercises" / two.file).write_text(strip_markers(
        course.solution_path(two).read_text()).replace("random.choice(options)", "options[0]"))
    three = exercise_of(course, "exercise-3")
    (out / "exercises" / three.file).write_text("corpus = (\n")  # a syntax error
    return out


def test_the_workflow_is_what_classroom_and_its_reporter_require(repo: Path,
                                                                 course: Course) -> None:
    flow = yaml.safe_load((repo / ".github" / "workflows" / "classroom.yml").read_text())
    assert flow["name"] == "Autograding Tests"
    assert {"push", "repository_dispatch"} <= set(flow["on"])
    assert flow["permissions"] == {"checks": "write", "actions": "read", "contents": "read"}
    job = flow["jobs"]["run-autograding-tests"]
    assert list(flow["jobs"]) == ["run-autograding-tests"]
    assert job["runs-on"] == "ubuntu-latest"
    assert job["if"] == "github.actor != 'github-classroom[bot]'"
    ids = [e.id for e in course.exercises]
    graders = [s for s in job["steps"] if s.get("id") in ids]
    assert [s["id"] for s in graders] == ids
    reporter = job["steps"][-1]
    assert reporter["uses"] == "classroom-resources/autograding-grading-reporter@v1"
    assert reporter["with"]["runners"] == ",".join(ids)
    assert reporter["env"] == {f"{i.upper()}_RESULTS": f"${{{{steps.{i}.outputs.result}}}}"
                               for i in ids}
    assert reporter["if"] == "always()"  # a failing grader step must not skip the report
    assert (repo / ".grade" / "wheels" / "grade-0.1.0-py3-none-any.whl").is_file()


def test_each_step_sets_a_result_whose_points_match_grade_json(repo: Path, course: Course,
                                                               run_grade,
                                                               tmp_path: Path) -> None:
    flow = yaml.safe_load((repo / ".github" / "workflows" / "classroom.yml").read_text())
    steps = [s for s in flow["jobs"]["run-autograding-tests"]["steps"]
             if s.get("id") in {e.id for e in course.exercises}]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}"
           f"{os.environ.get('PATH', '')}"}
    env.pop("GRADE_COURSE", None)
    for step in steps:
        output = tmp_path / f"{step['id']}.out"
        done = subprocess.run(["bash", "-c", step["run"]], cwd=repo, capture_output=True,
                              text=True, timeout=120, env={**env, "GITHUB_OUTPUT": str(output)})
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("isolation: ")  # which level ran, in the log
        assert "Score:" in done.stdout  # the learner's usual feedback
        lines = output.read_text().splitlines()
        assert len(lines) == 1 and lines[0].startswith("result=")
        sent = ReporterInput.model_validate(
            json.loads(base64.b64decode(lines[0].removeprefix("result="))))
        expected = json.loads(run_grade(step["id"], "--json", cwd=repo).stdout)
        assert sent.max_score == expected["max_score"] == 10
        assert sum(t.score for t in sent.tests) == expected["score"]
        assert [(t.name, t.score) for t in sent.tests] == [
            (c["name"], c["score"]) for c in expected["checks"]]
        wanted = {"exercise-1": "pass", "exercise-2": "fail", "exercise-3": "error"}
        assert sent.status == wanted[step["id"]]
    assert sum(1 for _ in tmp_path.glob("*.out")) == 3


def test_a_public_only_repository_grades_the_public_checks(tmp_path: Path, run_grade) -> None:
    out = tmp_path / "repo"
    assert run_grade("export", "github-classroom", str(out), "--public-only").returncode == 0
    text = "\n".join(p.read_text() for p in (out / "checks").glob("*.py"))
    assert "Draws from distributions you never saw" not in text and "UNSEEN" not in text
    assert "withheld" in (out / "course.yaml").read_text()
