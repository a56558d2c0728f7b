"""GitHub Classroom: the exported workflow's steps, run here, give the reporter each
check's points, the same as `grade exercise-N --json`."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
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


WHEEL = "grade_exercises-0.1.0-py3-none-any.whl"
# ${{ steps.ID.outputs.result || 'BASE64' }}: GitHub's `||` gives the first truthy operand.
_FALLBACK = re.compile(r"\$\{\{ *steps\.([\w-]+)\.outputs\.result *"
                       r"(?:\|\| *'([A-Za-z0-9+/=]*)' *)?\}\}")


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
    assert set(reporter["env"]) == {f"{i.upper()}_RESULTS" for i in ids}
    for i in ids:  # the step's result, or an error result when the step set none
        assert _FALLBACK.fullmatch(reporter["env"][f"{i.upper()}_RESULTS"]).group(1) == i
    assert reporter["if"] == "always()"  # a failing grader step must not skip the report
    assert all(s["if"] == "always()" and s["timeout-minutes"] > 0 for s in graders)
    # the job's own limit leaves room for every step's, so the reporter is never cut off
    assert job["timeout-minutes"] > sum(s["timeout-minutes"] for s in graders)
    assert (repo / ".grade" / "wheels" / WHEEL).is_file()


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
        output.touch()
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


def _steps(repo: Path) -> tuple[list[dict], dict]:
    flow = yaml.safe_load((repo / ".github" / "workflows" / "classroom.yml").read_text())
    steps = flow["jobs"]["run-autograding-tests"]["steps"]
    return [s for s in steps if "run" in s and "grade-ci" in s["run"]], steps[-1]


def _run_step(step: dict, repo: Path, output: Path, path: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "GRADE_COURSE"}
    output.touch()  # the runner creates $GITHUB_OUTPUT before each step
    return subprocess.run(["bash", "-c", step["run"]], cwd=repo, capture_output=True,
                          text=True, timeout=120,
                          env={**env, "PATH": path, "GITHUB_OUTPUT": str(output)})


def _expression(value: str, outputs: dict[str, str]) -> str:
    """The reporter's env value as GitHub evaluates it (`a || b`: a unless empty)."""
    match = _FALLBACK.fullmatch(value)
    assert match, value
    return outputs.get(match.group(1), "") or (match.group(2) or "")


def _reporter() -> Path | None:
    """dist/main.js of classroom-resources/autograding-grading-reporter v1, when present.

    It is not on npm and this repository does not vendor it: fetch the repository and
    point GRADE_CLASSROOM_REPORTER at its v1 dist/main.js (the test runs here so).
    """
    candidates = [os.environ.get("GRADE_CLASSROOM_REPORTER", ""),
                  str(Path.home() / ".cache" / "grade-tests" / "autograding-grading-reporter"
                      / "dist" / "main.js")]
    found = [Path(c) for c in candidates if c and Path(c).is_file()]
    return found[0] if found and shutil.which("node") else None


def test_a_failed_step_and_a_step_that_never_ran_still_leave_the_others_points(
        repo: Path, tmp_path: Path) -> None:
    graders, reporter = _steps(repo)
    here = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    outputs: dict[str, str] = {}
    first = _run_step(graders[0], repo, tmp_path / "1.out", here)  # graded: 10 points
    # grade is missing (the install step failed): the step fails but writes a result
    second = _run_step(graders[1], repo, tmp_path / "2.out", "/usr/bin:/bin")
    assert second.returncode != 0 and "was not graded" in second.stdout, second.stdout
    for step, out in ((graders[0], "1.out"), (graders[1], "2.out")):
        lines = (tmp_path / out).read_text().splitlines()
        assert len(lines) == 1 and lines[0].startswith("result="), lines
        outputs[step["id"]] = lines[0].removeprefix("result=")
    assert first.returncode == 0, first.stdout + first.stderr
    # the third step timed out: it set no output at all
    env = {name: _expression(value, outputs) for name, value in reporter["env"].items()}
    sent = {name: ReporterInput.model_validate(json.loads(base64.b64decode(v)))
            for name, v in env.items()}
    assert [r.status for r in sent.values()] == ["pass", "error", "error"]
    assert [r.max_score for r in sent.values()] == [10, 10, 10]
    main = _reporter()
    if main is None:
        pytest.skip("the Classroom reporter's dist/main.js is not here (not on npm): "
                    "set GRADE_CLASSROOM_REPORTER to run it")
    done = subprocess.run(["node", str(main)], capture_output=True, text=True, timeout=60,
                          env={"PATH": os.environ["PATH"], **env,
                               "INPUT_RUNNERS": reporter["with"]["runners"]})
    report = re.search(r"::notice title=Autograding report::(\{.*\})", done.stdout)
    assert report, ("the reporter recorded no points", done.stdout + done.stderr)
    assert json.loads(report.group(1)) == {"totalPoints": 10, "maxPoints": 30}


