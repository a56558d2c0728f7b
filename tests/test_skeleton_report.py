"""A skeleton's report answered before click loads (cli/skeleton.py) is the report the
click command prints: the same bytes on a pipe and on a real terminal, the same exit."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

import click
import pytest

from grader.reports.ansi import style, unstyle
from tests.conftest import grade_command
from tests.test_imports import SKELETON, fail
from tests.test_imports import course as course  # the warm course copy, as a fixture


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GRADE_COURSE", "NO_COLOR")}
    return {**env, "PYTHONPROFILEIMPORTTIME": "1", **extra}


def on_a_terminal(cwd: Path, *args: str) -> tuple[bytes, int, bool]:
    """What `grade ARGS` writes to a real pseudo-terminal, its exit status, and whether it
    imported click."""
    parent, child = pty.openpty()
    process = subprocess.Popen([*grade_command(), *args], cwd=cwd, stdout=child,
                               stderr=subprocess.PIPE, env=environment())
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(parent, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    _, errors = process.communicate(timeout=120)
    os.close(parent)
    return b"".join(chunks), process.returncode, b"| click\n" in errors


# `--course .` goes through the click group; the bare command is answered before it.
VIA_CLICK = ("--course", ".")


def test_the_skeletons_report_on_a_pipe_is_the_click_commands_report(course: Path) -> None:
    runs = [subprocess.run([*grade_command(), *prefix, "exercise-1", SKELETON], cwd=course,
                           capture_output=True, timeout=120, env=environment())
            for prefix in ((), VIA_CLICK)]
    quick, full = runs
    assert b"| click\n" not in quick.stderr and b"| click\n" in full.stderr
    assert (quick.stdout, quick.returncode) == (full.stdout, full.returncode), fail(
        quick.stdout[-300:], full.stdout[-300:], "cli/skeleton.py prints what click would")
    assert quick.returncode == 1 and b"Score: 0/10" in quick.stdout and b"\x1b[" not in quick.stdout


def test_the_skeletons_report_on_a_terminal_is_styled_as_click_styles_it(course: Path) -> None:
    quick, quick_status, quick_click = on_a_terminal(course, "exercise-1", SKELETON)
    full, full_status, full_click = on_a_terminal(course, *VIA_CLICK, "exercise-1", SKELETON)
    assert (quick_click, full_click) == (False, True)
    assert b"\x1b[" in quick, fail(quick[:200], "ANSI styles", "a terminal gets colour")
    assert (quick, quick_status) == (full, full_status), fail(quick[:400], full[:400],
                                                               "the same bytes on a terminal")


def test_no_color_is_honoured_before_click_too(course: Path) -> None:
    done = subprocess.run([*grade_command(), "exercise-1", SKELETON], cwd=course,
                          capture_output=True, timeout=120, env=environment(NO_COLOR="1"))
    assert done.returncode == 1 and b"\x1b[" not in done.stdout


@pytest.mark.parametrize("fg", [None, "red", "green", "yellow"])
@pytest.mark.parametrize("bold", [None, True, False])
def test_the_house_style_is_click_style_byte_for_byte(fg: str | None, bold: bool | None) -> None:
    assert style("x y", fg=fg, bold=bold) == click.style("x y", fg=fg, bold=bold)
    assert unstyle(style("x y", fg=fg, bold=bold)) == "x y"


@pytest.mark.parametrize("kind", ["fifo", "device", "symlink"])
def test_what_is_not_a_regular_file_is_said_by_the_full_path_never_read_first(
        course: Path, tmp_path: Path, kind: str) -> None:
    path = tmp_path / "exercise_1_weighted_sampling.py"
    if kind == "fifo":
        os.mkfifo(path)  # opened for reading, it would wait for a writer forever
    elif kind == "symlink":
        path.symlink_to(course / SKELETON)
    else:
        path = Path("/dev/zero")
    done = subprocess.run([*grade_command(), "exercise-1", str(path)], cwd=course,
                          capture_output=True, timeout=60, env=environment())
    assert done.returncode == 1 and b"no submission: " in done.stdout, fail(
        done.stdout[-300:], "exit 1, no submission", "refused as the grader refuses it")


def test_a_blank_that_only_looks_commented_is_still_reported_as_a_blank(course: Path) -> None:
    """The quick look starts the sandbox when every `___` follows a `#` or sits in a
    triple-quoted string; the pre-flight still decides, so a blank after a "#" inside a
    string is reported as one, as the click command reports it."""
    (course / "tricky.py").write_text('"""Fill in ___."""\nmark = "#"; weather = ___\n')
    runs = [subprocess.run([*grade_command(), *prefix, "exercise-1", "tricky.py"], cwd=course,
                           capture_output=True, timeout=120, env=environment())
            for prefix in ((), VIA_CLICK)]
    quick, full = runs
    assert (quick.stdout, quick.returncode) == (full.stdout, full.returncode), fail(
        quick.stdout[-300:], full.stdout[-300:], "the pre-flight decides, not the quick look")
    assert quick.returncode == 1 and b"the blank on line 2 is still empty" in quick.stdout


SOLUTION = "solutions/exercise_1_weighted_sampling.py"


def wrong_answer(course: Path) -> str:
    """The solution with the classic bug (r > cumulative): graded, fails checks."""
    text = (course / SOLUTION).read_text()
    assert "if r < cumulative" in text
    (course / "wrong.py").write_text(text.replace("if r < cumulative", "if r > cumulative"))
    return "wrong.py"


@pytest.mark.parametrize("which", ["solution", "wrong answer"])
def test_a_copys_report_before_click_is_the_click_commands_report(course: Path,
                                                                   which: str) -> None:
    """A file that is not the exercise's own is graded before click loads (cli/plainly.py
    from cli/skeleton.py): the same stdout, stderr and exit status as the click command."""
    file = SOLUTION if which == "solution" else wrong_answer(course)
    quick, full = [subprocess.run([*grade_command(), *prefix, "exercise-1", file], cwd=course,
                                  capture_output=True, timeout=120, env=environment())
                   for prefix in ((), VIA_CLICK)]
    assert b"| click\n" not in quick.stderr and b"| click\n" in full.stderr, fail(
        "click imported", "not imported", "a copy is graded in grader.cli.main before click")
    said = [b"\n".join(line for line in run.stderr.splitlines()
                       if not line.startswith(b"import time:")) for run in (quick, full)]
    assert (quick.stdout, said[0], quick.returncode) == (full.stdout, said[1], full.returncode), \
        fail(quick.stdout[-300:] + said[0], full.stdout[-300:] + said[1], "the same report")
    assert quick.returncode == (0 if which == "solution" else 1)
    assert b"is not exercises/exercise_1_weighted_sampling.py" in said[0]


def test_a_copys_report_on_a_terminal_is_styled_as_click_styles_it(course: Path) -> None:
    file = wrong_answer(course)
    quick, quick_status, quick_click = on_a_terminal(course, "exercise-1", file)
    full, full_status, full_click = on_a_terminal(course, *VIA_CLICK, "exercise-1", file)
    assert (quick_click, full_click) == (False, True)
    assert b"\x1b[" in quick and quick_status == 1
    assert (quick, quick_status) == (full, full_status), fail(quick[:400], full[:400],
                                                               "the same bytes on a terminal")
