"""The learner's loop outside watch: grade status, the progress file, -k, deepening hints."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from grader.authoring.markers import strip_markers
from grader.checks import CheckFailed, fail
from grader.progress.status import StatusReport
from grader.results import CheckResult
from tests.conftest import ROOT, copy_course

EX1 = "exercises/exercise_1_weighted_sampling.py"
SOLUTION_1 = strip_markers((ROOT / "solutions/exercise_1_weighted_sampling.py").read_text())
WRONG_COMPARISON = SOLUTION_1.replace("if r < cumulative:", "if r > cumulative:")  # 6/10
PROGRESS = ".grade/progress.json"


@pytest.fixture
def run_grade(run_grade):
    """The real `grade`, with the learner's progress on (the suite turns it off elsewhere)."""

    def run(*args: str, **kwargs):
        return run_grade(*args, env={"GRADE_PROGRESS": "on"}, **kwargs)

    return run


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A learner's copy of the course."""
    return copy_course(tmp_path / "course")


def status(run_grade, home: Path) -> tuple[StatusReport, str]:
    done = run_grade("status", "--json", cwd=home)
    assert done.returncode == 0, done.stdout + done.stderr
    return StatusReport.model_validate_json(done.stdout), done.stderr


def save(home: Path, name: str, text: str) -> Path:
    path = home / name
    path.write_text(text)
    return path


# --- grade status and the progress file -----------------------------------------------

def test_status_after_a_sequence_of_gradings_shows_best_last_blanks_and_next(
        run_grade, home: Path) -> None:
    report, _ = status(run_grade, home)
    assert [(r.id, r.best, r.done, r.blanks) for r in report.exercises] == [
        ("exercise-1", None, False, 2), ("exercise-2", None, False, 3),
        ("exercise-3", None, False, 0)]
    assert report.next == "exercise-1"
    assert run_grade("exercise-1", cwd=home).returncode == 1  # the skeleton: 0/10
    report, _ = status(run_grade, home)  # blanks left: no check ran, nothing recorded
    assert [(r.best, r.last, r.graded_at) for r in report.exercises[:1]] == [(None, None, None)]
    assert run_grade("exercise-1", str(save(home, EX1, SOLUTION_1)),
                     cwd=home).returncode == 0
    assert run_grade("exercise-1", str(save(home, EX1, WRONG_COMPARISON)),
                     cwd=home).returncode == 1
    report, notes = status(run_grade, home)
    first = report.exercises[0]
    assert (first.best, first.last, first.max_score, first.done) == (10, 6, 10, True)
    assert (first.file, first.blanks) == (EX1, 0)  # the last file graded, as it is now
    assert first.graded_at is not None and notes == ""
    assert (report.done, report.next) == (1, "exercise-2")
    text = run_grade("status", cwd=home).stdout
    assert "exercise-1  yes   10/10  6/10" in text and "next: exercise-2" in text


def test_a_file_with_blanks_is_not_recorded_by_the_whole_grader_either(
        run_grade, home: Path) -> None:
    """--json grades a file with blanks through the models (Recorder), not the quick
    report: it too leaves the exercise ungraded, as `grade status` then shows."""
    done = run_grade("exercise-1", "--json", cwd=home)
    assert done.returncode == 1 and json.loads(done.stdout)["error_kind"] == "blanks"
    report, _ = status(run_grade, home)
    first = report.exercises[0]
    assert (first.best, first.last, first.graded_at, first.blanks) == (None, None, None, 2)


def test_the_progress_file_is_ignored_by_git_and_never_half_written(
        run_grade, home: Path) -> None:
    subprocess.run(["git", "init", "-q", str(home)], check=True)
    assert run_grade("exercise-1", str(save(home, EX1, WRONG_COMPARISON)), cwd=home).returncode == 1
    data = json.loads((home / PROGRESS).read_text())
    assert data["version"] == 1 and data["exercises"]["exercise-1"]["last"] == 6
    untracked = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                               cwd=home, capture_output=True, text=True, check=True).stdout
    assert ".grade" not in untracked and "course.yaml" in untracked
    assert not list((home / ".grade").glob("*.tmp"))  # the temporary file was renamed


