"""A plain first run's workers, forked as `grade batch` starts, grade its first files
(guessed by their exact names) while the batch process loads its models
(batch/early.py, `PipePool.guess`): each file graded once, every guess it does not ask
for dropped, and a pool forked for another course never used."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from grader.batch import early
from grader.batch.pool import PipePool, course_plans
from grader.course import Course, load_course
from tests.conftest import ROOT, grade_command

FILE = "exercise_1_weighted_sampling.py"
SOLUTION_1 = ROOT / "solutions" / FILE
SKELETON_1 = ROOT / "exercises" / FILE
STRACE = shutil.which("strace")
PYDANTIC = re.compile(r"/pydantic/(__pycache__/)?__init__\.")  # its source, or its cache


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


@pytest.fixture(scope="module")
def course() -> Course:
    return load_course(ROOT / "course.yaml")


def _alive(pool: PipePool) -> list[bool]:
    return [process.is_alive() for process in pool._processes]


def test_a_guessed_file_is_graded_once_and_a_guess_never_asked_for_is_dropped(
        course: Course, tmp_path: Path) -> None:
    first, never, later = (tmp_path / name for name in ("first.py", "never.py", "later.py"))
    shutil.copy(SOLUTION_1, first)
    shutil.copy(SKELETON_1, never)
    shutil.copy(SOLUTION_1, later)
    exercise = course.exercises[0]
    pool = PipePool(course_plans(course), 1)
    pool.launch()
    try:
        pool.guess([(exercise.id, str(first)), (exercise.id, str(never))])
        results = {key: result for key, result, _ in pool.grade(
            [("first", exercise, first), ("later", exercise, later)])}
        handed = pool._sent
    finally:
        pool.__exit__(None)
    assert sorted(results) == ["first", "later"], fail(
        sorted(results), ["first", "later"], "the files asked for, each once")
    scores = {key: result.score for key, result in results.items()}
    assert scores == {"first": 10, "later": 10}, fail(scores, {"first": 10, "later": 10},
                                                      "a guessed file's result is its own")
    assert handed == 3, fail(handed, 3, "a guessed file asked for was handed over again")
    assert not any(_alive(pool)), fail(_alive(pool), "all ended",
                                       "a worker left grading a guess nobody asked for")


def test_a_guessed_file_changed_before_the_batch_asks_is_graded_as_it_is_now(
        course: Course, tmp_path: Path) -> None:
    # A late upload as the batch starts: the worker read the old file, the batch then
    # hashed the new one to plan it. The old file's result must never be the new one's.
    upload = tmp_path / FILE
    shutil.copy(SOLUTION_1, upload)
    exercise = course.exercises[0]
    pool = PipePool(course_plans(course), 1)
    pool.launch()
    try:
        pool.guess([(exercise.id, str(upload))])
        assert pool._answers[0].poll(60), "the guess was never answered"
        shutil.copy(SKELETON_1, upload)  # its answer (the old file's) waits in the pipe
        results = [result for _, result, _ in pool.grade([("upload", exercise, upload)])]
        handed = pool._sent
    finally:
        pool.__exit__(None)
    scores = [result.score for result in results]
    assert scores == [0], fail(scores, [0], "the file as it was when the worker read it "
                               "was stored for the file as it is now")
    assert handed == 2, fail(handed, 2, "the changed file was not graded again")


def test_a_guessed_answer_taken_before_it_is_asked_for_is_checked_too(
        course: Course, tmp_path: Path) -> None:
    # Four guesses fill the pipe (AHEAD files for one worker): a file the batch asks for
    # first waits, and the guesses' answers are taken in meanwhile, before the batch asks
    # for the last guess, which changed since it was read.
    files = [tmp_path / f"{name}.py" for name in ("a", "b", "c", "late", "first")]
    for path in files:
        shutil.copy(SOLUTION_1, path)
    *guessed, late, first = files
    exercise = course.exercises[0]
    pool = PipePool(course_plans(course), 1)
    pool.launch()
    try:
        pool.guess([(exercise.id, str(path)) for path in (*guessed, late)])
        # All four graded (20-50 ms each): on a machine too slow for that, the late file
        # is read as it is now, and the test passes without trying what it is for.
        assert pool._answers[0].poll(60), "no guess was ever answered"
        time.sleep(2)
        shutil.copy(SKELETON_1, late)
        results = {key: result.score for key, result, _ in pool.grade(
            [("first", exercise, first), ("late", exercise, late)])}
        early = len(pool._early)
    finally:
        pool.__exit__(None)
    assert results == {"first": 10, "late": 0}, fail(
        results, {"first": 10, "late": 0}, "a guess answered before it was asked for "
        "was stored for a file that changed since")
    assert early == 3, fail(early, 3, "the unasked guesses' answers were not kept aside")


def test_the_files_guessed_are_exact_names_in_real_student_folders_by_name(
        course: Course, tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    for student in ("bob", "ann", ".hidden", "cy"):
        (subs / student).mkdir(parents=True)
    shutil.copy(SOLUTION_1, subs / "bob" / FILE)
    shutil.copy(SOLUTION_1, subs / "ann" / FILE)
    shutil.copy(SOLUTION_1, subs / ".hidden" / FILE)
    shutil.copy(SOLUTION_1, subs / "cy" / "Exercise1 (1).py")  # a loose name: not guessed
    os.symlink(subs / "ann", subs / "dee")  # a linked folder: not guessed
    os.symlink(SOLUTION_1, subs / "cy" / FILE.replace("1", "2"))  # a link: not guessed
    (subs / "ann" / "exercise_3_tiny_model.py").mkdir()  # a folder by a file's name
    plans = course_plans(course)
    guessed = early.guesses(subs, plans, 10)
    expected = [("exercise-1", str(subs / "ann" / FILE)), ("exercise-1", str(subs / "bob" / FILE))]
    assert guessed == expected, fail(guessed, expected, "exact names, regular files, "
                                     "real folders not hidden, in the order of their names")
    assert early.guesses(subs, plans, 1) == expected[:1], "no more than asked for"
    assert early.guesses(subs, plans, 0) == [], "none asked for"
    assert early.guesses(tmp_path / "nowhere", plans, 10) == [], "a missing folder: none"


def test_a_pool_forked_for_another_course_is_closed_not_taken(course: Course) -> None:
    plans = course_plans(course)
    pool = PipePool(plans, 1)
    pool.launch()
    early._pools.append(pool)
    other = {name: plan._replace(root=plan.root / "elsewhere") for name, plan in plans.items()}
    taken = early.take_pool(other, 1)
    assert taken is None, fail(taken, None, "a pool whose workers grade another course's "
                               "files was given to the batch")
    assert not any(_alive(pool)), fail(_alive(pool), "all ended", "the pool was not closed")
    assert early._pools == [], fail(early._pools, [], "the pool is still kept")


def _course_and_class(tmp_path: Path, files: tuple[Path, ...]) -> tuple[Path, Path]:
    """A copy of the shipped course (its cache written by the first `grade` run in it),
    and a class of one folder per file, s0, s1, ..., each holding it by its exact name."""
    copy = tmp_path / "course"
    copy.mkdir()
    shutil.copy(ROOT / "course.yaml", copy)
    for folder in ("exercises", "solutions", "checks"):
        shutil.copytree(ROOT / folder, copy / folder)
    subs = tmp_path / "class"
    for index, source in enumerate(files):
        (subs / f"s{index}").mkdir(parents=True)
        shutil.copy(source, subs / f"s{index}" / FILE)
    return copy, subs


@pytest.mark.skipif(STRACE is None, reason="needs strace (apt-get install strace)")
def test_a_plain_first_run_grades_files_before_the_batch_process_loads_pydantic(
        tmp_path: Path) -> None:
    copy, subs = _course_and_class(tmp_path, (SOLUTION_1, SKELETON_1, SOLUTION_1, SOLUTION_1))

    def batch(out: str, *traced: str) -> str:
        done = subprocess.run([*traced, *grade_command(), "batch", str(subs), "--out",
                               str(tmp_path / out), "--jobs", "1"], cwd=copy,
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, fail(done.stderr[-2000:], "exit 0", "the batch failed")
        return (tmp_path / out / "grades.csv").read_text()

    cold = batch("cold")  # the course's cache is written: the next run can guess
    log = tmp_path / "strace.log"
    warm = batch("warm", str(STRACE), "-f", "-qq", "-s", "400", "-e", "trace=openat,write",
                 "-o", str(log))
    assert warm == cold, fail(warm, cold, "the grades of a run with guesses differ")
    lines = log.read_text().splitlines()
    batch_pid = lines[0].split()[0]
    # The batch process hands s0's file to the workers: its path, in a write to their pipe.
    handed = next((n for n, line in enumerate(lines) if line.split()[0] == batch_pid
                   and "write(" in line and f"/class/s0/{FILE}" in line), None)
    pydantic = next((n for n, line in enumerate(lines) if line.split()[0] == batch_pid
                     and "openat(" in line and PYDANTIC.search(line)), None)
    assert handed is not None and pydantic is not None, fail(
        (handed, pydantic), "both seen", "s0's file never handed over, or pydantic never "
        "loaded")
    assert handed < pydantic, fail(
        (handed, pydantic), "s0's file handed over before pydantic loads", "the workers "
        "waited for the batch process's models before they had a file to grade")


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (the kernel's list: no tool needed)."""
    try:
        return [int(child) for child in
                Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:  # it ended
        return []


def _running(pid: int) -> bool:
    """Whether process `pid` exists and is no zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_ctrl_c_as_a_plain_first_run_starts_ends_it_and_its_workers(tmp_path: Path) -> None:
    # Its workers are forked before click loads; multiprocessing's exit hook joins every
    # worker, so a batch interrupted before it took them waited forever (seen at 80 ms).
    copy, subs = _course_and_class(tmp_path, (SOLUTION_1,) * 6)
    command = [*grade_command(), "batch", str(subs), "--jobs", "2", "--out"]
    warm = subprocess.run([*command, str(tmp_path / "cold")], cwd=copy, capture_output=True,
                          timeout=300, check=False)  # the course's cache: guesses next
    assert warm.returncode == 0, warm.stderr[-2000:]
    process = subprocess.Popen([*command, str(tmp_path / "out")], cwd=copy, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 30
    # two zygotes (unshare) and two workers: the workers are forked, click not yet loaded
    while len(_children(process.pid)) < 4 and time.monotonic() < deadline:
        time.sleep(0.002)
    started = _children(process.pid)
    process.send_signal(signal.SIGINT)
    try:
        _, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError(fail("still running 30 s after Ctrl-C", "an exit",
                                  "the batch waited for workers it had not taken")) from None
    assert process.returncode == 130, fail(process.returncode, 130, stderr[-2000:])
    time.sleep(0.5)  # an orphan is re-parented, not gone: look for each by its pid
    left = [pid for pid in started if _running(pid)]
    assert left == [], fail(left, [], "a worker or zygote outlived the batch")
