"""`grade release`: the learner's copy ships no answer and no hidden check, and says so."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from grader.authoring.hidden import strip_hidden
from grader.authoring.markers import strip_markers
from grader.checks import check, load_checks
from grader.course import Course, load_course
from tests.conftest import ROOT, graded_in_full

WRONG_SAMPLER = "if r < cumulative:"


def _texts(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8")
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import subprocess

    from tests.conftest import grade_command

    out = tmp_path_factory.mktemp("release") / "learners"
    done = subprocess.run([*grade_command(), "release", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verified: no solution line, no hidden check" in done.stdout
    return out


def test_a_release_holds_exercises_public_checks_and_no_solutions(released: Path,
                                                                  course: Course) -> None:
    files = set(_texts(released))
    for exercise in course.exercises:
        assert f"exercises/{exercise.file}" in files
        assert f"exercises/{Path(exercise.file).stem}.ipynb" in files
        assert exercise.checks in files
    assert "checks/markov.py" in files  # a helper the public checks import
    assert not any(f.startswith("solutions/") for f in files)
    learner = load_course(released / "course.yaml")
    assert learner.release and all(e.solution is None for e in learner.exercises)
    assert "solution" not in (released / "course.yaml").read_text()


def test_no_answer_and_no_hidden_check_is_anywhere_in_the_release(released: Path,
                                                                 course: Course) -> None:
    everything = "\n".join(_texts(released).values())
    answers = ['"cloudy": 0.3', "if r < cumulative", "word = random.choice(options)",
               "out.append(word)", "the river runs to the sea"]
    solutions = "\n".join(course.solution_path(e).read_text() for e in course.exercises)
    assert all(answer in solutions for answer in answers)  # each is a real answer
    for answer in answers:
        assert answer not in everything, answer
    hidden = [c for e in course.exercises
              for c in load_checks(course.checks_path(e)) if c.visibility == "hidden"]
    assert len(hidden) == 2
    for c in hidden:
        assert c.name not in everything and c.id not in everything
    # The data only hidden checks use: the distributions and the corpus "you never saw".
    for secret in ("UNSEEN", "HIDDEN_CORPUS", "apple", "the dog sat on the log"):
        assert secret not in everything, secret


def test_a_learner_grading_in_the_release_gets_public_verdicts_and_the_hidden_note(
        released: Path, run_grade, mutant, tmp_path: Path) -> None:
    work = tmp_path / "mine.py"
    work.write_text(mutant("exercise-1", WRONG_SAMPLER, "if r > cumulative:"))
    done = run_grade("exercise-1", str(work), cwd=released)
    assert done.returncode == 1, done.stderr
    out = done.stdout
    assert "Draws from another distribution follow its weights" in out
    assert "never saw" not in out
    assert "Public checks: 6/9 (not your final score)" in out
    assert ("1 hidden check (1 point) runs when your work is graded; the final score is "
            "out of 10.") in out
    assert "Score:" not in out
    as_json = json.loads(run_grade("exercise-1", str(work), "--json", cwd=released).stdout)
    assert as_json["max_score"] == 9 and as_json["withheld"] == {"checks": 1, "points": 1.0}
    assert all(c["visibility"] == "public" for c in as_json["checks"])


def test_a_skeleton_in_the_release_is_reported_with_the_hidden_note_before_models_load(
        released: Path, run_grade) -> None:
    skeleton = released / "exercises/exercise_1_weighted_sampling.py"
    expected = graded_in_full(released / "course.yaml", "exercise-1", skeleton)
    assert "1 hidden check (1 point) runs" in expected
    for _ in ("first", "again"):  # the second from the course cache's plan
        done = run_grade("exercise-1", cwd=released)
        assert (done.returncode, done.stdout) == (1, expected)


def test_the_author_sees_the_hidden_check_and_the_full_score(run_grade, mutant,
                                                             tmp_path: Path) -> None:
    work = tmp_path / "mine.py"
    work.write_text(mutant("exercise-1", WRONG_SAMPLER, "if r > cumulative:"))
    out = run_grade("exercise-1", str(work)).stdout
    assert "Draws from distributions you never saw" in out and "Score: 6/10" in out
    assert "hidden check" not in out


def test_grade_check_passes_inside_a_release_and_verifies_it_from_the_course(
        released: Path, run_grade) -> None:
    inside = run_grade("check", cwd=released)
    assert inside.returncode == 0, inside.stdout + inside.stderr
    assert "a learner's release" in inside.stdout
    outside = run_grade("check", "--release", str(released))
    assert outside.returncode == 0, outside.stdout + outside.stderr
    assert outside.stdout.startswith("release OK")


def test_grade_check_release_names_each_leak_and_each_changed_verdict(
        released: Path, run_grade, tmp_path: Path) -> None:
    leaky = tmp_path / "leaky"
    shutil.copytree(released, leaky)
    helper = leaky / "checks" / "markov.py"
    helper.write_text(helper.read_text() + "\n# keep: word = random.choice(options)\n"
                      "def _oops(options):\n    word = random.choice(options)  # oops\n"
                      "NAMES = ['test_unseen_corpus']\n")
    checks = leaky / "checks" / "exercise_1.py"
    checks.write_text(checks.read_text().replace(
        'such as 0.25, not text', 'such as 0.25'))
    done = run_grade("check", "--release", str(leaky))
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    length = len(helper.read_text().splitlines())
    assert f"checks/markov.py:{length - 1}: a line of the solution of exercise-2 is in the " \
        "release (solutions/exercise_2_generator.py: word = random.choice(options))" in lines
    hidden = ("'A corpus you never saw: only its word pairs, and its dead end ends the "
              "sentence'")
    assert any(line.startswith(f"checks/markov.py:{length}: `test_unseen_corpus` is in the "
                               f"release: the hidden check {hidden} (checks/exercise_2.py:")
               for line in lines), lines
    assert not any(f"markov.py:{length - 3}:" in line for line in lines)  # a comment
    assert any("'weather holds three non-negative numbers' fails in the course" in line
               for line in lines)


def test_release_refuses_a_folder_that_is_not_an_earlier_release(run_grade,
                                                                 tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    done = run_grade("release", str(tmp_path))
    assert done.returncode == 2 and "not an earlier copy" in done.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_stripping_keeps_shared_helpers_and_cuts_what_only_hidden_checks_use() -> None:
    source = '''"""Checks."""
import math

from grader.checks import check

SHARED = [1, 2]
# Only the hidden check uses this, and this comment goes with it.
SECRET = {"apple": 0.5}


def _helper():
    return SHARED


@check("public", points=1)
def test_public(submission):
    return _helper()


@check("secret", points=1, visibility="hidden")
def test_secret(submission):
    return math.fsum(SECRET.values()) + len(SHARED)
'''
    cut = strip_hidden(source, {"test_secret"})
    assert cut.removed_names == ["SECRET", "math", "test_secret"]
    assert "apple" not in cut.text and "this comment goes" not in cut.text
    assert "SHARED = [1, 2]" in cut.text and "def _helper" in cut.text
    assert "\n\n\n\n" not in cut.text
    compile(cut.text, "stripped.py", "exec")


def test_check_visibility_must_be_public_or_hidden() -> None:
    with pytest.raises(ValueError, match="visibility must be 'public' or 'hidden'"):
        check("x", points=1, visibility="secret")  # type: ignore[arg-type]


def test_solutions_are_full_text_nowhere(released: Path, course: Course) -> None:
    texts = _texts(released).values()
    for exercise in course.exercises:
        solution = strip_markers(course.solution_path(exercise).read_text())
        assert solution not in texts
