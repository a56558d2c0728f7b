"""`grade watch` in a real terminal: tmux runs it on a copy of the course, the test saves
the learner's file the ways editors do, and reads the screen with capture-pane."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from grader.authoring.markers import strip_markers
from tests.conftest import ROOT, copy_course, grade_command

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None,
                                reason="needs tmux (.ci/run installs it)")

# The promise: a save's new score is on screen within this many seconds.
VERDICT_SECONDS = 2.0
# Start-up (Python, the sandbox's zygote, the first grading) on a loaded 2-core machine.
START_SECONDS = 60.0
# After a verdict, how long the screen must stay on it: a second grading of the same
# save (an editor's double write, a rename seen twice) would show up within this.
QUIET_SECONDS = 0.8

EX1 = "exercises/exercise_1_weighted_sampling.py"
EX2 = "exercises/exercise_2_generator.py"


def solution(name: str) -> str:
    return strip_markers((ROOT / "solutions" / Path(name).name).read_text())


SOLUTION_1 = solution(EX1)
WRONG_COMPARISON = SOLUTION_1.replace("if r < cumulative:", "if r > cumulative:")  # 6/10
ALSO_WRONG_WEIGHT = WRONG_COMPARISON.replace('"cloudy": 0.3', '"cloudy": 0.4')  # 4/10


class Terminal:
    """One tmux server of our own, running `grade watch` in a course copy."""

    def __init__(self, course: Path, args: str, env: dict[str, str]) -> None:
        self.course = course
        self.socket = f"grade-watch-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        command = " ".join(shlex.quote(c) for c in grade_command())
        # The shell prints the exit status after grade watch ends, then waits.
        script = (f"env -u GRADE_COURSE -u GRADE_PROGRESS {exports} {command} {args}; "
                  "echo EXIT=$?; sleep 600")
        self.tmux("new-session", "-d", "-s", "w", "-x", "120", "-y", "60", "-c", str(course),
                  script)

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, check=True, timeout=30).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "w")

    def wait_for(self, condition: Callable[[str], bool], seconds: float) -> tuple[str, float]:
        """Poll the screen until `condition` holds; the screen and the seconds it took."""
        started = time.monotonic()
        while True:
            screen = self.screen()
            elapsed = time.monotonic() - started
            if condition(screen):
                return screen, elapsed
            if elapsed > seconds:
                pytest.fail(f"not on screen after {seconds:g} s; the screen:\n{screen}")
            time.sleep(0.02)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def update(screen: str) -> int:
    found = re.findall(r"update #(\d+)", screen)
    return int(found[-1]) if found else 0


class Terminals:
    """A course copy, and the terminals started on it (closed at the end of the test)."""

    def __init__(self, course: Path) -> None:
        self.course = copy_course(course)
        self.opened: list[Terminal] = []

    def start(self, args: str, **env: str) -> Terminal:
        self.opened.append(Terminal(self.course, args, env))
        return self.opened[-1]


@pytest.fixture
def terminals(tmp_path: Path) -> Iterator[Terminals]:
    made = Terminals(tmp_path / "course")
    yield made
    for each in made.opened:
        each.close()


def write(path: Path, text: str) -> None:
    """A plain save: the editor truncates the file and writes it."""
    path.write_text(text)


def rename_save(path: Path, text: str) -> None:
    """A save as vim and many editors do it: a new file renamed over the old one."""
    temporary = path.with_name(f".{path.name}.swp-new")
    temporary.write_text(text)
    os.replace(temporary, path)


def delete_then_save(path: Path, text: str) -> None:
    """The file disappears for a moment, then is written again."""
    path.unlink()
    time.sleep(0.3)
    path.write_text(text)


def save_and_expect(term: Terminal, save: Callable[[Path, str], None], path: Path, text: str,
                    expected: str) -> str:
    """Save; `expected` is on the next grading's screen within 2 s, graded only once."""
    before = update(term.screen())
    save(path, text)
    screen, seconds = term.wait_for(
        lambda s: update(s) > before and expected in s, VERDICT_SECONDS * 5)
    assert seconds <= VERDICT_SECONDS, f"{expected!r} took {seconds:.2f} s\n{screen}"
    time.sleep(QUIET_SECONDS)
    assert update(term.screen()) == before + 1, f"one save, graded more than once:\n{screen}"
    return screen


