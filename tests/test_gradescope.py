"""Gradescope: the autograder zip installs offline in a fresh venv and grades any upload.

The zip is unpacked into a temporary root standing for /autograder; setup.sh makes a
fresh venv from this machine's base Python and installs with pip's --no-index, so
`grade` and every dependency come from the zip's wheels (pip's config files and PIP_*
variables are cleared, so no other wheel source is seen). run_autograder then grades
each kind of submission, and every results.json is validated against a strict model
of Gradescope's documented format, written here from the spec (not our own model).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from grader.course import Course
from grader.notebooks.build import notebook_text
from tests.conftest import exercise_of

# The first test also builds the zip (pip downloads wheels for four Pythons) and runs
# setup.sh: more than the suite's 120 s on a loaded machine.
pytestmark = pytest.mark.timeout(900)
Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]
Format = Literal["text", "html", "simple_format", "md", "ansi"]


class SpecTest(BaseModel):
    """One test of results.json (Gradescope's autograder specification, its specs page)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    score: float | None = None
    max_score: float | None = None
    status: Literal["passed", "failed"] | None = None
    name: str | None = None
    name_format: Format | None = None
    number: str | None = None
    output: str | None = None
    output_format: Format | None = None
    tags: list[str] | None = None
    visibility: Visibility | None = None
    extra_data: dict[str, object] | None = None


class SpecResults(BaseModel):
    """The top level of results.json."""

    model_config = ConfigDict(extra="forbid", strict=True)

    score: float | None = None
    execution_time: float | None = Field(None, ge=0)
    output: str | None = None
    output_format: Format | None = None
    test_output_format: Format | None = None
    test_name_format: Format | None = None
    visibility: Visibility | None = None
    stdout_visibility: Visibility | None = None
    extra_data: dict[str, object] | None = None
    tests: list[SpecTest] | None = None
    leaderboard: list[dict[str, object]] | None = None


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "GRADE_", "VIRTUAL_ENV", "PYTHON"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if ".venv" not in p)
    return {**env, "PIP_CONFIG_FILE": os.devnull, **extra}


@pytest.fixture(scope="module")
def autograder(tmp_path_factory: pytest.TempPathFactory,
               gradescope_export: tuple[Path, subprocess.CompletedProcess[str]]) -> Path:
    """A temporary /autograder: the zip in source/, setup.sh run, nothing else."""
    zip_path, _ = gradescope_export
    work = tmp_path_factory.mktemp("gradescope")
    root = work / "autograder"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    for name in ("setup.sh", "run_autograder"):  # extractall drops modes; Gradescope doesn't
        (root / "source" / name).chmod(0o755)
    base = getattr(sys, "_base_executable", sys.executable)
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], cwd=work,
                           capture_output=True, text=True, timeout=600,
                           env=_clean_env(GRADE_AUTOGRADER_ROOT=str(root), GRADE_PYTHON=base,
                                          GRADE_PIP_OPTIONS="--no-index"))
    assert setup.returncode == 0, setup.stdout + setup.stderr
    return root


def _run(root: Path, files: dict[str, str | bytes]) -> tuple[SpecResults, dict, str]:
    submission = root / "submission"
    shutil.rmtree(submission, ignore_errors=True)
    submission.mkdir()
    for name, content in files.items():
        path = submission / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    done = subprocess.run([str(root / "source" / "run_autograder")], cwd=root,
                          capture_output=True, text=True, timeout=300,
                          env=_clean_env(GRADE_AUTOGRADER_ROOT=str(root)))
    assert done.returncode == 0, done.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    return SpecResults.model_validate(data), data, done.stdout


def _scores(results: SpecResults) -> dict[str, float]:
    per: dict[str, float] = {}
    for test in results.tests or []:
        exercise = (test.name or "").split(":")[0]
        per[exercise] = per.get(exercise, 0) + (test.score or 0)
    return per


