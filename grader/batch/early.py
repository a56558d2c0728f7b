"""`grade batch`'s zygotes, launched as the command starts: they boot during its imports.

A batch's workers are forked once the course is loaded (`pool.EarlyPool`), a quarter of
a second in, and each then booted a zygote (a fresh interpreter's start-up) while the
second core had been idle all along. `launch` starts those zygotes from the command
line alone, before click and pydantic load; each forked worker claims one (`claim`) and
greets it, and every process closes the control sockets of the zygotes not its own (a
zygote ends when its control socket closes, so a copy left open would keep it alive).
The zygotes are this process's children: `reap` waits for them once the workers end.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import select
import signal
import subprocess
import time
from itertools import islice
from pathlib import Path

from grader.batch.names import JOURNAL, default_jobs
from grader.sandbox.client import Sandbox, SandboxError
from grader.sandbox.launch import Launched, isolation_level

# `grade batch`'s options that take a value, and its flags: any other word (--help,
# a typo) and nothing is launched early; click then says what it says today.
VALUED = frozenset({
    "--out", "--jobs", "-j", "--exercise", "--layout", "--student", "--only", "--roster",
    "--extensions", "--overrides", "--submitted-at", "--canvas-id", "--nbgrader-db",
    "--nbgrader-assignment", "--dask", "--shard"})
FLAGS = frozenset({"--force", "--similarity", "--allow-uncontained"})

_launched: list[Sandbox] = []  # launched here, not yet handed to the workers
_children: list[subprocess.Popen[bytes] | Launched] = []  # every zygote launched here, for `reap`
_console: list[bool] = []  # whether `launch` ran: this process is the `grade` command
_collecting: list[bool] = []  # the collector was turned off by `launch`, until `collect`


def workers(submissions: Path, jobs: int) -> int:
    """`jobs`, or fewer when SUBMISSIONS holds fewer entries (students, for most
    layouts; nbgrader's are in submitted/): a class of one needs one worker."""
    folder = submissions / "submitted" if (submissions / "submitted").is_dir() else submissions
    if not folder.is_dir():  # a zip: unpacked later
        return jobs
    with os.scandir(folder) as entries:
        return max(1, min(jobs, len(list(islice(entries, jobs)))))


def forks_early(outdir: Path, dask: bool) -> bool:
    """Whether the batch forks its local workers before reading the class: not with
    --dask, nor when OUTDIR's journal holds results (a resumed run may grade nothing)."""
    journal = outdir / JOURNAL
    return not dask and not (journal.is_file() and journal.stat().st_size)


def _options(args: list[str]) -> dict[str, str] | None:
    """`grade [--course C] batch SUBMISSIONS [options]`'s options by name (SUBMISSIONS
    as "", the flags as ""), or None if `args` are anything else."""
    while args[:1] == ["--course"] or (args[:1] and args[0].startswith("--course=")):
        args = args[1 + (args[0] == "--course"):]
    if args[:1] != ["batch"]:
        return None
    options: dict[str, str] = {}
    words = iter(args[1:])
    for word in words:
        name, equals, value = word.partition("=")
        if word in FLAGS:
            options[word] = ""
        elif name in VALUED and name.startswith("--") and equals:
            options[name] = value
        elif word in VALUED:
            options[word] = next(words, "")
        elif word.startswith("-") or "" in options:
            return None
        else:
            options[""] = word
    return options


def _count(options: dict[str, str]) -> int:
    """How many workers (hence zygotes) the batch `options` ask for will fork early; 0
    when none (or when unsure: the batch then starts its workers as without this)."""
    submissions, outdir = options.get(""), options.get("--out")
    jobs = options.get("--jobs", options.get("-j", ""))
    if not submissions or not outdir or not Path(submissions).exists():
        return 0
    if jobs and not (jobs.isdigit() and int(jobs) >= 1):
        return 0
    if not forks_early(Path(outdir), "--dask" in options):
        return 0
    return workers(Path(submissions), int(jobs) if jobs else default_jobs())


def launch(args: list[str]) -> None:
    """Launch the zygotes of `grade batch ARGS`'s workers now, if it forks them early."""
    _console.append(True)
    options = _options(args)
    if options is None:
        gc.enable()
        return
    # The start-up's imports (this module's, click, pydantic, the course, the batch's
    # modules) make ~45,000 objects the collector tracks, all alive as long as the batch:
    # its ~70 passes over them before the fork collected a few hundred and cost 12-15 ms
    # of CPU on the batch's critical path (now ~15 passes, 1.5 ms, all before this). Off
    # (grader.cli.launch_early turned it off before importing this module) until the
    # workers fork: `collect`.
    gc.disable()
    _collecting.append(True)
    from grader.sandbox.levels import portable_here

    try:
        count = 0 if portable_here() else _count(options)
        isolation_level()  # an unknown $GRADE_SANDBOX: said by the workers, as today
    except (SandboxError, OSError):
        return
    # Ctrl-C is the batch process's business: a zygote (like the worker that launches
    # its own) ignores it, and finishes the submission in hand.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for _ in range(count):
            sandbox = Sandbox()
            sandbox.launch_now()
            process = sandbox.launched_process
            if process is not None:
                _launched.append(sandbox)
                _children.append(process)
    finally:
        signal.signal(signal.SIGINT, previous)
    atexit.register(reap)


def collect() -> None:
    """The collector back on, once the batch's start-up is imported and before its
    workers fork: what the start-up made is moved out of its reach first (gc.freeze), so
    no later pass in this process or in a forked worker walks it again (in a worker,
    such a pass would also copy every page it touches: Python's docs on gc.freeze).
    Nothing if `launch` left the collector on (a test calling the click group)."""
    if _collecting:
        del _collecting[:]
        gc.freeze()
        gc.enable()


def take(count: int) -> list[Sandbox]:
    """The launched zygotes for `count` workers; none (and those closed) if launched
    for another count."""
    taken = _launched[:]
    del _launched[:]
    if len(taken) != count:
        _close(taken)
        return []
    return taken


def discard() -> None:
    """Close the zygotes nobody took (the batch stopped early, or forks no workers)."""
    _close(_launched)
    del _launched[:]


def _close(sandboxes: list[Sandbox]) -> None:
    for sandbox in sandboxes:
        sandbox.drop_launched()


class Claims:
    """Which launched zygote each forked worker takes: one byte each in a pipe, written
    before the fork; a worker reads one (a read of one byte is atomic)."""

    def __init__(self, sandboxes: list[Sandbox]) -> None:
        self.sandboxes = sandboxes
        self._read, self._write = os.pipe() if sandboxes else (-1, -1)
        if sandboxes:
            os.write(self._write, bytes(range(len(sandboxes))))
            os.close(self._write)

    def claim(self) -> Sandbox | None:
        """In a forked worker: its zygote (not started: `start` greets it); every other
        zygote's control socket closed. None when there is none left."""
        if not self.sandboxes:
            return None
        try:
            taken = os.read(self._read, 1)
        finally:
            os.close(self._read)
        mine = self.sandboxes[taken[0]] if taken else None
        _close([s for s in self.sandboxes if s is not mine])
        return mine

    def forked(self) -> None:
        """In the batch process, once the workers are forked: only they hold the zygotes."""
        if self.sandboxes:
            os.close(self._read)
            _close(self.sandboxes)


def reap(timeout: float = 5.0) -> None:
    """Wait for the zygotes launched here to end (their workers closed them, or ended);
    kill one that outlives `timeout`. Called at exit, and by `settle`."""
    discard()
    deadline = time.monotonic() + timeout
    for process in _children:
        # on its pidfd, not Popen.wait(timeout): that polls, sleeping up to 50 ms a turn
        if not _exited(process.pid, deadline):
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.0, deadline - time.monotonic()))
        if process.poll() is None:
            process.kill()
            process.wait()
    del _children[:]