@pytest.mark.parametrize("content, reason", [
    ("{not json", "is not valid JSON"),
    ('{"version": 0, "exercises": []}', "is from another version of grade (version 0)"),
    ('{"version": 1, "exercises": {"exercise-1": {"best": "lots"}}}', "unexpected content"),
])
def test_a_corrupt_or_old_progress_file_is_ignored_with_a_note_and_replaced(
        run_grade, home: Path, content: str, reason: str) -> None:
    (home / ".grade").mkdir()
    (home / PROGRESS).write_text(content)
    report, notes = status(run_grade, home)
    assert reason in notes and "grading is not affected" in notes
    assert report.next == "exercise-1" and report.exercises[0].best is None
    if reason != "is not valid JSON":
        return  # one kind of bad file is enough to see grading replace it (time)
    graded = run_grade("exercise-1", str(save(home, EX1, SOLUTION_1)), cwd=home)
    assert graded.returncode == 0 and "Score: 10/10" in graded.stdout
    assert reason in graded.stderr and "Traceback" not in graded.stderr
    assert (home / ".grade/progress.json.ignored").read_text() == content  # kept aside
    report, notes = status(run_grade, home)
    assert notes == "" and report.exercises[0].best == 10


def test_a_read_only_course_folder_still_grades_and_says_progress_is_not_saved(
        run_grade, home: Path) -> None:
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        pytest.skip("needs unshare and mount for a read-only bind mount")
    assert run_grade("exercise-1", str(save(home, EX1, WRONG_COMPARISON)),
                     cwd=home).returncode == 1  # recorded: last 6
    save(home, EX1, SOLUTION_1)

    def read_only(*args: str) -> subprocess.CompletedProcess[str]:
        from tests.conftest import grade_command

        command = " ".join([*grade_command(), *args])
        return subprocess.run(
            ["unshare", "-m", "--propagation", "private", "sh", "-c",
             f"mount --bind -o ro {home} {home} && cd {home} && {command}"],
            capture_output=True, text=True, timeout=120)

    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("this machine does not allow a mount namespace")
    graded = read_only("exercise-1")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert "Full marks for exercise-1!" in graded.stdout
    assert "progress not saved" in graded.stderr and "Read-only file system" in graded.stderr
    shown = read_only("status", "--json")
    assert shown.returncode == 0, shown.stderr
    first = StatusReport.model_validate_json(shown.stdout).exercises[0]
    assert (first.last, first.done, first.blanks) == (6, False, 0)  # the run was not saved


# --- grade exercise-N -k TEXT --------------------------------------------------------

def test_k_runs_only_the_checks_whose_name_contains_the_text_and_says_so(
        run_grade, home: Path) -> None:
    wrong = str(save(home, "wrong.py", WRONG_COMPARISON))
    done = run_grade("exercise-1", wrong, "-k", "WEIGHTS", "--json", cwd=home)
    result = json.loads(done.stdout)
    assert [c["name"] for c in result["checks"]] == [
        "The weights add up to 1", "Draws from weather follow its weights",
        "Draws from another distribution follow its weights",
        "Draws from distributions you never saw follow their weights"]
    assert (result["score"], result["max_score"], done.returncode) == (2, 6, 1)
    text = run_grade("exercise-1", wrong, "-k", "add up", cwd=home)
    assert text.returncode == 0 and "Score: 2/2" in text.stdout
    assert "ran 1 of 7 checks: this score covers only those checks" in text.stdout
    assert "Full marks" not in text.stdout
    report, _ = status(run_grade, home)
    assert report.exercises[0].best is None  # a -k score is not the exercise's score
    missing = run_grade("exercise-1", wrong, "-k", "no such check", cwd=home)
    assert missing.returncode == 2
    assert "no check of exercise-1 has 'no such check' in its name" in missing.stderr
    assert "The same seed gives the same draws" in missing.stderr


# --- hints that deepen ----------------------------------------------------------------

