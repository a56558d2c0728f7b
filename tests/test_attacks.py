"""The attack suite: every hostile or broken submission gets its exact outcome.

Each attack is graded from a student folder of a batch-like layout (sibling
students, out/ with a gradebook); afterwards every other file is byte-identical,
no process of the box survives and its folder is gone. See tests/attacks.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from attacks import (
    ATTACKS,
    FILE,
    LIBRARY,
    ROOT,
    SOLUTION,
    Attack,
    Layout,
    attack,
    quick_course,
    survivors,
    uid_processes,
)

from grader import learner_text as lt
from grader.course import Course
from grader.learner_text import _UNSAFE as UNSAFE
from grader.learner_text import max_result_bytes
from grader.results import ExerciseResult
from grader.runner import Grader
from grader.sandbox.client import Sandbox

NOBODY = 65534
ZYGOTE_DIED = ("the grader's sandbox failed while grading this file (its zygote process died); "
               "nothing was counted: grade it again, and tell your teaching assistant if it "
               "repeats")


@pytest.fixture(scope="module")
def box_sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def attack_course() -> Course:
    return quick_course()


@pytest.fixture(scope="module")
def attack_grader(attack_course: Course, box_sandbox: Sandbox) -> Grader:
    return Grader(attack_course, box_sandbox)


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return Layout(tmp_path).create()


def assert_clean(sandbox: Sandbox) -> None:
    assert survivors(sandbox) == []
    assert os.listdir(sandbox.info["boxes"]) == []


@pytest.mark.parametrize("case", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack(case: Attack, layout: Layout, attack_grader: Grader, attack_course: Course,
                box_sandbox: Sandbox) -> None:
    before = layout.snapshot()
    result = attack_grader.grade(attack_course.exercises[0], layout.submit(case))
    expected = case.expected(box_sandbox.isolation, layout.paths)
    assert (result.score, result.error) == (expected["score"], expected["error"])
    assert result.error_kind == expected["kind"]  # a kind for every error, the row's own
    if expected["output"] is not None:
        assert result.output == expected["output"]
    if result.error is not None:
        assert [c.score for c in result.checks] == [0.0] * len(result.checks)
    assert_bounded_and_inert(result, cut=case.cut)
    assert layout.snapshot() == before
    assert_clean(box_sandbox)


def assert_bounded_and_inert(result: ExerciseResult, cut: bool = False) -> None:
    """No field over its cap, nothing a terminal obeys, and a marker where text was cut."""
    data = result.model_dump_json()
    assert len(data) <= max_result_bytes(len(result.checks))
    texts = [result.error or "", result.output] + [
        t for c in result.checks for t in (c.name, c.message, c.hint or "", c.detail or "")]
    assert [t for t in texts if UNSAFE.search(t)] == []
    caps = [lt.ERROR_CHARS, lt.OUTPUT_CHARS] + [
        cap for _ in result.checks
        for cap in (lt.NAME_CHARS, lt.ERROR_CHARS, lt.HINT_CHARS, lt.DETAIL_CHARS)]
    # escapes may widen a cut text up to 6 times; the marker adds a few characters
    assert all(len(t) <= 6 * cap + 64 for t, cap in zip(texts, caps)), "a field over its cap"
    assert ("[... cut:" in data) is cut


@pytest.mark.parametrize(("name", "said"), [
    ("sys.exit inside sample",
     "called sys.exit() or exit() (line 29: import sys; sys.exit(0)  # uniform"),
    ("KeyboardInterrupt inside sample",
     "raised KeyboardInterrupt (line 29: raise KeyboardInterrupt  # uniform"),
])
def test_exits_inside_a_function_fail_only_the_checks_that_call_it(
        name: str, said: str, layout: Layout, attack_grader: Grader,
        attack_course: Course) -> None:
    result = attack_grader.grade(attack_course.exercises[0], layout.submit(attack(name)))
    # the two checks that only read `weather` pass; every check that calls `sample` fails
    assert [c.passed for c in result.checks] == [True, True] + [False] * (len(result.checks) - 2)
    assert len(result.checks) >= 6 and all(said in c.message for c in result.checks[2:])


CHECKS = '''
import pytest
from grader.checks import check

@check("passes", points=1)
def test_passes(submission):
    submission.value("weather")

@check("skipped", points=2)
def test_skipped(submission):
    pytest.skip("not today")

@check("errors", points=3)
def test_errors(submission):
    return {}["missing"]

@check("exits", points=4)
def test_exits(submission):
    raise SystemExit(0)

@check("pytest.fail", points=5)
def test_fails(submission):
    pytest.fail("nope")
'''


def test_checks_that_skip_error_or_exit_count_as_failed(tmp_path: Path,
                                                        box_sandbox: Sandbox) -> None:
    from grader.course import load_course

    (tmp_path / "checks.py").write_text(CHECKS)
    (tmp_path / "course.yaml").write_text(
        "title: t\nexercises:\n  - {id: e, title: E, file: e.py, solution: e.py, "
        "checks: checks.py}\n")
    course = load_course(tmp_path / "course.yaml")
    result = Grader(course, box_sandbox).grade_source(course.exercises[0], LIBRARY, "e.py")
    assert (result.score, result.max_score, result.error) == (1.0, 15.0, None)
    assert [(c.name, c.passed, c.score) for c in result.checks] == [
        ("passes", True, 1.0), ("skipped", False, 0.0), ("errors", False, 0.0),
        ("exits", False, 0.0), ("pytest.fail", False, 0.0)]
    assert [c.message for c in result.checks[1:]] == [
        "not checked (skipped: not today), so it counts as failed",
        "could not check your answer (KeyError: 'missing'), so it counts as failed",
        "could not check your answer (SystemExit: 0), so it counts as failed",
        "could not check your answer (Failed: nope), so it counts as failed",
    ]


def test_a_killed_zygote_costs_one_submission_not_the_batch(attack_course: Course) -> None:
    exercise = attack_course.exercises[0]
    with Sandbox() as sandbox:
        grader = Grader(attack_course, sandbox)
        old_info, results = dict(sandbox.info), []
        worker = threading.Thread(
            target=lambda: results.append(grader.grade_source(exercise, "while 1: pass\n",
                                                              FILE)))
        worker.start()
        deadline = time.monotonic() + 30
        while not survivors(sandbox) and time.monotonic() < deadline:
            time.sleep(0.02)  # wait until the box runs: then kill its zygote
        os.kill(sandbox.process_id, signal.SIGKILL)
        worker.join()
        assert results[0].score == 0
        assert results[0].error == ZYGOTE_DIED
        later = grader.grade_source(exercise, SOLUTION, FILE)
        assert (later.score, later.error) == (10.0, None)
        assert sandbox.info["boxes"] != old_info["boxes"]
        assert_clean(sandbox)
    assert not Path(old_info["boxes"]).exists()


def test_cli_plain_level_says_so_once_and_still_grades(run_grade, tmp_path: Path) -> None:
    done = run_grade("exercise-1", str(ROOT / "solutions" / FILE), "--json",
                     env={"GRADE_SANDBOX": "plain"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["score"] == 10.0
    assert done.stderr == ("note: reduced isolation on this machine (no chroot, network, "
                           "pid_namespace); see README, 'Threat model'\n")


def test_cli_full_level_has_no_note(run_grade, box_sandbox: Sandbox) -> None:
    if box_sandbox.weakened:
        pytest.skip(f"this machine does not allow {box_sandbox.weakened}")
    done = run_grade("exercise-1", str(ROOT / "solutions" / FILE), "--json")
    assert (done.returncode, done.stderr) == (0, "")


def test_cli_rejects_an_unknown_level(run_grade) -> None:
    done = run_grade("exercise-1", "--json", env={"GRADE_SANDBOX": "none"})
    assert done.returncode == 2
    assert "GRADE_SANDBOX='none' is not one of full, no-namespaces, plain" in done.stderr


# --- As an unprivileged user: the user-namespace path and the fallbacks, for real. ---

# The grader starts its zygote with sys.executable: that must work as nobody too.
PROBE = ("import subprocess, sys; "
         "subprocess.run([sys.executable, '-c', 'import pydantic'], check=True)")


def _nobody_python() -> str | None:
    """An interpreter of this version that the nobody user can execute."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        return None
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, shutil.which(version), f"/usr/bin/{version}"):
        if candidate and subprocess.run(
                ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                 candidate, "-c", PROBE], capture_output=True,
                env={"PYTHONPATH": _site()}).returncode == 0:
            return candidate
    return None


