"""The portable box: learners on machines without the Linux sandbox (macOS, Windows).

Windows itself cannot run here, so its absences are made real in a fresh
interpreter: `fcntl`, `resource`, `termios` and `pty` cannot be imported, and
`os.fork`, `signal.setitimer` and `SIGALRM` do not exist. `grade` must choose the
portable box by itself there, and grade exactly as it does on Linux.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from attacks import ATTACKS, DAEMON, DISK_ATTACKS, Attack, Layout, quick_course

from grader.authoring.markers import strip_markers
from grader.course import Course
from grader.results import ExerciseResult
from grader.runner import Grader
from grader.sandbox.host import Host
from grader.sandbox.portable import PortableSandbox
from grader.sandbox.winjob import ExtendedLimits, limits_for
from tests.conftest import ROOT, exercise_of
from tests.test_batch import batch
from tests.test_mutants import EXTRA, MUTANTS
from tests.test_mutants import WRONG as WRONG_VARIANTS

SOLUTION_1 = ROOT / "solutions" / "exercise_1_weighted_sampling.py"
SKELETON_1 = ROOT / "exercises" / "exercise_1_weighted_sampling.py"

# Run `grade` in an interpreter that lacks what Windows lacks.
WINDOWS_LIKE = """
import os, signal, sys
for name in ("fcntl", "resource", "termios", "pty", "msvcrt"):
    sys.modules[name] = None  # `import fcntl` now raises ImportError
for owner, names in ((os, ("fork", "forkpty", "fork1")), (signal, ("setitimer", "SIGALRM"))):
    for name in names:
        if hasattr(owner, name):
            delattr(owner, name)
sys.argv[0] = "grade"
from grader.cli import main
main()
"""


def windows_like(*args: str, cwd: Path = ROOT, timeout: float = 120,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("GRADE_COURSE", "GRADE_SANDBOX")}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-c", WINDOWS_LIKE, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=environment)


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


PORTABLE_NOTE = ("note: portable isolation on this machine: your code runs in a separate "
                 "process with time and memory limits, but it is not locked away from your "
                 "files; see README, 'On macOS / on Windows / in Jupyter'\n")


def test_without_fork_fcntl_or_resource_grade_helps_and_lists_the_exercises() -> None:
    helped = windows_like("--help")
    assert helped.returncode == 0, helped.stderr
    assert "Exercises (grade ID [FILE])" in helped.stdout
    done = windows_like("list")
    assert done.returncode == 0, done.stderr
    assert "exercise-1" in done.stdout and "Traceback" not in done.stderr


def test_without_fork_fcntl_or_resource_a_solution_scores_full_marks_in_the_portable_box(
) -> None:
    done = windows_like("exercise-1", str(SOLUTION_1), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["score"], result["error"]) == (10.0, None)
    assert done.stderr == PORTABLE_NOTE, fail(done.stderr, PORTABLE_NOTE,
                                              "the portable level is announced once")


def test_without_fork_fcntl_or_resource_a_skeleton_scores_zero_naming_its_blanks() -> None:
    done = windows_like("exercise-1", str(SKELETON_1))
    assert done.returncode == 1, done.stderr
    assert "the blanks on lines 18 and 33 are still empty" in done.stdout
    assert "Score: 0/10" in done.stdout


def test_without_fork_fcntl_or_resource_a_batch_grades_and_says_hostile_code_is_not_contained(
        tmp_path: Path) -> None:
    for student in ("ann", "bob"):
        (tmp_path / "class" / student).mkdir(parents=True)
    shutil.copy(SOLUTION_1, tmp_path / "class" / "ann")
    shutil.copy(SKELETON_1, tmp_path / "class" / "bob")
    done = windows_like("batch", str(tmp_path / "class"), "--out", str(tmp_path / "out"),
                        "--jobs", "1", "--exercise", "exercise-1")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("hostile code is not contained here") == 1, done.stderr
    grades = (tmp_path / "out" / "grades.csv").read_text()
    assert "ann,10" in grades and "bob,0" in grades, grades


def test_forced_portable_level_is_announced_and_grades(run_grade) -> None:
    done = run_grade("exercise-1", str(SOLUTION_1), "--json", env={"GRADE_SANDBOX": "portable"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["score"] == 10.0
    assert done.stderr == PORTABLE_NOTE


def test_without_sigalrm_the_in_box_alarm_still_names_the_running_line() -> None:
    host = Host(use_signal=False)  # the Watchdog thread Windows gets
    loaded = host.handle({"op": "load", "source": "x = 1\nwhile True:\n    x += 1\n",
                          "filename": "loop.py", "seconds": 0.3})
    error = loaded["error"]
    assert (error["kind"], error["line"]) in {("timeout", 2), ("timeout", 3)}, error


@pytest.mark.skipif(sys.maxsize < 2**32, reason="the layout below is 64-bit Windows'")
def test_the_job_object_limits_have_windows_layout_and_the_box_limits() -> None:
    # JOBOBJECT_EXTENDED_LIMIT_INFORMATION is 144 bytes on 64-bit Windows; a wrong
    # layout would make SetInformationJobObject fail (or set the wrong fields).
    assert ExtendedLimits.ProcessMemoryLimit.offset == 112
    assert ctypes_size(ExtendedLimits) == 144
    info = limits_for({"memory_mb": 512, "cpu_seconds": 11})
    assert info.ProcessMemoryLimit == info.JobMemoryLimit == 512 * 1024 * 1024
    assert info.BasicLimitInformation.ActiveProcessLimit == 1
    assert info.BasicLimitInformation.PerProcessUserTimeLimit == 11 * 10_000_000


def ctypes_size(kind: type) -> int:
    import ctypes

    return ctypes.sizeof(kind)


# --- The learner corpus and the attack table: the same outcome as in the Linux box. ---

@pytest.fixture(scope="module")
def portable_sandbox() -> Iterator[PortableSandbox]:
    with PortableSandbox() as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def portable_grader(course: Course, portable_sandbox: PortableSandbox) -> Grader:
    return Grader(course, portable_sandbox)


def outcome(result: ExerciseResult) -> tuple[object, ...]:
    """Everything a learner is told, without the timings."""
    return (result.score, result.error, result.output,
            [(c.name, c.passed, c.score, c.message, c.hint, c.detail) for c in result.checks])


def corpus(course: Course) -> list[tuple[str, str, str]]:
    """(label, exercise id, source): solutions, skeletons, mutants and SPEC's wrong answers."""
    items = []
    for exercise in course.exercises:
        items.append((f"{exercise.id} solution", exercise.id,
                      strip_markers(course.solution_path(exercise).read_text())))
        items.append((f"{exercise.id} skeleton", exercise.id,
                      course.learner_path(exercise).read_text()))
    solutions = {e.id: strip_markers(course.solution_path(e).read_text())
                 for e in course.exercises}
    for exercise_id, check_id, old, new in MUTANTS:
        source = solutions[exercise_id].replace(old, new)
        if check_id in EXTRA:
            source = source.replace(*EXTRA[check_id])
        items.append((f"mutant {exercise_id} {check_id}", exercise_id, source))
    for exercise_id, old, new, _ in WRONG_VARIANTS:
        items.append((f"wrong {exercise_id} {new}", exercise_id,
                      solutions[exercise_id].replace(old, new)))
    return items


