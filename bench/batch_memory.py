"""Peak RSS of `grade batch` at scale: the batch process, and the largest process of its tree.

    python bench/batch_memory.py [--students 1000] [--jobs 2] [--before REVISION]

Builds one class of --students x 3 exercises (bench/synthetic.py, no infinite loops)
and the shipped course with a 2 s time limit, then, for this checkout (and --before's,
a folder or a git revision exported with git archive), runs with --jobs:

- `grade batch CLASS --out NEW`: a first run (every file graded);
- the same command again into that OUTDIR: a rerun (nothing to grade; the journal, the
  last run's state.json and every export are read and written again).

Each command's `grade` is `python -m grader` with the checkout first on PYTHONPATH, in
this Python (which needs grade's dependencies). Reported per command: wall seconds, the
batch process's own peak RSS (getrusage(RUSAGE_SELF) at its exit) and the largest peak
of any process of its tree (wait4's ru_maxrss: the figure issue 27 tracks), in MiB.
Runs alternate between the checkouts; RSS hardly depends on the machine's load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from anchors import checkout, environment  # noqa: E402

# Built in a child process: writing its notebooks imports nbformat (about 57 MiB here),
# and every process this one forks would start its ru_maxrss from that.
BUILD = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from synthetic import build_class, course_copy
build_class(Path(sys.argv[2]) / "class", int(sys.argv[3]), loops=frozenset())
course_copy(Path(sys.argv[2]) / "course", 2.0)
"""

# `grade ARGS...` in-process, reporting its own peak RSS on stderr as it exits.
# VmHWM, not getrusage: a forked child's ru_maxrss starts at its parent's RSS.
# A finished `grade batch` ends with os._exit (no atexit): its last call is wrapped too.
SELF = """
import atexit, os, sys
MAIN, EXIT = os.getpid(), os._exit
def peak():
    if os.getpid() != MAIN:  # a forked worker ending
        return
    hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
    print("SELF-PEAK-KIB", hwm.split()[1], file=sys.stderr, flush=True)
def leave(code):
    peak()
    EXIT(code)
atexit.register(peak)
os._exit = leave
sys.argv = ["grade", *sys.argv[1:]]
from grader.cli import main
main()
"""


def run(source: Path, course: Path, args: list[str], log: Path) -> tuple[float, float, float]:
    """Wall seconds, the batch process's peak RSS and the tree's largest (MiB)."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    env.pop("VIRTUAL_ENV", None)
    started = time.perf_counter()
    with log.open("w") as err:
        process = subprocess.Popen([sys.executable, "-c", SELF, *args], cwd=course.parent,
                                   env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)  # ru_maxrss: the max over its tree
    seconds = time.perf_counter() - started
    text = log.read_text()
    if status:
        raise SystemExit(f"grade {' '.join(args)} failed ({status}): {text[-2000:]}")
    own = next(int(line.split()[1]) for line in text.splitlines()
               if line.startswith("SELF-PEAK-KIB"))
    return seconds, own / 1024, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--before", default=None, metavar="CHECKOUT",
                        help="also a folder or git revision of this repository (e.g. main)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="grade-memory-"))
    try:
        sources = {"after": REPO}
        if args.before:
            sources["before"] = checkout(args.before, work / "before-src")
        subprocess.run([sys.executable, "-c", BUILD, str(HERE), str(work), str(args.students)],
                       check=True)
        course = work / "course" / "course.yaml"
        print(f"start: {environment()}", flush=True)
        rows = []
        for name, source in sources.items():
            out = work / f"out-{name}"
            command = ["batch", str(work / "class"), "--out", str(out), "--jobs", str(args.jobs)]
            for kind in ("first run", "rerun"):
                rows.append((name, kind, *run(source, course, command, work / "stderr")))
        print(f"end:   {environment()}\n")
        print(f"{args.students} students x 3 exercises, --jobs {args.jobs}; peak RSS in MiB")
        print(f"{'':8}{'':11}{'wall s':>8}{'batch process':>15}{'largest process':>17}")
        for name, kind, seconds, own, tree in rows:
            print(f"{name:8}{kind:11}{seconds:8.1f}{own:15.1f}{tree:17.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