def _site() -> str:
    import pydantic

    return os.pathsep.join([str(Path(pydantic.__file__).parents[1]), str(ROOT)])


# Every level, the same answer: ending itself, a capped disk, no signal outside.
EVERY_LEVEL = ["SIGKILL itself at import", "SIGKILL its own group from sample",
               "fill the disk with 1 MB files", "fill the disk with empty files",
               "fill the disk inside nested folders", "kill the parent", "kill everything",
               "fork bomb", "os._exit", "connect to the network"]
UNPRIVILEGED = {
    # level -> attacks graded; in "plain" the box shares the grader's uid with no
    # namespace and no Landlock: reading and writing files works (documented);
    # the seccomp filter still refuses every signal outside the box.
    "full": [*EVERY_LEVEL, "escape the chroot (double chroot)",
             "double fork + setsid background sleeper", "plant a FIFO in OUTDIR",
             "audit hook off, then a double-fork + setsid daemon",
             "read other students, solutions, checks, gradebook",
             "delete and overwrite files", "memory bomb", "patch random"],
    "no-namespaces": [*EVERY_LEVEL, "read other students, solutions, checks, gradebook",
                      "delete and overwrite files", "plant a FIFO in OUTDIR",
                      "audit hook off, then a double-fork + setsid daemon"],
    "plain": [*EVERY_LEVEL, "double fork + setsid background sleeper", "memory bomb",
              "audit hook off, then a double-fork + setsid daemon",
              "patch random"],
}