def stop(term: Terminal) -> None:
    """Ctrl-C: grade watch ends quietly, with status 0."""
    term.tmux("send-keys", "-t", "w", "C-c")
    screen, _ = term.wait_for(lambda s: "EXIT=" in s, 30)
    assert "EXIT=0" in screen and "Traceback" not in screen and "error" not in screen, screen


def test_watch_shows_each_saves_new_score_within_two_seconds_once_per_save(
        terminals: Terminals) -> None:
    term = terminals.start("watch exercise-1")
    course = term.course
    screen, _ = term.wait_for(lambda s: update(s) == 1, START_SECONDS)
    assert "Score: 0/10" in screen and "(watchfiles)" in screen
    # The score comes first, above the checks; failing checks before passing ones.
    screen = save_and_expect(term, write, course / EX1, WRONG_COMPARISON, "Score: 6/10")
    lines = screen.splitlines()
    score_at = next(i for i, line in enumerate(lines) if "Score: 6/10" in line)
    failed_at = [i for i, line in enumerate(lines) if "✗" in line]
    passed_at = [i for i, line in enumerate(lines) if "✓" in line]
    assert failed_at and passed_at, screen
    assert score_at < min(failed_at) and max(failed_at) < min(passed_at), screen
    assert "(hint 1 of 3)" in screen
    # Changed code failing the same check: its hint goes one deeper.
    screen = save_and_expect(term, rename_save, course / EX1, ALSO_WRONG_WEIGHT, "Score: 4/10")
    assert "(hint 2 of 3)" in screen
    # Full marks: says so with what it taught, and moves on to exercise 2.
    screen = save_and_expect(term, delete_then_save, course / EX1, SOLUTION_1,
                             "exercise-2 · Finish the generator")
    assert "Full marks for exercise-1! You learned how one uniform random number" in screen
    assert "1 of 3 exercises done" in screen and "Now watching exercise-2" in screen
    # Now it is exercise 2's file that is watched.
    screen = save_and_expect(term, rename_save, course / EX2, solution(EX2),
                             "exercise-3 · Mini-challenge")
    assert "Full marks for exercise-2!" in screen and "2 of 3 exercises done" in screen
    stop(term)


def notebook(code: str) -> str:
    """A Jupyter notebook whose one code cell is `code`."""
    import nbformat

    return nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]))


def test_watch_polls_without_watchfiles_and_starts_at_the_first_unfinished_notebook(
        terminals: Terminals, run_grade) -> None:
    course = terminals.course
    # exercise-1 done, as a learner does it: the solution in their own file (only that
    # file records progress)
    (course / EX1).write_text((course / "solutions" / Path(EX1).name).read_text())
    done = run_grade("exercise-1", cwd=course, env={"GRADE_PROGRESS": "on"})
    assert done.returncode == 0, done.stdout + done.stderr
    term = terminals.start("watch --notebook", GRADE_WATCH="poll")
    screen, _ = term.wait_for(lambda s: update(s) == 1, START_SECONDS)
    assert "exercise-2 · Finish the generator" in screen and "(polling)" in screen
    assert "exercise_2_generator.ipynb" in screen
    # Jupyter saves a notebook by writing a temporary file and renaming it over the old one.
    notebook_2 = (course / EX2).with_suffix(".ipynb")
    broken = solution(EX2).replace("random.choice(options)", "options[0]")
    screen = save_and_expect(term, rename_save, notebook_2, notebook(broken), "Score: 7/10")
    assert "The next word is sampled, not fixed" in screen
    save_and_expect(term, delete_then_save, notebook_2, notebook(solution(EX2)),
                    "exercise_3_tiny_language_model.ipynb")
    stop(term)
