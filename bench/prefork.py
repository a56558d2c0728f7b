"""`grade batch`'s main process up to its first result, before and after, interleaved.

    python bench/prefork.py [--before /tmp/base39] [--repeat 7] [--students 40]
                            [--venvs ~/.cache/grade-prefork]

The class of 40 of bench/anchors.py (`make_class`) on bench/lfl-course, graded with
`grade batch --jobs 2` by two regular (non-editable) installs: this checkout (`after`)
and --before (a folder to install, e.g. /tmp/base39), each from its own copy of the
course (the course cache's key covers the grader's own course code: one shared copy
would be re-validated on every run of the other install). Each run goes through a probe
(`PROBE`, the console script's `grader.cli.main` with two marks) that records, in the
batch's main process, its wall time since the command started and its own CPU (user +
system) at:

- `fork`: the moment its local workers are forked (`WorkerPool.launch`);
- `handed`: the first file handed to the workers (ProcessPoolExecutor.submit of the
  pool's `_grade`, or the first file sent down `PipePool`'s pipe): the end of the
  main's start-up chain (the mainimports branch's measure);
- `first`: the first result back from a worker (`WorkerPool.grade`'s, or `PipePool.grade`'s,
  first yield);

and, for the whole command, the wall time and the CPU of every process (the main, its
workers, their zygotes and boxes). Rounds interleave the two installs, so load hits both
alike; the median of --repeat rounds is printed, with the ratio after/before, and
the least of each (the figure load inflates least); and the main's collector passes
before the fork, a count load does not change. The scores of every run are checked
against the class's expected points.
"""

from __future__ import annotations

import argparse
import os
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

from anchors import ENVIRONMENT, grade_scores, make_class, sh, venv  # noqa: E402

EXERCISE = "exercise_1_weighted_sampling.py"
# The end of every probe: `patch(module)` (the probe's own) once grader.batch.pool is
# imported, then the console script on the arguments from sys.argv[ARGS] on.
# The hook imports nothing: importlib.abc (a MetaPathFinder base) would import
# importlib.resources, and with it typing, pathlib, tempfile and zipfile, ~10 ms of the
# command's own start-up, in every run measured, before and after alike.
HOOK = '''
class Hook:
    def find_spec(self, name, path, target=None):
        if name != "grader.batch.pool":
            return None
        sys.meta_path.remove(self)
        spec = next(s for s in (f.find_spec(name, path, target) for f in sys.meta_path) if s)
        run = spec.loader.exec_module
        def exec_module(module):
            run(module)
            patch(module)
        spec.loader.exec_module = exec_module
        return spec
sys.meta_path.insert(0, Hook())
import grader.cli
sys.argv = ["grade"] + sys.argv[ARGS:]
grader.cli.main()
'''
# Run as `python PROBE LOG START grade-arguments...` in the course folder: the console
# script with a mark (wall since START, this process's CPU) at the fork and at the first
# result. Only the main process writes marks.
PROBE = '''
import gc, os, resource, sys, time
LOG, START, ARGS = sys.argv[1], float(sys.argv[2]), 3
MAIN = os.getpid()
MARKED = set()
def mark(name):
    if os.getpid() != MAIN or name in MARKED:
        return
    MARKED.add(name)
    r = resource.getrusage(resource.RUSAGE_SELF)
    with open(LOG, "a") as log:
        passes = sum(s["collections"] for s in gc.get_stats())
        log.write(f"{name} {time.time() - START:.6f} {r.ru_utime + r.ru_stime:.6f} {passes}\\n")
def patch(pool):
    launch, grade = pool.WorkerPool.launch, pool.WorkerPool.grade
    def launched(self):
        mark("fork")
        return launch(self)
    def graded(self, work):
        return graded_by(grade, self, work)
    def graded_by(grade, self, work):
        first = True
        for item in grade(self, work):
            if first:
                mark("first")
                first = False
            yield item
    pool.WorkerPool.launch, pool.WorkerPool.grade = launched, graded
    if hasattr(pool, "PipePool"):  # the batch's own pipe pool, where workers fork
        pipe_grade = pool.PipePool.grade
        pool.PipePool.grade = lambda self, work: graded_by(pipe_grade, self, work)
        from multiprocessing import connection
        send = connection.Connection.send
        def sent(self, obj):  # a file is a 3-tuple sent down the pool's pipe
            if type(obj) is tuple and len(obj) == 3 and type(obj[1]) is str:
                mark("handed")
            return send(self, obj)
        connection.Connection.send = sent
    submit = pool.ProcessPoolExecutor.submit
    def handed(self, fn, *a, **k):
        if getattr(fn, "__name__", "") == "_grade":  # a file, not a worker's warm-up
            mark("handed")
        return submit(self, fn, *a, **k)
    pool.ProcessPoolExecutor.submit = handed
''' + HOOK