@pytest.fixture
def nobody_layout() -> Iterator[tuple[str, Layout]]:
    """A batch layout owned by nobody (as a TA owns the class), and a Python to run as it."""
    python = _nobody_python()
    if python is None:
        pytest.skip("needs root (to become nobody), setpriv and a Python nobody can run")
    root = Path(tempfile.mkdtemp(prefix="grade-attacks-"))
    layout = Layout(root).create()
    for path in [root, *root.rglob("*")]:
        os.chown(path, NOBODY, NOBODY)
    yield python, layout
    shutil.rmtree(root)


def nobody_boxes() -> set[Path]:
    """Box folders of nobody's zygotes (other graders may run on this machine)."""
    return {p for p in Path("/tmp").glob("grade-boxes-*") if p.stat().st_uid == NOBODY}


def run_as_nobody(python: str, layout: Layout, level: str,
                  names: list[str]) -> list[dict[str, Any]]:
    done = subprocess.run(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", python,
         str(ROOT / "tests" / "attacks.py"), str(layout.root), *names],
        capture_output=True, text=True, timeout=300, cwd="/tmp",
        env={"PYTHONPATH": _site(), "GRADE_SANDBOX": level, "PATH": os.defpath})
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.parametrize("level", list(UNPRIVILEGED))
def test_unprivileged_grader(level: str, nobody_layout: tuple[str, Layout]) -> None:
    python, layout = nobody_layout
    before, nobody_before = layout.snapshot(), uid_processes(NOBODY)
    boxes_before = nobody_boxes()
    rows = run_as_nobody(python, layout, level, UNPRIVILEGED[level])
    isolation = rows[0]["isolation"]
    if level == "full" and not isolation["user_namespace"]:
        pytest.skip("unprivileged user namespaces are disabled on this machine")
    assert isolation["setuid"] is False
    assert isolation["chroot"] is (level == "full")
    assert rows[0]["weakened"] == ([] if level == "full" else
                                   ["chroot", "network", "pid_namespace"])
    if level == "no-namespaces" and not isolation["landlock"]:
        pytest.skip("this kernel has no Landlock")
    for row in rows:
        expected = row["expected"]
        assert (row["name"], row["score"], row["error"], row["error_kind"]) == (
            row["name"], expected["score"], expected["error"], expected["kind"])
        if expected["output"] is not None:
            assert row["output"] == expected["output"], row["name"]
        assert row["changed"] == [], row["name"]
    assert layout.snapshot() == before
    assert uid_processes(NOBODY) - nobody_before == set()
    assert nobody_boxes() - boxes_before == set()


def test_plain_level_cannot_hide_files_from_learner_code(
        nobody_layout: tuple[str, Layout]) -> None:
    """The documented weakness of "plain": same uid, no chroot, no Landlock."""
    python, layout = nobody_layout
    [row] = run_as_nobody(python, layout, "plain",
                          ["read other students, solutions, checks, gradebook"])
    assert row["score"] == 10.0
    assert "# bob's own work" in row["output"]


def test_encoded_results_reach_the_trusted_side_as_plain_data(grade_text) -> None:
    """Results are encoded once in the box and spliced into the frame: a dict subclass
    whose items() lies, or a str subclass, still arrives as what JSON says it is."""
    source = (
        "class Sneaky(dict):\n"
        "    def items(self):\n"
        "        return [('sunny', 1.0)]\n"
        "weather = {'sunny': 0.6, 'rainy': 0.1, 'cloudy': 0.3}\n"
        "class Word(str):\n"
        "    def __eq__(self, other):\n"
        "        return True\n"
        "    __hash__ = str.__hash__\n"
        "def sample(dist):\n"
        "    return Word('nonsense')\n"
    )
    result = grade_text("exercise-1", source)
    outcomes = next(c for c in result.checks if c.name.startswith("sample returns"))
    assert not outcomes.passed
    assert "returned 'nonsense'" in outcomes.message