def _exited(pid: int, deadline: float) -> bool:
    """Block until process `pid` exits or `deadline` passes, on its pidfd; False if
    there is none (an older kernel or Python)."""
    try:
        fd = os.pidfd_open(pid)
    except (OSError, AttributeError):
        return False
    try:
        select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
    finally:
        os.close(fd)
    return True


def settle(timeout: float = 5.0) -> bool:
    """Wait for this process's workers (told to stop) and zygotes to end: after it,
    the batch can end without the interpreter's teardown and leave nothing behind.
    False when this process is not the `grade` command (a test calling the click group)."""
    if not console():
        return False
    import multiprocessing  # here: the command's start imports nothing it need not
    from multiprocessing.connection import wait

    deadline = time.monotonic() + timeout
    workers = multiprocessing.active_children()
    sentinels = [process.sentinel for process in workers]
    while sentinels and time.monotonic() < deadline:
        ended = wait(sentinels, max(0.0, deadline - time.monotonic()))
        sentinels = [s for s in sentinels if s not in ended]
    for process in workers:  # reaped here, so their CPU is this process's children's
        process.join(max(0.0, deadline - time.monotonic()))
    reap(max(0.0, deadline - time.monotonic()))
    return True


def console() -> bool:
    """Whether this process is the `grade` command (not a test calling the click group)."""
    return bool(_console)
