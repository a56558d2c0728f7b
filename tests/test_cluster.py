"""`grade batch --dask`: a real `dask scheduler` and two `dask worker` processes on localhost.

One cluster (bench/localcluster.py) serves the whole module, since starting it costs
seconds; it is always torn down, with everything its processes started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

distributed = pytest.importorskip("distributed")
# Starting a cluster takes seconds on an idle machine, and many times that on a loaded one.
pytestmark = pytest.mark.timeout(600)

from grader.batch.executor import worker_info  # noqa: E402
from grader.batch.journal import read_entries  # noqa: E402
from grader.results import ErrorKind  # noqa: E402
from grader.sandbox.client import Sandbox  # noqa: E402
from tests.attacks import dask_takeover  # noqa: E402
from tests.conftest import ROOT, grade_command  # noqa: E402
from tests.test_batch import batch, run, tree_digest  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from localcluster import LocalCluster, stop  # noqa: E402
from synthetic import FILES, build_class, course_copy, source  # noqa: E402

STUDENTS = 12
FILES_GRADED = STUDENTS * 3
GRADEBOOK = ("grades.csv", "grades.json", "canvas.csv")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    with LocalCluster(tmp_path_factory.mktemp("dask"), workers=2) as running:
        yield running


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The mixed class (one infinite loop, one file over the size limit), graded locally."""
    root = tmp_path_factory.mktemp("class")
    course = course_copy(root / "course", time_limit=2)
    build_class(root / "submissions", STUDENTS)
    huge = root / "submissions" / "s0001" / FILES["exercise-2"]
    huge.write_text("# padding\n" * 30_000)  # 300 KB: refused by size, never shipped whole
    local = run(course, root / "submissions", "--out", root / "local", "--jobs", "2")
    assert local.returncode == 0, local.stderr
    return {"course": course, "subs": root / "submissions", "local": root / "local"}


def _same_gradebook(out: Path, local: Path) -> None:
    for name in GRADEBOOK:
        assert (out / name).read_bytes() == (local / name).read_bytes(), name
    assert tree_digest(out / "feedback") == tree_digest(local / "feedback")
    # gradescope/*/results.json hold wall-clock times (execution_time): never compared


def _one_line_per_result(out: Path) -> None:
    journal = (out / "journal.jsonl").read_bytes()
    assert journal.count(b"\n") == FILES_GRADED
    assert len(read_entries(out / "journal.jsonl")[0]) == FILES_GRADED


def _batch_on(cluster: LocalCluster, klass: dict, out: Path, **pipes: Any
              ) -> subprocess.Popen[str]:
    """`grade batch --dask` of the class into `out`, started in its own session."""
    return subprocess.Popen(
        batch(klass["course"], klass["subs"], "--out", out, "--dask", cluster.address),
        text=True, start_new_session=True, **pipes)


def _wait_for_results(out: Path, lines: int, deadline: float) -> None:
    """Until the journal in `out` holds `lines` results (or `deadline` passes)."""
    journal = out / "journal.jsonl"
    while time.monotonic() < deadline:
        if journal.exists() and journal.read_bytes().count(b"\n") >= lines:
            return
        time.sleep(0.02)


def _graded_like_the_local_run(process: subprocess.Popen[str], stdout: str, stderr: str,
                               out: Path, klass: dict) -> None:
    assert process.returncode == 0, stderr
    assert f"{FILES_GRADED} graded now" in stdout
    _same_gradebook(out, klass["local"])
    _one_line_per_result(out)