def test_the_zip_has_its_scripts_at_the_root_with_lf_0755_and_a_shebang(
        tmp_path: Path, run_grade) -> None:
    zip_path = tmp_path / "autograder.zip"
    assert run_grade("export", "gradescope", str(zip_path), "--no-dependencies").returncode == 0
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        assert names[:2] == ["setup.sh", "run_autograder"]
        for name in ("setup.sh", "run_autograder"):
            info = archive.getinfo(name)
            assert stat.S_IMODE(info.external_attr >> 16) == 0o755
            assert stat.S_ISREG(info.external_attr >> 16)
            data = archive.read(name)
            assert data.startswith(b"#!/usr/bin/env bash\n") and b"\r" not in data
        assert "course/course.yaml" in names and "course/checks/exercise_1.py" in names
        assert not any(n.startswith(("solutions/", "course/solutions/")) for n in names)
        wheels = [n for n in names if n.startswith("wheels/")]
        assert wheels == ["wheels/grade_exercises-0.1.0-py3-none-any.whl"]
        hidden = archive.read("course/checks/exercise_1.py").decode()
        assert 'visibility="hidden"' in hidden  # every check, hidden ones included


def test_setup_installed_grade_from_the_zip_into_a_fresh_venv(autograder: Path) -> None:
    venv_python = autograder / "venv" / "bin" / "python"
    done = subprocess.run([str(venv_python), "-c", "import grader, pydantic; "
                           "print(grader.__file__); print(pydantic.__file__)"],
                          cwd="/", capture_output=True, text=True, env=_clean_env())
    assert done.returncode == 0, done.stderr
    for line in done.stdout.split():
        assert line.startswith(str(autograder / "venv")), line


def test_a_good_upload_with_an_odd_name_gets_full_marks_and_a_note(autograder: Path,
                                                                  course: Course) -> None:
    solution = course.solution_path(exercise_of(course, "exercise-1")).read_text()
    results, data, _ = _run(autograder, {"exercise_1 (1).py": solution})
    assert _scores(results) == {"exercise-1": 10, "exercise-2": 0, "exercise-3": 0}
    assert results.score == 10
    assert "graded exercise\\_1 (1).py as exercise-1" in (results.output or "")
    assert len(data["tests"]) == 20
    for test in data["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility"}
        assert test["output_format"] == "md"
    missing = [t for t in data["tests"] if t["name"].startswith("exercise-3")]
    assert all("no submission" in t["output"] and t["status"] == "failed" for t in missing)


def test_hidden_checks_show_after_publishing_and_the_rest_at_once(autograder: Path,
                                                                  mutant) -> None:
    wrong = mutant("exercise-1", "if r < cumulative:", "if r > cumulative:")
    results, _, _ = _run(autograder, {"exercise_1_weighted_sampling.py": wrong})
    assert results.score == 6
    by_name = {t.name: t for t in results.tests or []}
    hidden = by_name["exercise-1: Draws from distributions you never saw follow their weights"]
    assert (hidden.visibility, hidden.status, hidden.score) == ("after_published", "failed", 0)
    public = by_name["exercise-1: Draws from weather follow its weights"]
    assert public.visibility == "visible" and public.status == "failed"
    assert "**hint:**" in (public.output or "") and "```text" in (public.output or "")


def test_the_output_learners_see_at_once_holds_no_hidden_points(autograder: Path,
                                                                 mutant) -> None:
    # The hidden check fails here: a score out of 10 would tell it before publication.
    wrong = mutant("exercise-1", "if r < cumulative:", "if r > cumulative:")
    results, _, _ = _run(autograder, {"exercise_1_weighted_sampling.py": wrong})
    mine = [t for t in results.tests or [] if (t.name or "").startswith("exercise-1:")]
    seen = [t for t in mine if t.visibility == "visible"]
    hidden = [t for t in mine if t.visibility != "visible"]
    assert hidden, "exercise-1 has a hidden check"
    shown, shown_max = sum(t.score or 0 for t in seen), sum(t.max_score or 0 for t in seen)
    line = next(x for x in (results.output or "").splitlines() if "**exercise-1**" in x)
    total = sum(t.score or 0 for t in mine)
    assert f"{total:g}/10" not in line, (line, "no total out of the full 10 points before "
                                         "publication")
    assert f"{shown:g}/{shown_max:g} from the visible checks" in line, line
    worth = sum(t.max_score or 0 for t in hidden)
    assert f"{len(hidden)} hidden check{'s' * (len(hidden) != 1)} ({worth:g} point" in line


