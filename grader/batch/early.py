"""`grade batch`'s zygotes, launched as the command starts: they boot during its imports.

A batch's workers are forked once the course is loaded (`pool.EarlyPool`), a quarter of
a second in, and each then booted a zygote (a fresh interpreter's start-up) while the
second core had been idle all along. `launch` starts those zygotes from the command
line alone, before click and pydantic load; each forked worker claims one (pool.py's
`Claims`) and greets it, and every process closes the control sockets of the zygotes not
its own (a zygote ends when its control socket closes, so a copy left open would keep it
alive).
The zygotes are this process's children: `reap` waits for them once the workers end.

On a plain first run (`grade batch SUBMISSIONS --out OUTDIR [--jobs N]`, a course whose
cache holds its plans), `launch` goes further: it forks the workers themselves, which
grade from the plans without pydantic (batch/pool.py), and hands them the class's
first files by their exact names (`guesses`) while this process loads click, pydantic
and the course: the second core grades instead of waiting. The batch then reads the
class as always and asks for what it grades; a guessed file is not graded twice, and
a guess it never asks for is dropped (`PipePool`). The pool is the batch's only when
it was forked for the course the batch loaded and the same number of workers
(`take_pool`); otherwise it is closed and the batch forks its own.
"""

from __future__ import annotations

# Until the zygotes are launched, `os` alone (and the few names below): typing, pathlib,
# subprocess and the sandbox's client cost ~10 ms of the batch's start, and each zygote
# boots ~35 ms from its launch while the second core idles.
import gc
import os
from itertools import islice  # a built-in module: no import cost

from grader.batch.names import JOURNAL, default_jobs
from grader.sandbox.asked import SandboxError
from grader.sandbox.launch import Launched, isolation_level, portable_here
from grader.sandbox.launch import launch as spawn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from grader.batch.pool import PipePool, Plans
    from grader.sandbox.client import Sandbox

# `grade batch`'s options that take a value, and its flags: any other word (--help,
# a typo) and nothing is launched early; click then says what it says today.
VALUED = frozenset({
    "--out", "--jobs", "-j", "--exercise", "--layout", "--student", "--only", "--roster",
    "--extensions", "--overrides", "--submitted-at", "--canvas-id", "--nbgrader-db",
    "--nbgrader-assignment", "--dask", "--shard"})
FLAGS = frozenset({"--force", "--similarity", "--allow-uncontained"})

_launched: list[Sandbox] = []  # launched here, not yet handed to the workers
_children: list[Launched] = []  # every zygote launched here, for `reap`
_console: list[bool] = []  # whether `launch` ran: this process is the `grade` command
_collecting: list[bool] = []  # the collector was turned off by `launch`, until `collect`
_pools: list[PipePool] = []  # forked by `launch`, not yet taken by the batch
# The options of a plain first run, whose files can be guessed as the command starts.
PLAIN = frozenset({"", "--out", "--jobs", "-j"})
GUESSES = 16  # files guessed per worker: more than it grades while the batch starts


def workers(submissions: str | os.PathLike[str], jobs: int) -> int:
    """`jobs`, or fewer when SUBMISSIONS holds fewer entries (students, for most
    layouts; nbgrader's are in submitted/): a class of one needs one worker."""
    nbgrader = os.path.join(submissions, "submitted")
    folder = nbgrader if os.path.isdir(nbgrader) else submissions
    if not os.path.isdir(folder):  # a zip: unpacked later
        return jobs
    with os.scandir(folder) as entries:
        return max(1, min(jobs, len(list(islice(entries, jobs)))))


def forks_early(outdir: str | os.PathLike[str], dask: bool) -> bool:
    """Whether the batch forks its local workers before reading the class: not with
    --dask, nor when OUTDIR's journal holds results (a resumed run may grade nothing)."""
    journal = os.path.join(outdir, JOURNAL)
    return not dask and not (os.path.isfile(journal) and os.path.getsize(journal))


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
    if not submissions or not outdir or not os.path.exists(submissions):
        return 0
    if jobs and not (jobs.isdigit() and int(jobs) >= 1):
        return 0
    if not forks_early(outdir, "--dask" in options):
        return 0
    return workers(submissions, int(jobs) if jobs else default_jobs())


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
    try:
        count = 0 if portable_here() else _count(options)
        level = isolation_level()  # an unknown $GRADE_SANDBOX: said by the workers, as today
    except (SandboxError, OSError):
        return
    import _signal  # type: ignore[import-not-found]  # no stub; `signal` imports enum

    # Ctrl-C is the batch process's business: a zygote (like the worker that launches
    # its own) ignores it, and finishes the submission in hand.
    previous = _signal.signal(_signal.SIGINT, _signal.SIG_IGN)
    spawned: list[Launched] = []
    try:
        for _ in range(count):  # by posix_spawn, as a learner's run launches its zygote
            spawned.append(spawn(level))
    except OSError:  # a worker without one starts its own, and says why it cannot
        pass
    finally:
        _signal.signal(_signal.SIGINT, previous)
    import atexit

    from grader.sandbox.client import Sandbox

    for launched in spawned:
        sandbox = Sandbox()
        sandbox.adopt_launched(launched)
        _launched.append(sandbox)
        _children.append(launched)
    try:
        if _launched and args[0] == "batch" and PLAIN.issuperset(options):
            from pathlib import Path

            _fork_and_guess(Path(options[""]), count)
    finally:
        # Registered after multiprocessing (imported with the pool), so run before its
        # exit hook, which joins every worker: a batch that ends before it takes the
        # pool (Ctrl-C as it starts) kills its workers first, or would wait forever.
        atexit.register(reap)


