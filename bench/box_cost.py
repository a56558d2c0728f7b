"""CPU per graded file inside `grade batch`'s workers: the worker, its zygote, its boxes.

    python bench/box_cost.py [--rounds 7] [--students 40] [--before CHECKOUT_FOLDER] [--cold]

The class of bench/anchors.py (40 files: 3, 2 or 1 points of 3) graded on
bench/lfl-course (three checks; one draws 10,000 samples, one 1,000) by one warm worker
as a batch's is (load_course, make_sandbox, warm_grader, grade_safely, the result's
JSON), in a process of its own per round, after five files of warm-up. Per file:

- worker: this process's CPU (os.times) while it grades: the checks' own loops, the
  frames, the results;
- zygote: the zygote's own CPU (/proc ticks, 10 ms: 0.25 ms per file over 40);
- boxes: the CPU and page faults of every box, as its zygote reaped them (wait4's
  rusage, exact; faults only where the zygote reports them, after 0130ab2);
- frames: the requests the worker sent its boxes (8 for these checks before the
  perfile branch answered gets ahead).

With --cold the five files of warm-up are left out and every file is measured from
the worker's first: what a class of 40 really pays, its zygote's once-only work too
(the zygote's CPU is read in 10 ms ticks: 0.25 ms per file over 40).

With --before, that checkout (a folder: /tmp/base38, or `git worktree add`) is graded
in the same rounds, interleaved, so load hits both alike; medians of the rounds, and
the minimum of each, which load inflates least. Run it on a quiet machine: the figures
are CPU, not wall time, but a loaded machine still slows every process's caches.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

ROUND = r"""
import json, os, sys
from pathlib import Path
import grader
assert Path(grader.__file__).resolve().parents[1] == Path(os.environ["PYTHONPATH"]).resolve()
from grader.batch.executor import grade_safely, warm_grader
from grader.course import load_course
from grader.sandbox.levels import make_sandbox

course_folder, class_folder = Path(sys.argv[1]), Path(sys.argv[2])
os.chdir(course_folder)
course = load_course(Path("course.yaml"))
exercise = course.exercises[0]
files = sorted(class_folder.glob("*/*.py"))
sandbox = make_sandbox(False)
sandbox.start()
statuses = []
cleanup = sandbox.cleanup
def recorded(*args, **kwargs):
    status = cleanup(*args, **kwargs)
    statuses.append(status)
    return status
sandbox.cleanup = recorded
grader = warm_grader(course, sandbox, course.exercises)
launched = sandbox.process_id
children = Path(f"/proc/{launched}/task/{launched}/children").read_text().split()
zygote = int(children[0]) if children else launched  # unshare --fork's child, or itself
ticks = os.sysconf("SC_CLK_TCK")
def zygote_ms():
    fields = Path(f"/proc/{zygote}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / ticks
import grader.sandbox.protocol as protocol
frames = []
send = protocol.send
def counted(sock, message):
    frames.append(1)
    send(sock, message)
protocol.send = counted
cold = sys.argv[3] == "cold"  # from the worker's first file: its zygote's first boxes too
for path in files[:0 if cold else 5]:
    grade_safely(grader, exercise, path).model_dump_json()
statuses.clear()
frames.clear()
before, zygote_before = os.times(), zygote_ms()
scores = [grade_safely(grader, exercise, path).model_dump_json() for path in files]
after, zygote_after = os.times(), zygote_ms()
sandbox.close()
n = len(files)
faults = [s.get("faults") for s in statuses]
print(json.dumps({
    "worker": (after.user + after.system - before.user - before.system) * 1000 / n,
    "zygote": (zygote_after - zygote_before) / n,
    "boxes": 1000 * sum(float(s.get("cpu", 0)) for s in statuses) / n,
    "faults": sum(faults) / n if None not in faults else None,
    "boxes_per_file": len(statuses) / n,
    "frames": len(frames) / n,  # requests the worker sent its boxes, per file
}))
"""


def make_class(work: Path, students: int) -> tuple[Path, Path]:
    """The lfl course (its exercise and solution the lesson's own) and one folder per
    student, as bench/anchors.py builds them."""
    sys.path.insert(0, str(HERE))
    import anchors  # the class's generator: one definition of the files and their points

    anchors.make_class(work / "subs", students)
    course = work / "lfl-course"
    shutil.copytree(HERE / "lfl-course", course)
    for folder in ("exercises", "solutions"):
        (course / folder).mkdir()
        shutil.copy(REPO / folder / "exercise_1_weighted_sampling.py", course / folder)
    for path in sorted((work / "subs").glob("*.py")):
        (work / "class" / path.stem).mkdir(parents=True)
        shutil.copy(path, work / "class" / path.stem / "exercise_1_weighted_sampling.py")
    return course, work / "class"


def one_round(root: Path, course: Path, folder: Path, cold: bool) -> dict[str, float | None]:
    """One round of the class in a fresh process importing `grader` from `root`."""
    # cwd: `-c` puts the working folder first on sys.path, before PYTHONPATH
    done = subprocess.run([sys.executable, "-c", ROUND, str(course), str(folder),
                           "cold" if cold else "warm"],
                          capture_output=True, text=True, check=False, cwd=course,
                          env={**os.environ, "PYTHONPATH": str(root)})
    if done.returncode:
        raise SystemExit(f"{root}: {done.stderr.strip()[-2000:]}")
    figures: dict[str, float | None] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def summary(name: str, rounds: list[dict[str, float | None]]) -> str:
    def column(key: str) -> str:
        values = [r[key] for r in rounds]
        if any(v is None for v in values):
            return f"{key} -"
        numbers = [float(v) for v in values if v is not None]
        return f"{key} {statistics.median(numbers):6.2f} (min {min(numbers):6.2f})"

    totals = [sum(float(r[k] or 0) for k in ("worker", "zygote", "boxes")) for r in rounds]
    return (f"{name:10s} total {statistics.median(totals):6.2f} (min {min(totals):6.2f})  "
            f"{column('worker')}  {column('zygote')}  {column('boxes')}  "
            f"box {column('faults')}  {column('frames')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--before", type=Path, default=None, metavar="CHECKOUT_FOLDER")
    parser.add_argument("--cold", action="store_true",
                        help="measure from the worker's first file (no five files of "
                             "warm-up): its zygote's first boxes, and what it does once")
    options = parser.parse_args()
    trees = {"this": REPO, **({"before": options.before} if options.before else {})}
    with tempfile.TemporaryDirectory(prefix="box-cost-") as work:
        course, folder = make_class(Path(work), options.students)
        results: dict[str, list[dict[str, float | None]]] = {name: [] for name in trees}
        for index in range(options.rounds):
            order = list(trees.items()) if index % 2 == 0 else list(trees.items())[::-1]
            for name, root in order:
                results[name].append(one_round(root, course, folder, options.cold))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"CPU per graded file, ms ({options.students} files, {options.rounds} rounds, "
          f"{'cold' if options.cold else 'after 5 files of warm-up'}, "
          f"median and min; load average {load}):")
    for name, rounds in results.items():
        print(summary(name, rounds))


if __name__ == "__main__":
    main()