def test_ten_thousand_files_in_subfolders_do_not_hide_the_right_files_at_the_top(
        autograder: Path, course: Course) -> None:
    files: dict[str, str | bytes] = {
        e.file: course.solution_path(e).read_text() for e in course.exercises}
    for i in range(10_000):  # e.g. a virtualenv or a dataset uploaded with the work
        files[f"env/lib/pkg{i // 100:03d}/mod{i % 100:02d}.py"] = "x = 1\n"
    results, _, _ = _run(autograder, files)
    assert _scores(results) == {"exercise-1": 10, "exercise-2": 10, "exercise-3": 10}, (
        results.output)
    output = results.output or ""
    assert "looked at only the first 2,000" in output, output  # the cap is said
    assert output.count("- note: ignored env/") <= 20, "ignored files are counted, not listed"


def test_a_notebook_in_a_folder_is_graded_and_what_learners_print_reaches_only_stdout(
        autograder: Path, course: Course) -> None:
    exercise = exercise_of(course, "exercise-2")
    solution = course.solution_path(exercise).read_text().replace(
        'random.seed(2)', 'random.seed(2)\nprint("PRINTED-BY-LEARNER-42")')
    notebook = notebook_text(exercise, solution)
    results, data, stdout = _run(autograder, {"my work/exercise_2_generator.ipynb": notebook,
                                              "my work/notes.txt": "hello"})
    assert _scores(results)["exercise-2"] == 10
    assert "PRINTED-BY-LEARNER-42" in stdout
    assert "PRINTED-BY-LEARNER-42" not in json.dumps(data)
    assert data["stdout_visibility"] == "hidden"


def test_broken_exiting_and_hostile_uploads_score_nothing_and_say_why(
        autograder: Path) -> None:
    hostile = ("open('../results/results.json', 'w').write('{\"score\": 100}')\n"
               "import os\nos.system('echo hacked > /tmp/gs-hacked')\n")
    results, _, _ = _run(autograder, {  # one upload per exercise, each broken its own way
        "exercise_1_weighted_sampling.py": "weather = {\n",
        "exercise_2_generator.py": "import os\nos._exit(3)\n",
        "exercise_3_tiny_language_model.py": hostile})
    assert results.score == 0
    first = {t.name.split(":")[0]: t.output or "" for t in reversed(results.tests or [])
             if t.name}
    assert "syntax error" in first["exercise-1"]
    assert "ended its own process" in first["exercise-2"]
    assert "not checked" in first["exercise-3"]
    assert not Path("/tmp/gs-hacked").exists()


def test_results_json_is_written_even_when_grade_cannot_run_or_crashes(
        autograder: Path) -> None:
    course_yaml = autograder / "source" / "course" / "course.yaml"
    checks = autograder / "source" / "course" / "checks" / "exercise_3.py"
    saved_yaml, saved_checks = course_yaml.read_text(), checks.read_text()
    try:
        course_yaml.write_text("title: [unclosed\n")  # grade exits before grading
        results, _, _ = _run(autograder, {})
        assert results.score == 0 and "could not run" in (results.output or "")
        course_yaml.write_text(saved_yaml)
        checks.write_text("raise RuntimeError('a broken checks file')\n")  # grading raises
        results, _, stdout = _run(autograder, {})
        assert results.score == 0 and results.tests == []
        assert "failed on this submission" in (results.output or "")
        assert "a broken checks file" in stdout  # the traceback, for instructors only
    finally:
        course_yaml.write_text(saved_yaml)
        checks.write_text(saved_checks)