def _fork_and_guess(submissions: Path, count: int) -> None:
    """Fork the `count` workers of a plain first run now, with the zygotes just
    launched, and hand them the class's first files; nothing when the course's cache
    holds no plans (the batch then forks its workers once the course is loaded)."""
    plans = cached_plans()
    if not plans:
        return
    import signal

    import grader.runner.grade  # noqa: F401  (the workers' grading: imported once, here)
    from grader.batch.pool import Claims, PipePool

    pool = PipePool(plans, count, Claims(take(count)))
    _pools.append(pool)  # first: a Ctrl-C from here on finds it to kill (`discard`)
    # Ctrl-C held back while the workers fork, and said once each is known to the pool:
    # one arriving mid-fork would leave a worker no one kills, and its zygote alive.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pool.launch()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    pool.guess(guesses(submissions, plans, GUESSES * count))


def cached_plans() -> Plans | None:
    """Every exercise's plan (course/plan.py) of the course the command will load, from
    its cache; None when the cache cannot say (cold, stale, unreadable)."""
    from pathlib import Path

    from grader.course.load import cached_plan
    from grader.course.plan import Planned
    from grader.course.sidecar import course_file_here

    course_file = course_file_here()
    if course_file is None:
        return None
    entries = cached_plan(Path(course_file)) or {}
    root = Path(course_file).resolve().parent
    plans: Plans = {}
    for name, entry in entries.items():
        plan = Planned.parse(name, entry, root)
        if plan is None:
            return None
        plans[name] = plan
    return plans or None


def guesses(submissions: Path, plans: Plans, most: int) -> list[tuple[str, str]]:
    """Up to `most` (exercise id, path) the batch will most likely ask for first: in
    student folders by name (real folders, not hidden), each exercise's file by its
    exact name, when it is a regular file (not a link)."""
    import stat
    from pathlib import Path

    found: list[tuple[str, str]] = []
    if most < 1:
        return found
    try:
        with os.scandir(submissions) as entries:
            folders = sorted(e.name for e in entries
                             if not e.name.startswith(".") and e.is_dir(follow_symlinks=False))
    except OSError:
        return []
    names = [(exercise, Path(plan.file).name) for exercise, plan in plans.items()]
    for folder in folders:
        for exercise, name in names:
            path = submissions / folder / name
            try:
                regular = stat.S_ISREG(os.lstat(path).st_mode)
            except OSError:
                continue
            if regular:
                found.append((exercise, str(path)))
                if len(found) == most:
                    return found
    return found


def take_pool(plans: Plans, jobs: int) -> PipePool | None:
    """The workers `launch` forked, if they grade these `plans` with `jobs` workers;
    else None, and those are closed."""
    pool = _pools.pop() if _pools else None
    if pool is not None and (pool.plans != plans or pool.jobs != jobs):
        pool.__exit__(None)
        return None
    return pool


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
    """Close the zygotes and workers nobody took (the batch stopped early, or forks no
    workers)."""
    _close(_launched)
    del _launched[:]
    while _pools:  # abandoned: killed, whatever they were grading
        _pools.pop().__exit__(BaseException)


def _close(sandboxes: list[Sandbox]) -> None:
    for sandbox in sandboxes:
        sandbox.drop_launched()


def reap(timeout: float = 5.0) -> None:
    """Wait for the zygotes launched here to end (their workers closed them, or ended);
    kill one that outlives `timeout`. Called at exit, and by `settle`."""
    import subprocess  # here, as the batch ends: Launched.wait's TimeoutExpired
    import time

    discard()
    deadline = time.monotonic() + timeout
    for process in _children:
        # on its pidfd, not Launched.wait(timeout): that polls, sleeping up to 50 ms a turn
        if not _exited(process.pid, deadline):
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        if process.poll() is None:
            process.kill()
            process.wait()
    del _children[:]


def _exited(pid: int, deadline: float) -> bool:
    """Block until process `pid` exits or `deadline` passes, on its pidfd; False if
    there is none (an older kernel or Python)."""
    import select
    import time

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
    import time
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
