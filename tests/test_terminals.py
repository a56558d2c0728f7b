"""Terminals and files as learners' machines have them.

Consoles that cannot write "✓ ✗ ·" (cp1252, ASCII), colour only on a real
terminal (tmux) and never with NO_COLOR, and files as Windows editors save them:
CRLF line endings, a UTF-8 byte-order mark, or Windows-1252 bytes.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from grader.authoring.markers import strip_markers
from grader.course import Course
from grader.runner import Grader
from tests.conftest import ROOT, exercise_of, grade_command

FILE = "exercise_1_weighted_sampling.py"
SOLUTION = strip_markers((ROOT / "solutions" / FILE).read_text())
SKELETON = (ROOT / "exercises" / FILE).read_text()
# Wrong, and printing what no cp1252 or ASCII console can show.
WRONG = SOLUTION.replace("if r < cumulative:", "if r > cumulative:") + "print('🎲 done ✓')\n"
SYNTAX = SOLUTION.replace("cumulative = 0.0", "cumulative = (0.0", 1)


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


def grade_bytes(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("GRADE_COURSE", "NO_COLOR", "PYTHONIOENCODING")}
    environment.update(env)
    return subprocess.run([*grade_command(), *args], cwd=ROOT, capture_output=True,
                          timeout=120, env=environment)


@pytest.fixture(scope="module")
def wrong_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wrong") / FILE
    path.write_text(WRONG, encoding="utf-8")
    return path


@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_a_console_that_cannot_write_the_symbols_gets_plain_ones(encoding: str,
                                                                 wrong_file: Path) -> None:
    done = grade_bytes("exercise-1", str(wrong_file), "--output",
                       env={"PYTHONIOENCODING": encoding})
    assert done.returncode == 1, done.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in done.stdout + done.stderr
    text = done.stdout.decode(encoding)  # every byte is this console's own
    assert "  x Draws from weather follow its weights" in text
    assert "  + weather holds three non-negative numbers" in text
    assert "Score: 6/10" in text
    assert "  | ? done +" in text, fail(text[-200:], "  | ? done +",
                                          "what the console lacks becomes a stand-in")


def test_json_on_an_ascii_console_is_valid_json_with_the_learners_text_intact(
        wrong_file: Path) -> None:
    done = grade_bytes("exercise-1", str(wrong_file), "--json",
                       env={"PYTHONIOENCODING": "ascii"})
    assert done.returncode == 1
    result = json.loads(done.stdout.decode("ascii"))
    assert result["output"] == "🎲 done ✓\n"


def test_colour_only_on_a_terminal(wrong_file: Path) -> None:
    piped = grade_bytes("exercise-1", str(wrong_file), env={})
    assert b"\x1b[" not in piped.stdout, "no escape codes into a pipe or file"


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux for a real terminal")
@pytest.mark.parametrize(("no_color", "coloured"), [(None, True), ("1", False)])
def test_a_real_terminal_gets_colour_unless_no_color_is_set(
        no_color: str | None, coloured: bool, wrong_file: Path, tmp_path: Path) -> None:
    session = f"grade-colour-{os.getpid()}-{no_color}"
    done_marker = tmp_path / "done"
    env = "NO_COLOR=1 " if no_color else "env -u NO_COLOR "
    command = (f"cd {shlex.quote(str(ROOT))} && {env}"
               f"{shlex.join([*grade_command(), 'exercise-1', str(wrong_file)])}; "
               f"touch {shlex.quote(str(done_marker))}; sleep 60")
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "50",
                    command], check=True)
    try:
        deadline = time.monotonic() + 60
        while not done_marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        screen = subprocess.run(["tmux", "capture-pane", "-e", "-p", "-t", session],
                                capture_output=True, text=True, check=True).stdout
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    assert "Score: 6/10" in screen, screen
    assert ("\x1b[" in screen) is coloured, fail(screen[:300], coloured,
                                                  "colour on a TTY, none with NO_COLOR")


# --- Files as editors save them. ---

def saved(tmp_path: Path, text: str, *, crlf: bool = False, bom: bool = False,
          encoding: str = "utf-8", name: str = FILE) -> Path:
    data = (text.replace("\n", "\r\n") if crlf else text).encode(encoding)
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def outcome(grader: Grader, course: Course, path: Path) -> tuple[object, ...]:
    result = grader.grade(exercise_of(course, "exercise-1"), path)
    return (result.score, result.error, result.output,
            [(c.passed, c.message, c.hint, c.detail) for c in result.checks])


@pytest.mark.parametrize("label", ["solution", "skeleton", "wrong", "syntax error"])
@pytest.mark.parametrize(("crlf", "bom"), [(True, False), (False, True), (True, True)],
                         ids=["crlf", "bom", "crlf+bom"])
def test_crlf_and_bom_files_grade_exactly_like_lf_without_bom(
        label: str, crlf: bool, bom: bool, grader: Grader, course: Course,
        tmp_path: Path) -> None:
    text = {"solution": SOLUTION, "skeleton": SKELETON, "wrong": WRONG,
            "syntax error": SYNTAX}[label]
    (tmp_path / "lf").mkdir()
    (tmp_path / "saved").mkdir()
    plain = outcome(grader, course, saved(tmp_path / "lf", text))
    edited = outcome(grader, course, saved(tmp_path / "saved", text, crlf=crlf, bom=bom))
    assert edited == plain, fail(edited, plain, "line endings and a BOM change nothing")
    if label == "skeleton":  # line numbers included
        assert plain[1].startswith("the blanks on lines 18 and 33 are still empty")
    if label == "syntax error":
        assert plain[1] == ("your file has a syntax error: '(' was never closed "
                            "(line 30: cumulative = (0.0)")


def test_a_windows_1252_file_is_told_it_is_not_utf8_with_its_line(
        grader: Grader, course: Course, tmp_path: Path) -> None:
    text = SOLUTION.replace('"""', '"""Café au lait. ', 1)
    line = text[: text.index("Café")].count("\n") + 1
    path = saved(tmp_path, text, crlf=True, encoding="cp1252")
    result = grader.grade(exercise_of(course, "exercise-1"), path)
    expected = (f"the file is not UTF-8 text (byte 0xe9 on line {line}); "
                "save it as UTF-8 in your editor")
    assert (result.score, result.error) == (0.0, expected)