def test_learner_text_never_starts_a_line_as_a_workflow_command(repo: Path,
                                                                tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    shutil.copytree(repo, copy)
    forged = ("x\n::error::forged\n::set-output name=result::forged\n  ::add-mask::secret\n"
              "##[error]v1 " + "w" * 60 + " ::warning::after-wrapping"
              " ::error::" + "long" * 30)  # a word too long for a line starts one
    (copy / "exercises" / "exercise_1_weighted_sampling.py").write_text(
        f"raise ValueError({forged!r})\n")
    out = tmp_path / "out"
    out.touch()
    env = {k: v for k, v in os.environ.items() if k != "GRADE_COURSE"}
    done = subprocess.run([str(Path(sys.executable).with_name("grade")), "ci", "exercise-1"],
                          cwd=copy, capture_output=True, text=True, timeout=120,
                          env={**env, "GITHUB_OUTPUT": str(out)})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "forged" in done.stdout and "secret" in done.stdout  # the words stay, inert
    stops = [i for i, line in enumerate(lines) if line.startswith("::stop-commands::")]
    assert len(stops) == 1, done.stdout
    token = lines[stops[0]].removeprefix("::stop-commands::")
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    assert lines[-1] == f"::{token}::"
    commands = [line for line in lines[stops[0] + 1:-1]
                if line.lstrip().startswith("::") or "##[" in line]
    assert commands == [], ("learner text reads as workflow commands", commands)
    assert any("after-wrapping" in line for line in lines)
    assert out.read_text().count("result=") == 1  # the forged set-output set nothing


def test_the_shipped_wheel_carries_no_readme_and_no_solution_line(repo: Path,
                                                                  course: Course) -> None:
    with zipfile.ZipFile(repo / ".grade" / "wheels" / WHEEL) as wheel:
        meta = wheel.read("grade_exercises-0.1.0.dist-info/METADATA").decode()
    assert "Name: grade-exercises" in meta and "Version: 0.1.0" in meta
    solution_lines = {line.strip() for e in course.exercises
                      for line in course.solution_path(e).read_text().splitlines()
                      if len(line.strip()) > 12 and not line.strip().startswith("#")}
    leaked = [line for line in meta.splitlines() if line.strip() in solution_lines]
    assert leaked == [], ("solution lines in the wheel's METADATA", leaked[:5])
    readme_lines = [line for line in (ROOT / "README.md").read_text().splitlines()
                    if len(line) > 40]
    assert not any(line in meta for line in readme_lines), "the README is in METADATA"


@pytest.mark.parametrize("breakage", ["course.yaml", "no grade"])
def test_a_step_whose_grade_cannot_grade_still_writes_a_zero_result(
        repo: Path, tmp_path: Path, breakage: str) -> None:
    copy = tmp_path / "repo"
    shutil.copytree(repo, copy)
    here = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    if breakage == "course.yaml":  # grade exits 2 before grading
        (copy / "course.yaml").write_text("title: [unclosed\n")
    graders, _ = _steps(copy)
    out = tmp_path / "out"
    done = _run_step(graders[0], copy, out, "/usr/bin:/bin" if breakage == "no grade" else here)
    assert done.returncode != 0, done.stdout
    lines = out.read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith("result="), (lines, done.stdout, done.stderr)
    sent = ReporterInput.model_validate(
        json.loads(base64.b64decode(lines[0].removeprefix("result="))))
    assert (sent.status, sent.max_score) == ("error", 10)
    assert [t.score for t in sent.tests] == [0]
    assert "exercise-1 could not be graded" in done.stdout