def install(folder: Path, source: str) -> Path:
    """A venv in `folder` with `source` installed regularly (not editable), afresh."""
    bin_ = venv(folder, source)
    sh([str(bin_ / "pip"), "install", "-q", "--force-reinstall", "--no-deps", source])
    return bin_


def course(work: Path, name: str) -> Path:
    """A copy of bench/lfl-course with the lesson's exercise and solution."""
    root = work / name
    shutil.copytree(HERE / "lfl-course", root)
    for folder in ("exercises", "solutions"):
        (root / folder).mkdir()
        shutil.copy(REPO / folder / EXERCISE, root / folder)
    return root


def one_run(bin_: Path, root: Path, folders: Path, out: Path, probe: Path
            ) -> dict[str, float]:
    """One `grade batch`: its marks (wall s, main CPU s), its wall and whole CPU."""
    shutil.rmtree(out, ignore_errors=True)
    log = out.with_suffix(".log")
    log.unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.time()
    done = subprocess.run([str(bin_ / "python"), str(probe), str(log), repr(start), "batch",
                           str(folders), "--out", str(out), "--jobs", "2"],
                          cwd=root, env=ENVIRONMENT, capture_output=True, text=True)
    wall = time.time() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"grade batch failed ({done.returncode}):\n{done.stderr}")
    figures = {"wall": wall, "cpu": (after.ru_utime + after.ru_stime)
               - (before.ru_utime + before.ru_stime)}
    for line in log.read_text().splitlines():
        name, seconds, cpu, passes = line.split()
        figures[f"{name} wall"], figures[f"{name} cpu"] = float(seconds), float(cpu)
        figures[f"{name} passes"] = int(passes) / 1000  # printed in thousandths, as ms
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", default="/tmp/base39", help="checkout to compare with")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--venvs", type=Path, default=Path.home() / ".cache" / "grade-prefork")
    args = parser.parse_args()
    print("venvs ...", flush=True)
    installs = {"before": install(args.venvs / "before", args.before),
                "after": install(args.venvs / "after", str(REPO))}
    rows = ("fork wall", "fork cpu", "fork passes", "handed wall", "handed cpu", "first wall",
            "first cpu", "wall", "cpu")
    figures: dict[str, dict[str, list[float]]] = {k: {r: [] for r in rows} for k in installs}
    with tempfile.TemporaryDirectory(prefix="prefork-") as tmp:
        work = Path(tmp)
        expected = make_class(work / "subs", args.students)
        folders = work / "grade-subs"
        for path in sorted((work / "subs").glob("*.py")):
            (folders / path.stem).mkdir(parents=True)
            shutil.copy(path, folders / path.stem / EXERCISE)
        probe = work / "probe.py"
        probe.write_text(PROBE)
        roots = {name: course(work, f"course-{name}") for name in installs}
        for name, bin_ in installs.items():  # a warm-up each: the course cache, .pyc files
            one_run(bin_, roots[name], folders, work / f"out-{name}", probe)
        for _ in range(args.repeat):
            for name, bin_ in installs.items():
                out = work / f"out-{name}"
                run = one_run(bin_, roots[name], folders, out, probe)
                if grade_scores(out) != {k: float(v) for k, v in expected.items()}:
                    raise SystemExit(f"{name}: scores differ from the expected points")
                for row in rows:
                    figures[name][row].append(run.get(row, float("nan")))
    load = os.getloadavg()
    print(f"\nclass of {args.students}, grade batch --jobs 2, median of {args.repeat} "
          f"interleaved rounds (load {load[0]:.2f} {load[1]:.2f}); ms")
    print(f"  {'':<34}{'before':>8}{'after':>8}{'after/before':>14}   min: before, after")
    labels = {"fork wall": "main at the fork: wall", "fork cpu": "main at the fork: its CPU",
              "fork passes": "main's collector passes by the fork",
              "handed wall": "main at its first task handed: wall",
              "handed cpu": "main at its first task handed: CPU",
              "first wall": "main at the first result: wall",
              "first cpu": "main at the first result: its CPU",
              "wall": "whole command: wall", "cpu": "whole command: CPU, all processes"}
    for row in rows:
        b, a = (statistics.median(figures[k][row]) * 1000 for k in ("before", "after"))
        low_b, low_a = (min(figures[k][row]) * 1000 for k in ("before", "after"))
        print(f"  {labels[row]:<34}{b:8.1f}{a:8.1f}{a / b:14.3f}   {low_b:8.1f}{low_a:8.1f}")


if __name__ == "__main__":
    main()