def test_folders_shut_with_chmod_0_are_still_removed() -> None:
    """Without root, rmtree cannot enter a folder learner code chmod-ed to 0 (nested too)."""
    python = _nobody_python()
    if python is None:
        pytest.skip("needs root (to become nobody), setpriv and a Python nobody can run")
    home = Path(tempfile.mkdtemp(prefix="grade-chmod-"))  # pytest's tmp is root-only
    os.chown(home, NOBODY, NOBODY)
    box = home / "box"
    script = (
        "import os, sys; from grader.sandbox.zygote import remove_tree\n"
        f"box = {str(box)!r}\n"
        "os.makedirs(box + '/a/b/c'); open(box + '/a/b/c/f', 'w').write('x')\n"
        "for d in ('/a/b/c', '/a/b', '/a'): os.chmod(box + d, 0)\n"
        "remove_tree(box); sys.exit(os.path.lexists(box))\n")
    done = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
                           "--clear-groups", python, "-c", script], capture_output=True,
                          text=True, env={"PYTHONPATH": _site()}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert not box.exists()
    home.rmdir()


@pytest.mark.parametrize(("source", "error"), [
    ("import os\nos._exit(121)\n",  # the sandbox's own 'could not lock down' status
     "your code ended its own process (os._exit(121) or similar)"),
    ("import json, socket, struct\nch = socket.socket(fileno=3)\n"
     "d = json.dumps({'id': 1, 'error': 'x'}).encode()\n"
     "ch.sendall(struct.pack('>I', len(d)) + d)\n",
     "your code interfered with the grader's channel"),
    ("import socket, struct\nch = socket.socket(fileno=3)\nd = b'[' * 200000\n"
     "ch.sendall(struct.pack('>I', len(d)) + d)\n",
     "your code interfered with the grader's channel"),
], ids=["exit-121", "forged-error", "deep-nesting"])
def test_learner_code_cannot_pass_for_a_grader_fault(grade_text, source: str,
                                                    error: str) -> None:
    result = grade_text("exercise-1", source)
    assert result.score == 0 and result.error is not None
    assert result.error.startswith(error), result.error
    assert not result.grader_fault


def test_a_trickled_frame_cannot_outlast_the_deadline(tmp_path: Path, run_grade) -> None:
    """One byte every second, SIGALRM ignored: the deadline holds for the whole frame."""
    import time

    (tmp_path / "course.yaml").write_text(
        (ROOT / "course.yaml").read_text().replace("time_limit: 10 ", "time_limit: 2 "))
    for part in ("exercises", "solutions", "checks"):
        shutil.copytree(ROOT / part, tmp_path / part)
    trickle = tmp_path / "trickle.py"
    trickle.write_text(
        "import signal, socket, struct, time\n"
        "signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
        "ch = socket.socket(fileno=3)\nch.sendall(struct.pack('>I', 1000))\n"
        "for _ in range(60):\n    ch.sendall(b' ')\n    time.sleep(1)\n")
    started = time.monotonic()
    done = run_grade("exercise-1", str(trickle), "--json", cwd=tmp_path)
    assert time.monotonic() - started < 30  # 60 s if each byte restarted the clock
    assert '"error":"time limit: your code did not finish within 2 s' in done.stdout


def test_removing_a_box_never_touches_what_is_around_it(tmp_path: Path) -> None:
    from grader.sandbox.zygote import remove_tree

    tmp_path.chmod(0o755)
    (tmp_path / "shut").mkdir()
    (tmp_path / "shut" / "f").write_text("x")
    (tmp_path / "shut").chmod(0)
    remove_tree(str(tmp_path / "missing"))  # already gone: nothing to do
    remove_tree(str(tmp_path / "shut"))
    assert not (tmp_path / "shut").exists()
    assert tmp_path.stat().st_mode & 0o7777 == 0o755


def test_box_folders_go_where_tmpdir_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          attack_course: Course) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    with Sandbox() as sandbox:
        assert Path(sandbox.info["boxes"]).parent == tmp_path
        result = Grader(attack_course, sandbox).grade_source(
            attack_course.exercises[0], attack("fill the disk with empty files").text({}), FILE)
        assert result.score == 0 and "disk" in (result.error or "")
        sandbox._process.kill()  # a killed zygote: the client removes its folder
    assert list(tmp_path.iterdir()) == []
