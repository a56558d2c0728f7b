"""Benchmark `grade batch` against a naive baseline and the in-process lower bound.

    python bench/batch.py [--students 100] [--naive 30] [--time-limit 2] [--repeat 3]

Builds a synthetic class (bench/synthetic.py: correct, wrong and broken files, a
notebook, missing files and one infinite loop), then measures in one run:

- lower bound: the same pipeline in this process, against an in-process `Host`
  (`InProcessBoxes`: no box, no isolation, no JSON framing);
- batch: `run_batch` with 1 and with 2 workers (pool start-up included), and
  the exports written afterwards;
- naive: one `python -m pytest checks/exercise_N.py --submission FILE` process
  per submission, on an even sample of `--naive` files (without the infinite
  loop, which would cost every method the same time limit).

A "submission" is one student's file for one exercise; missing files are not
counted (they cost nothing). The fast methods run --repeat times, interleaved,
and the best time of each counts. Prints a table; writes JSON to bench/results/.
Not a test: the numbers depend on the machine and its load, which are recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from synthetic import EXERCISES, FILES, build_class, course_copy  # noqa: E402

from grader.batch import BatchRequest, run_batch  # noqa: E402
from grader.batch.select import Selection  # noqa: E402
from grader.course import load_course  # noqa: E402
from grader.reports.export import write_exports  # noqa: E402
from grader.runner import Grader  # noqa: E402
from grader.sandbox.inprocess import InProcessBoxes  # noqa: E402

# No "snoop" kind here: the lower bound runs learner code unisolated, in this process.
BENCH_CYCLE = ("solution", "solution", "mutant", "skeleton", "solution", "mutant", "syntax",
               "solution", "notebook", "missing")


def lower_bound(course_yaml: Path, submissions: list[tuple[str, Path]]) -> float:
    """The same pipeline as a batch worker's, with an in-process host instead of a box."""
    course = load_course(course_yaml)
    grader = Grader(course, InProcessBoxes())
    exercises = {e.id: e for e in course.exercises}
    for exercise in course.exercises:
        grader.checks(exercise)
    started = time.perf_counter()
    for exercise_id, path in submissions:
        grader.grade(exercises[exercise_id], path)
    return time.perf_counter() - started


def batch(course_yaml: Path, subs: Path, jobs: int, work: Path) -> tuple[float, float]:
    """Seconds to grade the class with `jobs` workers, then to write every export."""
    course = load_course(course_yaml)
    out = work / f"out-{jobs}"
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    run = run_batch(course, BatchRequest(subs, out, jobs=jobs, selection=Selection(force=True)))
    graded = time.perf_counter()
    write_exports(out, run.results)
    return graded - started, time.perf_counter() - graded


def naive(course_root: Path, sample: list[tuple[str, Path]], time_limit: float) -> float:
    started = time.perf_counter()
    for exercise, path in sample:
        checks = course_root / "checks" / f"{exercise.replace('-', '_')}.py"
        subprocess.run([sys.executable, "-m", "pytest", str(checks), "--submission", str(path),
                        "-q", "-p", "no:cacheprovider", "--submission-time-limit",
                        str(time_limit)], cwd=course_root, capture_output=True, timeout=120)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--naive", type=int, default=30, help="files in the naive sample")
    parser.add_argument("--time-limit", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3, help="best of N for the fast methods")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="grade-bench-"))
    try:
        course_yaml = course_copy(work / "course", args.time_limit)
        plan = build_class(work / "subs", args.students, cycle=BENCH_CYCLE)
        files = []
        for student, exercises in sorted(plan.items()):
            for exercise in EXERCISES:
                if exercises[exercise].kind == "missing":
                    continue
                path = work / "subs" / student / FILES[exercise]
                path = path if path.exists() else path.with_suffix(".ipynb")
                files.append((exercise, path, exercises[exercise].kind))
        count = len(files)
        plain = [(e, p) for e, p, kind in files if kind != "loop"]
        sample = plain[:: max(1, len(plain) // args.naive)][: args.naive]

        # Interleaved repeats, best of each: other load on the machine only ever adds time.
        lowers, ones, twos, exported = [], [], [], []
        for _ in range(args.repeat):
            lowers.append(lower_bound(course_yaml, [(e, p) for e, p, _ in files]))
            one, exports = batch(course_yaml, work / "subs", 1, work)
            ones.append(one)
            exported.append(exports)
            twos.append(batch(course_yaml, work / "subs", 2, work)[0])
        lower, one, two, exports = min(lowers), min(ones), min(twos), min(exported)
        baseline = naive(work / "course", sample, args.time_limit) / len(sample)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    per = {"lower_bound": lower / count, "batch_1_worker": one / count,
           "batch_2_workers": two / count, "naive_pytest": baseline}
    # Both serial runs wait out the same time limit on the infinite loop: without
    # it, the ratio shows what isolation costs on ordinary submissions.
    loops = sum(kind == "loop" for *_, kind in files)
    waited = loops * args.time_limit
    per["lower_bound_without_loop"] = (lower - waited) / (count - loops)
    per["batch_1_worker_without_loop"] = (one - waited) / (count - loops)
    figures = {
        "batch_vs_lower_bound": per["batch_1_worker"] / per["lower_bound"],
        "batch_vs_lower_bound_without_loop": (per["batch_1_worker_without_loop"]
                                              / per["lower_bound_without_loop"]),
        "naive_vs_batch_2_workers": per["naive_pytest"] / per["batch_2_workers"],
        "naive_vs_batch_1_worker": per["naive_pytest"] / per["batch_1_worker"],
        "speedup_1_to_2_workers": one / two,
    }
    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "students": args.students, "submissions": count, "naive_sample": len(sample),
        "repeat": args.repeat, "all_seconds": {"lower_bound": lowers, "batch_1_worker": ones,
                                               "batch_2_workers": twos},
        "time_limit": args.time_limit, "infinite_loops": loops,
        "cpus": os.cpu_count(), "load_average_before_end": os.getloadavg(),
        "seconds": {"lower_bound": lower, "batch_1_worker": one, "batch_2_workers": two,
                    "exports": exports},
        "per_submission": per, "figures": figures,
    }
    print(f"{count} submissions ({args.students} students, {loops} infinite loop, "
          f"time limit {args.time_limit:g} s); naive sample {len(sample)} files")
    print(f"{'method':<34}{'s/submission':>14}")
    for name, value in per.items():
        print(f"{name:<34}{value:>14.4f}")
    print(f"{'exports (all formats, whole class)':<34}{exports:>13.2f}s")
    print("batch (1 worker) / lower bound     "
          f"{figures['batch_vs_lower_bound']:.2f}x  (target <= 2)")
    print("  the same without the loop's wait "
          f"{figures['batch_vs_lower_bound_without_loop']:.2f}x")
    print("naive / batch (2 workers)          "
          f"{figures['naive_vs_batch_2_workers']:.1f}x  (target >= 20)")
    print("naive / batch (1 worker)           "
          f"{figures['naive_vs_batch_1_worker']:.1f}x")
    print("speed-up 1 -> 2 workers            "
          f"{figures['speedup_1_to_2_workers']:.2f}x  (target >= 1.8)")
    print(f"load average {report['load_average_before_end']}")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    target = results / f"batch-{time.strftime('%Y%m%d-%H%M%S')}.json"
    target.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