def test_the_learner_corpus_gets_the_same_outcomes_in_the_portable_box_as_in_the_linux_box(
        course: Course, grader: Grader, portable_grader: Grader) -> None:
    items = corpus(course)
    assert len(items) == 6 + len(MUTANTS) + len(WRONG_VARIANTS)
    for label, exercise_id, source in items:
        exercise = exercise_of(course, exercise_id)
        linux = grader.grade_source(exercise, source, "submission.py")
        portable = portable_grader.grade_source(exercise, source, "submission.py")
        assert outcome(portable) == outcome(linux), fail(
            outcome(portable), outcome(linux), f"{label}: the portable box must agree")


def box_processes(sandbox: PortableSandbox) -> list[int]:
    """Live processes working in one of this sandbox's box folders (the spare's aside)."""
    base = os.path.realpath(sandbox.info["boxes"])
    spare = {spawned.process.pid for spawned in sandbox.spares}
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) not in spare:
            try:
                if os.path.realpath(proc / "cwd").startswith(base + os.sep):
                    found.append(int(proc.name))
            except OSError:
                continue  # gone meanwhile, or not ours to look at
    return found


@pytest.fixture(scope="module")
def attack_grader(portable_sandbox: PortableSandbox) -> Grader:
    return Grader(quick_course(), portable_sandbox)


# The portable box has no disk budget (docs/portability.md): filling the disk is not stopped.
PORTABLE_ATTACKS = [a for a in ATTACKS if a not in DISK_ATTACKS]