def test_a_class_graded_on_two_dask_workers_matches_the_local_run_byte_for_byte(
        cluster: LocalCluster, klass: dict, tmp_path: Path, sandbox: Sandbox) -> None:
    cluster.ready()
    out = tmp_path / "out"
    done = run(klass["course"], klass["subs"], "--out", out, "--dask", cluster.address)
    assert done.returncode == 0, done.stderr
    assert f"{FILES_GRADED} graded now (2 Dask workers)" in done.stdout
    _same_gradebook(out, klass["local"])
    _one_line_per_result(out)
    entries = read_entries(out / "journal.jsonl")[0].values()
    workers = set(cluster.client.scheduler_info()["workers"])
    graded_by = {e.worker.worker for e in entries if e.worker is not None}
    assert graded_by == workers  # both workers graded, and each is recorded
    missing = [e for e in entries if e.result.error == "no submission"]
    assert missing and all(e.worker is None for e in missing)  # no code ran for those
    report = (out / "report.html").read_text()
    assert "Where the submissions ran (isolation per worker)" in report
    for worker in workers:
        assert f"<td>{worker}</td>" in report
    for index in (1, 2):  # one grader per worker, set up once, not per task
        log = (cluster.folder / f"worker{index}.log").read_text()
        assert log.count("Starting Worker plugin grade-") == 1, log
    here = worker_info(sandbox, "here")  # the workers run on this machine: same isolation
    for entry in entries:
        if entry.worker is not None:
            assert (entry.worker.level, entry.worker.missing) == (here.level, here.missing)
    assert f"<td>{here.level}</td>" in report


