"""`grade batch`'s zygotes launched as the command starts (grader/batch/early.py): before
click and pydantic load, one per worker, and nothing of them left behind however the
batch ends (finished, killed while it imports or grades, a worker killed).

Every process of one batch (the command, its workers, zygotes and boxes) carries the
test's own TMPDIR in its environment, and its box folders go there: what is left of
that batch is found by that, whatever else runs on the machine.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, grade_command

SOLUTION_1 = ROOT / "solutions" / "exercise_1_weighted_sampling.py"
STRACE = shutil.which("strace")
SLOW = "\nimport time\ntime.sleep(0.4)\n"  # each file takes 0.4 s in its box


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


def _class(tmp_path: Path, students: int, tail: str = "") -> Path:
    for index in range(students):
        (tmp_path / "class" / f"s{index:02d}").mkdir(parents=True)
        (tmp_path / "class" / f"s{index:02d}" / SOLUTION_1.name).write_text(
            SOLUTION_1.read_text() + tail)
    (tmp_path / "tmp").mkdir()
    return tmp_path / "class"


def _command(tmp_path: Path, jobs: int = 2) -> list[str]:
    return [*grade_command(), "--course", str(ROOT / "course.yaml"), "batch",
            str(tmp_path / "class"), "--out", str(tmp_path / "out"), "--exercise", "exercise-1",
            "--jobs", str(jobs)]


def _environment(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "TMPDIR": str(tmp_path / "tmp")}


def _ours(tmp_path: Path) -> dict[int, str]:
    """The live processes of this test's batch (by the TMPDIR in their environment): pid
    to command line. A zombie's environment reads empty: only running ones count."""
    marker = f"TMPDIR={tmp_path / 'tmp'}\0".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "environ").read_bytes():
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
    return {pid: line.decode(errors="replace") for pid, line in found.items()}


def _zygotes(tmp_path: Path) -> list[int]:
    """The zygotes' Python processes (not unshare's, nor a box: a fork of its zygote)."""
    pythons = {pid for pid, line in _ours(tmp_path).items()
               if " -s -S -c " in line and not line.startswith("unshare")
               and "/unshare " not in line.split(" -s -S -c ")[0]}
    return [pid for pid in pythons if _parent(pid) not in pythons]


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _left(tmp_path: Path, settle: float) -> tuple[dict[int, str], list[str]]:
    """What is left of the batch after up to `settle` seconds: processes, box folders."""
    deadline = time.monotonic() + settle
    while True:
        processes = _ours(tmp_path)
        folders = sorted(p.name for p in (tmp_path / "tmp").iterdir())
        if (not processes and not folders) or time.monotonic() > deadline:
            return processes, folders
        time.sleep(0.05)


def _wait_for(what: str, condition: object, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds} s for {what}")
        time.sleep(0.005)


def _graded(tmp_path: Path) -> int:
    journal = tmp_path / "out" / "journal.jsonl"
    return journal.read_bytes().count(b"\n") if journal.exists() else 0

def _act_while_grading(tmp_path: Path, act: Callable[[subprocess.Popen[str]], object],
                       timeout: float, new_session: bool = False) -> tuple[int, str, str]:
    """Start the batch on the class in `tmp_path`, `act` on it once a file is graded, and
    wait for its end: (exit status, stdout, stderr). Killed whatever happens."""
    process = subprocess.Popen(_command(tmp_path), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=_environment(tmp_path),
                               start_new_session=new_session)
    try:
        _wait_for("a graded file", lambda: _graded(tmp_path) >= 1)
        act(process)
        out, err = process.communicate(timeout=timeout)
    finally:
        process.kill()
        process.wait()
    return process.returncode, out, err