@pytest.mark.parametrize("case", PORTABLE_ATTACKS, ids=[a.name for a in PORTABLE_ATTACKS])
def test_an_attack_gets_the_same_outcome_in_the_portable_box(
        case: Attack, tmp_path: Path, attack_grader: Grader,
        portable_sandbox: PortableSandbox) -> None:
    layout = Layout(tmp_path).create()
    before = layout.snapshot()
    result = attack_grader.grade(attack_grader.course.exercises[0], layout.submit(case))
    # As a Linux box without chroot or Landlock would: refusals are PermissionError.
    expected = case.expected(portable_sandbox.isolation, layout.paths)
    assert (result.score, result.error) == (expected["score"], expected["error"])
    if expected["output"] is not None:
        assert result.output == expected["output"]
    assert layout.snapshot() == before
    assert box_processes(portable_sandbox) == []
    spare = {os.path.basename(f.folder) for f in portable_sandbox.spares}
    assert set(os.listdir(portable_sandbox.info["boxes"])) <= spare


def test_a_box_process_that_died_while_waiting_is_replaced_not_a_grader_fault(
        course: Course, portable_grader: Grader, portable_sandbox: PortableSandbox) -> None:
    exercise = exercise_of(course, "exercise-1")
    source = strip_markers(course.solution_path(exercise).read_text())
    for _ in range(2):  # from the second box on, the next one is started ahead
        portable_grader.grade_source(exercise, source, "warm.py")
    (waiting,) = portable_sandbox.spares
    waiting.process.kill()
    waiting.process.wait()
    result = portable_grader.grade_source(exercise, source, "submission.py")
    assert (result.score, result.error) == (10.0, None)


def _beats(heartbeat: Path) -> list[str]:
    return heartbeat.read_text().splitlines() if heartbeat.exists() else []


def test_a_daemon_a_portable_box_started_stops_with_its_box_not_after_the_batch(
        tmp_path: Path) -> None:
    """After the audit-hook bypass a box running as root forks, calls setsid and forks
    again: the grandchild is in no group or session of the box's and writes a heartbeat
    every 0.1 s. It must be dead once `grade batch` has exited (the box's cgroup)."""
    if os.geteuid() != 0:
        pytest.skip("as another user the box cannot fork at all (RLIMIT_NPROC = 0)")
    sys.path.insert(0, str(ROOT / "bench"))
    from synthetic import FILES, build_class, course_copy, source

    course = course_copy(tmp_path / "course", time_limit=10)
    build_class(tmp_path / "subs", 2, loops=frozenset())
    heartbeat = tmp_path / "heartbeat.txt"
    (tmp_path / "subs" / "s0000" / FILES["exercise-1"]).write_text(
        DAEMON + f"daemon({str(heartbeat)!r})\n" + source("solution", "exercise-1"))
    try:
        done = subprocess.run(batch(course, tmp_path / "subs", "--out", tmp_path / "out",
                                    "--jobs", "1"), capture_output=True, text=True,
                              timeout=180, env={**os.environ, "GRADE_SANDBOX": "portable"})
        assert done.returncode == 0, done.stderr
        assert _beats(heartbeat), "the daemon never started: the attack is not real here"
        time.sleep(0.5)  # a beat being written as the batch ended
        settled = _beats(heartbeat)
        time.sleep(1.5)
        assert _beats(heartbeat) == settled, fail(
            len(_beats(heartbeat)) - len(settled), 0,
            "heartbeats after the batch ended: a process the box started outlived it")
    finally:  # a survivor of a failed run is ours to end
        for pid in {int(line.split()[0]) for line in _beats(heartbeat)}:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


# A child that leaves the box's process group but not its session.
NEW_GROUP = DAEMON.replace("os.setsid()", "os.setpgid(0, 0)")


def test_without_a_cgroup_a_child_that_left_the_box_group_dies_with_the_box_session(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where no cgroup can be made (no root, no delegation; macOS has the group only),
    the box's session is killed as well as its process group."""
    if os.geteuid() != 0 or not Path("/proc").is_dir():
        pytest.skip("needs root (to fork in the box) and /proc (to list the session)")
    import grader.sandbox.portable as portable

    monkeypatch.setattr(portable, "box_cgroup", lambda pid: None)
    heartbeat = tmp_path / "heartbeat.txt"
    try:
        with PortableSandbox() as sandbox:
            grader = Grader(quick_course(), sandbox)
            result = grader.grade_source(grader.course.exercises[0], NEW_GROUP + (
                f"daemon({str(heartbeat)!r})\n") + strip_markers(SOLUTION_1.read_text()),
                "submission.py")
            assert (result.score, result.output) == (10.0, "DONE\n"), result.error
            assert _beats(heartbeat), "the child never started: the attack is not real here"
            time.sleep(0.5)
            settled = _beats(heartbeat)
            time.sleep(1.0)
            assert _beats(heartbeat) == settled, "a child in the box's session outlived it"
    finally:
        for pid in {int(line.split()[0]) for line in _beats(heartbeat)}:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
