"""`grade batch`'s batch process from its workers' fork to its exit (class of 40): before, after.

    python bench/classloop.py [--repeat 9] [--before /tmp/base39] [--venvs /tmp/classloop-venvs]

Builds (--venvs, kept between runs) a regular, NON-editable install of this checkout
and one of --before (a folder or a git revision, as bench/anchors.py takes it), and
anchors.py's class of 40 on bench/lfl-course. Then runs `grade batch SUBS --out OUT
--jobs 2` with each install in turn, --repeat rounds (interleaved: load hits both
alike), under a probe that marks, in the batch process only (CLOCK_MONOTONIC, and the
process's own CPU, time.process_time):

- fork: its first os.fork() (the first worker; the zygotes are posix_spawn'ed);
- handed: the first file it hands to the pool (ProcessPoolExecutor.submit of `_grade`,
  or the first file sent down pool.PipePool's pipe);
- first / last result: its first and last write of a result to the journal
  (`Journal.append`, or `Journal.append_line` where that exists);
- exit: its os._exit (or the interpreter's exit), and when the parent saw it end.

Prints the median of each, before and after: fork -> first file handed to the workers
(wall, and the batch process's CPU), fork -> first result (wall), the batch process's
CPU from the fork to the last result and while its workers grade (first file handed ->
last result: every thread of the batch process, the pool's too), last result -> exit
(wall, as the parent saw the end, and the batch process's CPU till its exit call), and
the whole command's wall and CPU (every process) beside.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from anchors import ENVIRONMENT, checkout, environment, make_class, venv  # noqa: E402

# Run with an install's python: argv = grade's arguments; $CLASSLOOP_MARKS = where to
# write "name monotonic cpu" lines. Patches by import hook, so nothing loads earlier
# than the command itself loads it.
PROBE = r'''
import importlib.abc, importlib.util, os, sys, time
MAIN = os.getpid()
marks = {}
def mark(name, keep=True):
    if os.getpid() != MAIN or (keep and name in marks):
        return
    marks[name] = (time.monotonic(), time.process_time())
def dump():
    if os.getpid() == MAIN:
        mark("exit")
        with open(os.environ["CLASSLOOP_MARKS"], "w") as f:
            for name, (at, cpu) in marks.items():
                f.write(f"{name} {at} {cpu}\n")
real_fork, real_exit = os.fork, os._exit
def fork():
    mark("fork")
    return real_fork()
def leave(code):
    dump()
    real_exit(code)
os.fork, os._exit = fork, leave
import atexit
atexit.register(dump)
def results(journal):
    for name in ("append", "append_line"):
        original = getattr(journal.Journal, name, None)
        if original is None:
            continue
        def wrapped(self, *a, __original=original, **k):
            mark("first")
            done = __original(self, *a, **k)
            marks.pop("last", None)
            mark("last")
            return done
        setattr(journal.Journal, name, wrapped)
def handed(process):
    original = process.ProcessPoolExecutor.submit
    def submit(self, fn, *a, **k):
        if getattr(fn, "__name__", "") == "_grade":  # a file, not a worker's warm-up
            mark("handed")
        return original(self, fn, *a, **k)
    process.ProcessPoolExecutor.submit = submit
def sent(connection):  # grade's own pipe pool (pool.PipePool): a file is a tuple sent,
    original = connection.Connection.send  # (number, exercise, path[, guessed])
    def send(self, obj):
        if type(obj) is tuple and len(obj) in (3, 4) and type(obj[1]) is str:
            mark("handed")
        return original(self, obj)
    connection.Connection.send = send
PATCHES = {"grader.batch.journal": results, "concurrent.futures.process": handed,
           "multiprocessing.connection": sent}
class Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in PATCHES:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        sys.meta_path.insert(0, self)
        run = spec.loader.exec_module
        def exec_module(module, __patch=PATCHES[name]):
            run(module)
            __patch(module)
        spec.loader.exec_module = exec_module
        return spec
sys.meta_path.insert(0, Hook())
from grader.cli import main
sys.argv = ["grade"] + sys.argv[1:]
main()
'''
MEASURES = ("fork -> first file handed, ms", "CPU fork -> first handed, ms",
            "fork -> first result, ms", "CPU fork -> last result, ms",
            "CPU first handed -> last result, ms", "last result -> exit, ms",
            "CPU last result -> exit, ms", "whole command, ms", "whole command CPU, ms")


def run_once(bin_: Path, course: Path, subs: Path, out: Path, probe: Path, marks: Path
             ) -> dict[str, float]:
    """One `grade batch` under the probe: the measures, in ms."""
    shutil.rmtree(out, ignore_errors=True)
    marks.unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run([str(bin_ / "python"), str(probe), "batch", str(subs), "--out",
                           str(out), "--jobs", "2"], cwd=course,
                          env={**ENVIRONMENT, "CLASSLOOP_MARKS": str(marks)},
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    ended = time.monotonic()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"grade batch failed ({done.returncode}):\n{done.stderr.decode()}")
    got = {}
    for line in marks.read_text().splitlines():
        name, at, cpu = line.split()
        got[name] = (float(at), float(cpu))
    return dict(zip(MEASURES, (
        1000 * (got["handed"][0] - got["fork"][0]),
        1000 * (got["handed"][1] - got["fork"][1]),
        1000 * (got["first"][0] - got["fork"][0]),
        1000 * (got["last"][1] - got["fork"][1]),
        1000 * (got["last"][1] - got["handed"][1]),
        1000 * (ended - got["last"][0]),
        1000 * (got["exit"][1] - got["last"][1]),
        1000 * (ended - started),
        1000 * ((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)),
    ), strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--before", default="/tmp/base39", metavar="CHECKOUT")
    parser.add_argument("--venvs", type=Path,
                        default=Path.home() / ".cache" / "grade-classloop")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="grade-classloop-"))
    try:
        print("venvs (first run: minutes) ...", flush=True)
        installs = {
            "before": venv(args.venvs / "before",
                           str(checkout(args.before, work / "before-src")), reinstall=True),
            "after": venv(args.venvs / "after", str(REPO), reinstall=True),
        }
        make_class(work / "flat", args.students)
        subs = work / "subs"
        for path in (work / "flat").glob("*.py"):
            (subs / path.stem).mkdir(parents=True)
            shutil.copy(path, subs / path.stem / "exercise_1_weighted_sampling.py")
        course = work / "lfl-course"
        shutil.copytree(HERE / "lfl-course", course)
        for folder in ("exercises", "solutions"):
            (course / folder).mkdir()
            shutil.copy(REPO / folder / "exercise_1_weighted_sampling.py", course / folder)
        probe = work / "probe.py"
        probe.write_text(PROBE)
        print(f"start: {environment()}", flush=True)
        figures: dict[str, dict[str, list[float]]] = {
            name: {m: [] for m in MEASURES} for name in installs}
        for name, bin_ in installs.items():  # warm the caches once
            run_once(bin_, course, subs, work / f"out-{name}", probe, work / "marks")
        for _ in range(args.repeat):
            for name, bin_ in installs.items():
                measured = run_once(bin_, course, subs, work / f"out-{name}", probe,
                                    work / "marks")
                for measure, value in measured.items():
                    figures[name][measure].append(value)
        print(f"end:   {environment()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nmedian of {args.repeat} interleaved runs (min in brackets), the batch process "
          f"of `grade batch` of {args.students} students, --jobs 2")
    print(f"{'':32} {'before':>16} {'after':>16}")
    for measure in MEASURES:
        cells = [f"{statistics.median(figures[n][measure]):7.1f} "
                 f"({min(figures[n][measure]):6.1f})" for n in installs]
        print(f"{measure:32} {cells[0]:>16} {cells[1]:>16}")


if __name__ == "__main__":
    main()