@pytest.mark.skipif(STRACE is None, reason="needs strace (apt-get install strace)")
@pytest.mark.parametrize("students", [1, 3])
def test_the_zygotes_are_launched_before_click_and_pydantic_load(tmp_path: Path,
                                                                 students: int) -> None:
    _class(tmp_path, students)
    log = tmp_path / "strace.log"
    done = subprocess.run(
        [str(STRACE), "-f", "-qq", "-s", "300", "-e", "trace=execve,openat", "-o", str(log),
         *_command(tmp_path)], capture_output=True, text=True, timeout=300, check=False,
        env=_environment(tmp_path))
    assert done.returncode == 0, fail(done.stderr[-2000:], "exit 0", "the batch itself failed")
    lines = log.read_text().splitlines()
    zygotes = [i for i, line in enumerate(lines) if "execve(" in line
               and '"-s", "-S", "-c"' in line and re.search(r'execve\("[^"]*python', line)]
    # Launched is when the batch's child runs the zygote's command: `unshare ... python`
    # where unshare runs; its own child's exec of python then races the batch's imports.
    launches = [i for i, line in enumerate(lines) if "execve(" in line
                and '"-s", "-S", "-c"' in line and re.search(r'execve\("[^"]*/unshare"', line)
                ] or zygotes
    imports = [i for i, line in enumerate(lines) if "openat(" in line
               and re.search(r"/(click|pydantic)/(__pycache__/)?__init__\.", line)]
    workers = min(students, 2)
    assert len(zygotes) == len(launches) == workers, fail(
        (len(zygotes), len(launches)), workers, "one zygote per worker (a class of one has "
        "one worker)")
    assert imports and max(launches) < imports[0], fail(
        (launches, imports[:1]), "every zygote launched before click or pydantic is opened",
        "the zygotes boot on the idle core while the batch imports, not after its fork")