def test_a_worker_killed_mid_run_loses_nothing_and_counts_nothing_twice(
        cluster: LocalCluster, klass: dict, tmp_path: Path) -> None:
    cluster.ready()
    client = cluster.client
    out = tmp_path / "out"
    process = _batch_on(cluster, klass, out, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for_results(out, 6, time.monotonic() + 120)
        pids = client.run(os.getpid)
        victim = next(a for a, tasks in client.processing().items() if tasks)
        os.kill(pids[victim], signal.SIGKILL)  # the worker process; its nanny starts another
        stdout, stderr = process.communicate(timeout=240)
    finally:
        stop(process)
    _graded_like_the_local_run(process, stdout, stderr, out, klass)
    cluster.ready()  # the nanny replaced the killed worker process
    assert victim not in client.scheduler_info()["workers"]


# The grading tasks whose results sit in a worker's memory, not yet fetched by the
# client, and which workers hold them (a lambda, for the reason given at EXECUTING).
HELD = lambda dask_scheduler: {str(task.key): [w.address for w in task.who_has]  # noqa: E731
                               for task in dask_scheduler.tasks.values()
                               if task.state == "memory" and str(task.key).startswith("grade-")}
EVERY_TASK_DONE = lambda dask_scheduler: all(  # noqa: E731
    task.state in ("memory", "released", "forgotten") for task in dask_scheduler.tasks.values())


def test_a_worker_killed_holding_results_not_yet_fetched_loses_nothing(
        cluster: LocalCluster, klass: dict, tmp_path: Path) -> None:
    """A task that finished on a worker that then died, before the batch fetched its
    result, is "lost": the scheduler computes it again and the batch waits for it (the
    batch once took that for a lost scheduler and stopped). The batch is paused while a
    result waits on a worker, so that the worker dies holding it."""
    cluster.ready()
    client = cluster.client
    out = tmp_path / "out"
    process = _batch_on(cluster, klass, out, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        _wait_for_results(out, 4, deadline)
        os.kill(process.pid, signal.SIGSTOP)
        while time.monotonic() < deadline and not client.run_on_scheduler(EVERY_TASK_DONE):
            time.sleep(0.05)  # every task in flight finishes while the batch sleeps
        held = client.run_on_scheduler(HELD)
        assert held, "no result waited on a worker"
        pids = client.run(os.getpid)
        victims = {worker for holders in held.values() for worker in holders}
        for victim in victims:
            os.kill(pids[victim], signal.SIGKILL)  # their nannies start others
        while time.monotonic() < deadline and victims & set(client.scheduler_info()["workers"]):
            time.sleep(0.05)  # the scheduler has seen them go: the batch learns on waking
        os.kill(process.pid, signal.SIGCONT)
        stdout, stderr = process.communicate(timeout=240)
    finally:
        stop(process)
    _graded_like_the_local_run(process, stdout, stderr, out, klass)


def test_a_killed_ta_process_resumes_to_the_identical_gradebook(
        cluster: LocalCluster, klass: dict, tmp_path: Path) -> None:
    cluster.ready()
    out = tmp_path / "out"
    process = _batch_on(cluster, klass, out, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = out / "journal.jsonl"
    _wait_for_results(out, 10, time.monotonic() + 120)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (out / "grades.csv").exists()
    saved = len(read_entries(journal)[0])
    assert 10 <= saved < FILES_GRADED

    resumed = run(klass["course"], klass["subs"], "--out", out, "--dask", cluster.address)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{FILES_GRADED - saved} graded now" in resumed.stdout
    assert f"{saved} unchanged" in resumed.stdout
    _same_gradebook(out, klass["local"])
    _one_line_per_result(out)  # compacted: nothing graded twice survives


def test_an_unreachable_scheduler_is_one_clear_sentence(klass: dict, tmp_path: Path) -> None:
    done = subprocess.run(batch(klass["course"], klass["subs"], "--out", tmp_path / "out",
                                "--dask", "tcp://127.0.0.1:9"), capture_output=True, text=True,
                          timeout=60, env={**os.environ, "GRADE_DASK_WAIT": "2"})
    assert done.returncode == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in done.stderr
    assert "Traceback" not in done.stderr


def test_jobs_with_dask_is_refused_saying_the_workers_decide_the_parallelism(tmp_path: Path
                                                                            ) -> None:
    (tmp_path / "subs" / "ann").mkdir(parents=True)
    done = subprocess.run(batch(ROOT / "course.yaml", tmp_path / "subs", "--out",
                                tmp_path / "out", "--dask", "tcp://127.0.0.1:9", "--jobs", "2"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--jobs does not apply with --dask" in done.stderr
    assert "the cluster's workers and their --nthreads decide" in done.stderr
    assert "Traceback" not in done.stderr and "cannot reach" not in done.stderr
    assert not (tmp_path / "out").exists()  # refused before anything ran
    helped = subprocess.run([*grade_command(), "batch", "--help"], capture_output=True,
                            text=True, timeout=60)
    assert "Not with --dask" in " ".join(helped.stdout.split())


SLOW = 4  # seconds the first file sleeps before grading: time to kill its worker


# The keys of the tasks a worker is running (client.run passes the worker as
# dask_worker): a lambda, which cloudpickle sends by value (a function of this module
# would be sent by name, and the workers cannot import the tests).
EXECUTING = lambda dask_worker: [str(task.key) for task in dask_worker.state.executing]  # noqa: E731


def test_a_file_whose_worker_died_with_no_retries_allowed_is_a_grader_fault_graded_next_run(
        tmp_path: Path) -> None:
    """A scheduler that allows no failures (distributed.scheduler.allowed-failures=0)
    gives up on the tasks of a worker killed mid-task (KilledWorker): those files become
    grader faults, the batch goes on, and the next run grades exactly them again."""
    course = course_copy(tmp_path / "course", time_limit=SLOW + 10)
    students = 4
    build_class(tmp_path / "subs", students, loops=frozenset())
    first = tmp_path / "subs" / "s0000" / FILES["exercise-1"]  # the batch's first file
    first.write_text(f"import time\ntime.sleep({SLOW})\n" + source("solution", "exercise-1"))
    out = tmp_path / "out"
    with LocalCluster(tmp_path / "dask", workers=1, config={
            "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}) as cluster:
        client = cluster.client
        assert client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures
                                       ) == 0
        process = subprocess.Popen(
            batch(course, tmp_path / "subs", "--out", out, "--dask", cluster.address),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            victim, since = "", dict[tuple[str, str], float]()
            deadline = time.monotonic() + 120
            while not victim and time.monotonic() < deadline:
                now = time.monotonic()
                for address, keys in client.run(EXECUTING).items():
                    for key in keys:  # a light file takes milliseconds: this is the sleeper
                        if now - since.setdefault((address, key), now) > SLOW / 3:
                            victim = address
                time.sleep(0.05)
            assert victim, "the first file never ran"
            os.kill(client.run(os.getpid)[victim], signal.SIGKILL)
            _, stderr = process.communicate(timeout=240)
        finally:
            stop(process)
        assert process.returncode == 0, stderr
        entries = read_entries(out / "journal.jsonl")[0]
        assert len(entries) == students * 3  # every file has a result: the batch went on
        faults = {key for key, e in entries.items()
                  if e.result.error_kind is ErrorKind.GRADER_FAULT}
        assert ("s0000", "exercise-1") in faults
        for key in faults:
            error = entries[key].result.error or ""
            assert "the Dask workers grading it died" in error, error
            assert "it is graded again on the next run" in error, error
            assert entries[key].result.score == 0
        graded_by = {e.worker.worker for e in entries.values() if e.worker is not None}
        assert graded_by - {victim}, "no file was graded after the kill"  # its replacement

        cluster.ready()
        again = run(course, tmp_path / "subs", "--out", out, "--dask", cluster.address)
    assert again.returncode == 0, again.stderr
    assert f"{len(faults)} graded now (1 Dask worker)" in again.stdout
    assert f"{students * 3 - len(faults)} unchanged" in again.stdout
    regraded = read_entries(out / "journal.jsonl")[0]
    assert regraded.keys() == entries.keys()
    for key, entry in regraded.items():
        if key in faults:
            assert entry.result.error_kind is not ErrorKind.GRADER_FAULT, entry.result.error
        else:
            assert entry == entries[key]  # reused as it was
    assert regraded["s0000", "exercise-1"].result.score == 10


def test_a_worker_without_the_linux_sandbox_is_refused_unless_the_ta_allows_it_and_says_so(
        tmp_path: Path) -> None:
    """Each Dask worker takes the strongest sandbox of its own machine; one where only
    the portable box runs (GRADE_SANDBOX=portable stands in for a macOS or Windows
    worker) cannot contain learner code: the TA sees its level before anything is
    graded, and the batch refuses it unless --allow-uncontained says otherwise; then it
    grades in the portable box with the local batch's warning, and the journal and
    report name the level."""
    course = course_copy(tmp_path / "course", time_limit=5)
    build_class(tmp_path / "subs", 2, loops=frozenset())
    out = tmp_path / "out"
    with LocalCluster(tmp_path / "dask", workers=1, config={"GRADE_SANDBOX": "portable"}
                      ) as cluster:
        refused = run(course, tmp_path / "subs", "--out", out, "--dask", cluster.address)
        journal = out / "journal.jsonl"
        graded_when_refused = read_entries(journal)[0] if journal.exists() else {}
        [worker] = cluster.client.scheduler_info()["workers"]
        allowed = run(course, tmp_path / "subs", "--out", out, "--dask", cluster.address,
                      "--allow-uncontained")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"Dask worker {worker} (" in refused.stderr
    assert "): isolation portable" in refused.stderr, refused.stderr
    assert "grades at the portable isolation level, which cannot contain learner code" \
        in refused.stderr and "--allow-uncontained" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr
    assert not [e for e in graded_when_refused.values() if e.worker is not None]
    assert allowed.returncode == 0, allowed.stderr
    note = f"note: portable isolation on Dask worker {worker} ("
    assert note in allowed.stderr and "hostile code is not contained there" in allowed.stderr
    assert allowed.stderr.index("isolation portable") < allowed.stderr.index(note)
    levels = {e.worker.level for e in read_entries(out / "journal.jsonl")[0].values()
              if e.worker is not None}
    assert levels == {"portable"}
    assert "<td>portable</td>" in (out / "report.html").read_text()


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


@pytest.mark.parametrize(("level", "graded"), [("plain", False), ("no-namespaces", True)])
def test_plain_workers_are_refused_and_no_namespaces_as_root_with_its_chroot_grades(
        level: str, graded: bool, tmp_path: Path) -> None:
    """`plain` shares the worker's files: refused. `no-namespaces` as root (a Docker
    container's level) chroots each box to an empty root as its own uid: it grades."""
    if os.geteuid() != 0:
        pytest.skip("as root, no-namespaces has its chroot")
    course = course_copy(tmp_path / "course", time_limit=5)
    build_class(tmp_path / "subs", 1, loops=frozenset())
    with LocalCluster(tmp_path / "dask", workers=1, config={"GRADE_SANDBOX": level}
                      ) as cluster:
        done = run(course, tmp_path / "subs", "--out", tmp_path / "out", "--dask",
                   cluster.address)
    assert f"): isolation {level}" in done.stderr, done.stderr
    assert done.returncode == (0 if graded else 2), done.stderr
    assert ("cannot contain learner code" in done.stderr) is not graded, done.stderr


# Learner code that escaped its box on a worker patches the grading plugin there (the
# class, so the warm grader's instance too): each file's answer becomes an object whose
# unpickling runs a command, on whichever machine unpickles it.
PICKLED_RESULT = """
import os
import grader.batch.cluster as cluster

class Payload:
    def __reduce__(self):
        return (os.system, ("echo ran in $PPID >> " + {marker!r},))

cluster.GraderPlugin.grade = lambda self, *file: (Payload(), Payload())
"""


def test_a_worker_answering_with_a_pickle_runs_nothing_here_and_its_files_are_grader_faults(
        tmp_path: Path) -> None:
    course = course_copy(tmp_path / "course", time_limit=5)
    build_class(tmp_path / "subs", 2, loops=frozenset())
    out, marker = tmp_path / "out", tmp_path / "ran.txt"
    with LocalCluster(tmp_path / "dask", workers=1) as cluster:
        cluster.client.run(exec, PICKLED_RESULT.format(marker=str(marker)), {})
        done = run(course, tmp_path / "subs", "--out", out, "--dask", cluster.address)
    assert not marker.exists(), fail(marker.read_text(), "nothing run anywhere",
                                     "a worker's answer must be data, never unpickled")
    assert done.returncode == 0, done.stderr
    entries = read_entries(out / "journal.jsonl")[0]
    graded = [e for e in entries.values() if e.result.error != "no submission"]
    assert graded, "no file was sent to the worker"
    for entry in graded:
        assert entry.result.error_kind is ErrorKind.GRADER_FAULT, entry.result.error
        assert "answered with something other than a result" in (entry.result.error or "")
        assert entry.result.score == 0 and entry.worker is None


def _scores(out: Path) -> dict[tuple[str, str], float]:
    return {key: e.result.score for key, e in read_entries(out / "journal.jsonl")[0].items()}


def test_a_submission_that_takes_over_the_dask_workers_changes_no_grade_when_contained(
        tmp_path: Path) -> None:
    """The round-three attack: turn the portable box's audit hook off, join the cluster
    as a Dask client, patch the grading plugin on every worker so that every later file
    scores 0. On a portable worker the batch is refused (the attack never runs); with
    --allow-uncontained it works, as docs/cluster.md says; on a worker with the Linux
    sandbox (full) the box has no network: every grade is the local run's."""
    course = course_copy(tmp_path / "course", time_limit=30)
    build_class(tmp_path / "subs", 3, loops=frozenset())
    attacker = tmp_path / "subs" / "s0000" / FILES["exercise-1"]
    outcomes = {}
    for level in ("portable", "full"):
        with LocalCluster(tmp_path / f"dask-{level}", workers=1,
                          config={"GRADE_SANDBOX": level}) as cluster:
            attacker.write_text(dask_takeover(cluster.address))
            for flag in ("", "--allow-uncontained"):
                out = tmp_path / f"{level}{flag}"
                done = run(course, tmp_path / "subs", "--out", out, "--dask", cluster.address,
                           *([flag] if flag else []))
                outcomes[level, flag] = done, out
    local = tmp_path / "local"
    reference = run(course, tmp_path / "subs", "--out", local, "--jobs", "1")
    assert reference.returncode == 0, reference.stderr
    expected = _scores(local)
    others = [key for key, score in expected.items() if key[0] != "s0000" and score > 0]
    assert others

    refused, out = outcomes["portable", ""]
    assert refused.returncode == 2 and "cannot contain learner code" in refused.stderr
    assert not (out / "journal.jsonl").exists() or not [
        e for e in read_entries(out / "journal.jsonl")[0].values() if e.worker is not None]
    allowed, out = outcomes["portable", "--allow-uncontained"]
    assert allowed.returncode == 0, allowed.stderr
    forged = _scores(out)
    assert all(forged[key] == 0 for key in others), fail(
        forged, "every other student at 0", "the attack must be real for its refusal to count")
    for flag in ("", "--allow-uncontained"):
        contained, out = outcomes["full", flag]
        assert contained.returncode == 0, contained.stderr
        assert _scores(out) == expected, fail(_scores(out), expected,
                                              "a contained worker: the attack changes nothing")
        for name in GRADEBOOK:
            assert (out / name).read_bytes() == (local / name).read_bytes(), name


def test_losing_the_scheduler_mid_run_is_one_sentence_and_the_next_run_grades_the_rest(
        tmp_path: Path) -> None:
    """The scheduler killed while files are out on its worker: the TA gets one sentence
    (no Dask traceback) and exit 2, the journal keeps every result that came back, and
    the same command (here on the TA's machine) grades only the rest, to the gradebook
    a run that never lost anything gives."""
    course = course_copy(tmp_path / "course", time_limit=10)
    students = 8
    build_class(tmp_path / "subs", students, loops=frozenset())
    for i in range(students):  # each exercise-1 file sleeps: the run lasts seconds
        path = tmp_path / "subs" / f"s{i:04d}" / FILES["exercise-1"]
        path.write_text("import time\ntime.sleep(0.5)\n" + source("solution", "exercise-1"))
    out, journal = tmp_path / "out", tmp_path / "out" / "journal.jsonl"
    with LocalCluster(tmp_path / "dask", workers=1) as cluster:
        process = subprocess.Popen(
            batch(course, tmp_path / "subs", "--out", out, "--dask", cluster.address),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
            env={**os.environ, "GRADE_DASK_WAIT": "10"})
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and process.poll() is None:
                if journal.exists() and journal.read_bytes().count(b"\n") >= 3:
                    break
                time.sleep(0.02)
            assert process.poll() is None, "the batch ended before the scheduler was lost"
            os.kill(cluster.processes[0].pid, signal.SIGKILL)  # the scheduler
            _, stderr = process.communicate(timeout=120)
        finally:
            stop(process)
    assert process.returncode == 2, stderr
    saved = len(read_entries(journal)[0])
    assert 3 <= saved < students * 3
    # Before it: each worker's isolation, said before grading (and progress, if slow).
    said = [line for line in stderr.splitlines()
            if not line.startswith(("Dask worker ", "graded "))]
    assert len(said) == 1 and said[0].startswith(
        f"error: lost the Dask scheduler at {cluster.address}"), stderr
    assert f"run the same command again, with a scheduler running, to grade the rest " \
           f"({saved} results were saved)" in stderr
    assert "Traceback" not in stderr, stderr
    assert not (out / "grades.csv").exists()

    resumed = run(course, tmp_path / "subs", "--out", out, "--jobs", "2")
    assert resumed.returncode == 0, resumed.stderr
    assert f"{students * 3 - saved} graded now" in resumed.stdout
    assert f"{saved} unchanged" in resumed.stdout
    whole = run(course, tmp_path / "subs", "--out", tmp_path / "whole", "--jobs", "2")
    assert whole.returncode == 0, whole.stderr
    for name in GRADEBOOK:
        assert (out / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