def test_fail_keeps_every_hint_and_shows_the_first_and_json_carries_only_that() -> None:
    with pytest.raises(CheckFailed) as failed:
        fail("seen", "wanted", hint=["nudge", "closer", "nearly"])
    assert (failed.value.hint, failed.value.hints) == ("nudge", ["nudge", "closer", "nearly"])
    result = CheckResult(name="n", passed=False, score=0, max_score=1, message="m",
                         hint="nudge", hints=["nudge", "closer"])
    assert "hints" not in json.loads(result.model_dump_json())


def weather_hint(output: str) -> str:
    """The hint line(s) of the failing weather-frequency check, joined."""
    block = output.split("Draws from weather follow its weights", 1)[1]
    block = block.split("outcome  expected", 1)[0]
    return " ".join(block.split())


def test_hints_deepen_with_each_failure_on_changed_code_and_grade_hint_goes_deeper(
        run_grade, home: Path) -> None:
    path = save(home, EX1, WRONG_COMPARISON)

    def hint_now() -> str:
        return weather_hint(run_grade("exercise-1", cwd=home).stdout)

    first = hint_now()
    assert "which stretch of [0, 1) belongs to each outcome" in first
    assert "(hint 1 of 3)" in first
    assert "(hint 1 of 3)" in hint_now()  # the same code again: the same hint
    path.write_text(WRONG_COMPARISON + "\n# tried again\n")
    second = hint_now()
    assert "(hint 2 of 3)" in second and "`cumulative` is where" in second
    # --json is for scripts: the same file always gives the same text (the first hint).
    scripted = json.loads(run_grade("exercise-1", "--json", cwd=home).stdout)
    weather = next(c for c in scripted["checks"] if c["name"].startswith("Draws from weather"))
    assert weather["hint"].startswith("an outcome should come up") and "(hint" not in \
        weather["hint"]
    asked = run_grade("hint", "exercise-1", cwd=home)
    assert asked.returncode == 0, asked.stderr
    assert "Draws from weather follow its weights" in asked.stdout
    assert "(hint 3 of 3)" in asked.stdout and "the last hint for this check" in asked.stdout
    path.write_text(WRONG_COMPARISON + "\n# and again\n")
    assert "(hint 3 of 3)" in hint_now()  # never deeper than the last
    solved = run_grade("hint", "exercise-1", str(save(home, "mine.py", SOLUTION_1)),
                       cwd=home)
    assert "every check passes; no hint needed" in solved.stdout


# The main failure modes of the shipped exercises: the check that must answer with
# deepening hints, and the answer that none of the hints may give.
FAILURE_MODES = [
    ("exercise-1", "if r < cumulative:", "if r > cumulative:",
     "Draws from weather follow its weights", "r < cumulative"),
    ("exercise-1", '"cloudy": 0.3', '"cloudy": 0.4', "The weights add up to 1", "0.3"),
    ("exercise-1", "dist.items()", "weather.items()",
     "sample returns an outcome of the distribution it is given", "dist.items():"),
    ("exercise-2", "random.choice(options)", "options[0]",
     "The next word is sampled, not fixed", "random.choice(options)"),
    ("exercise-2", "break", "pass",
     "A dead-end word ends the sentence instead of crashing", "break"),
    ("exercise-3", "append(following)",
     "append(following) if following not in chain.get(current, []) else None",
     "chain holds exactly the word pairs of your corpus", "setdefault"),
    ("exercise-3", 'print(generate("the", 8))',
     'if __name__ == "__main__":\n    print(generate("the", 8))',
     "The sentence you print comes from your corpus", 'print(generate("the"'),
    ("exercise-3", "random.choice(chain[word])", "chain[word][0]",
     "generate samples the next word at random", "random.choice(chain"),
]


@pytest.mark.parametrize("exercise_id, old, new, name, answer", FAILURE_MODES)
def test_each_main_failure_mode_gets_three_deepening_hints_that_never_give_the_answer(
        grade_text, mutant, exercise_id: str, old: str, new: str, name: str,
        answer: str) -> None:
    result = grade_text(exercise_id, mutant(exercise_id, old, new))
    failed = {c.name: c for c in result.checks if not c.passed}
    assert name in failed and result.error is None, result
    hints = failed[name].hints
    assert len(hints) >= 3 and len(set(hints)) == len(hints), hints
    assert not any(answer in hint for check in failed.values() for hint in check.hints)