def test_a_finished_batch_leaves_no_zygote_and_no_box_folder(tmp_path: Path) -> None:
    _class(tmp_path, 4)
    done = subprocess.run(_command(tmp_path), capture_output=True, text=True, timeout=300,
                          env=_environment(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "graded 4 students" in done.stdout, done.stdout
    left = _left(tmp_path, settle=0)
    assert left == ({}, []), fail(left, ({}, []), "when `grade batch` has exited, its zygotes "
                                  "have ended and removed their box folders")


@pytest.mark.parametrize("moment", ["importing", "grading"])
def test_a_batch_killed_with_sigkill_leaves_nothing_running(tmp_path: Path,
                                                            moment: str) -> None:
    _class(tmp_path, 6, SLOW)
    process = subprocess.Popen(_command(tmp_path), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=_environment(tmp_path))
    try:
        if moment == "importing":  # its zygotes launched, its workers not yet forked
            _wait_for("a zygote", lambda: _zygotes(tmp_path))
        else:
            _wait_for("a graded file", lambda: _graded(tmp_path) >= 1)
            assert _zygotes(tmp_path), "the workers' zygotes run while files are graded"
    finally:
        process.kill()
        process.wait()
    left = _left(tmp_path, settle=20)
    assert left == ({}, []), fail(left, ({}, []), f"a batch killed while {moment} takes its "
                                  "workers, zygotes and boxes (and their folders) with it")


def test_a_worker_killed_mid_batch_ends_the_batch_and_leaves_nothing(tmp_path: Path) -> None:
    _class(tmp_path, 6, SLOW)

    def kill_a_worker(process: subprocess.Popen[str]) -> None:
        command = _ours(tmp_path)[process.pid]
        workers = [pid for pid, line in _ours(tmp_path).items()
                   if line == command and pid != process.pid]
        assert len(workers) == 2, fail(workers, "two workers", "forked from the batch")
        os.kill(workers[0], signal.SIGKILL)

    status, _, stderr = _act_while_grading(tmp_path, kill_a_worker, timeout=60)
    assert status == 2 and "worker process died" in stderr, fail(
        (status, stderr[-500:]), "exit 2, saying a worker died", "as before")
    left = _left(tmp_path, settle=0)
    assert left == ({}, []), fail(left, ({}, []), "a batch that stops on a dead worker has "
                                  "ended the other worker and every zygote when it exits")


def test_a_finished_batch_ends_without_the_interpreters_teardown(tmp_path: Path) -> None:
    # A sitecustomize (imported by the command's Python at its start) registers an
    # atexit hook: it runs in a teardown, not after os._exit once the batch is done.
    _class(tmp_path, 2)
    (tmp_path / "site").mkdir()
    marker = tmp_path / "teardown-ran"
    (tmp_path / "site" / "sitecustomize.py").write_text(
        f"import atexit, pathlib\natexit.register(pathlib.Path({str(marker)!r}).touch)\n")
    environment = {**_environment(tmp_path), "PYTHONPATH": str(tmp_path / "site")}
    done = subprocess.run(_command(tmp_path), capture_output=True, text=True, timeout=300,
                          env=environment)
    assert done.returncode == 0, done.stderr
    assert "graded 2 students" in done.stdout, fail(done.stdout, "the summary", "flushed first")
    assert not marker.exists(), fail("the atexit hook ran", "no teardown", "freeing the batch's "
                                     "modules cost 40-60 ms after everything was written")
    assert _left(tmp_path, settle=0) == ({}, []), "its workers and zygotes ended first"


def test_ctrl_c_saves_no_result_it_broke_and_leaves_nothing(tmp_path: Path) -> None:
    # A terminal's Ctrl-C signals the whole process group, the zygotes launched by the
    # batch process itself included: the batch says so, keeps only whole results, and
    # nothing of it is left.
    _class(tmp_path, 8, SLOW)
    status, _, stderr = _act_while_grading(
        tmp_path, lambda process: os.killpg(process.pid, signal.SIGINT), timeout=60,
        new_session=True)
    assert status == 130 and "interrupted" in stderr, (status, stderr)
    lines = (tmp_path / "out" / "journal.jsonl").read_text().splitlines()
    broken = [line for line in lines if '"error":null' not in line.replace(" ", "")]
    assert lines and not broken, fail(broken[:1], "every saved result graded whole",
                                      "Ctrl-C stops the batch, never a zygote under a file")
    assert _left(tmp_path, settle=10) == ({}, []), "nothing of the batch keeps running"


def test_a_worker_whose_early_zygote_dies_starts_another_and_the_batch_finishes(
        tmp_path: Path) -> None:
    # The zygote a worker took is not its child (the batch process launched it): its
    # death is still a restart, and closing it is still clean.
    _class(tmp_path, 8, SLOW)

    def kill_a_zygote(process: subprocess.Popen[str]) -> None:
        zygotes = _zygotes(tmp_path)
        assert len(zygotes) == 2, fail(zygotes, "two zygotes", "one per worker")
        os.kill(zygotes[0], signal.SIGKILL)

    status, out, err = _act_while_grading(tmp_path, kill_a_zygote, timeout=120)
    assert status == 0 and "graded 8 students" in out, (status, err)
    lines = (tmp_path / "out" / "journal.jsonl").read_text().splitlines()
    lost = [line for line in lines if "zygote process died" in line]
    assert len(lines) == 8 and len(lost) <= 1, fail(
        len(lost), "at most the file in hand", "the worker starts a zygote of its own")
    assert _left(tmp_path, settle=0) == ({}, []), "nothing left, the restarted zygote included"


@pytest.mark.parametrize(("args", "expected"), [
    (["batch", "CLASS", "--out", "OUT", "--jobs", "2"], 2),
    (["--course", "c.yaml", "batch", "--out=OUT", "CLASS", "-j", "1"], 1),
    (["batch", "CLASS", "--out", "OUT", "--force", "--exercise", "exercise-1", "-j", "5"], 3),
    (["batch", "CLASS", "--out", "OUT", "--dask", "tcp://x:8786"], 0),  # no local workers
    (["batch", "CLASS", "--out", "OUT", "-j2"], 0),  # a form the parse does not know
    (["batch", "CLASS", "--out", "OUT", "--jobs", "0"], 0),  # click's usage error
    (["batch", "CLASS", "--help"], 0),
    (["batch", "CLASS", "OTHER", "--out", "OUT"], 0),
    (["exercise-1", "batch"], 0),  # a learner's file named batch
])
def test_the_zygotes_launched_early_are_as_many_as_the_workers_forked_early(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str],
        expected: int) -> None:
    from grader.batch.early import _count, _options

    _class(tmp_path, 3)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "CLASS").symlink_to(tmp_path / "class")
    options = _options(args)
    count = 0 if options is None else _count(options)
    assert count == expected, fail(count, expected, "as many as _early_pool forks; "
                                           "none when unsure (the workers start their own)")


def test_a_resumed_run_launches_no_zygote_early(tmp_path: Path) -> None:
    from grader.batch.early import _count

    _class(tmp_path, 3)
    (tmp_path / "out").mkdir()
    journal = tmp_path / "out" / "journal.jsonl"
    journal.write_text("")
    options = {"": str(tmp_path / "class"), "--out": str(tmp_path / "out"), "--jobs": "2"}
    assert _count(options) == 2, "an empty journal: a first run"
    journal.write_text('{"student": "s00"}\n')
    assert _count(options) == 0, fail(_count(options), 0, "a journal with results: the run "
                                      "may grade nothing, its workers start when needed")
