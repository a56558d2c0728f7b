"""Benchmark `grade batch --dask` against the local worker pool on the same class.

    python bench/dask_cluster.py [--students 100] [--heavy 80] [--repeat 3]

Starts real Dask clusters on localhost (bench/localcluster.py: a `dask scheduler`
and 1 or 2 `dask worker --nthreads 1` processes), then measures in one run:

- the light class (bench/synthetic.py without the infinite loop: correct, wrong
  and broken files, notebooks, missing files): `run_batch` on the local pool with
  1 and 2 workers, and through the Dask path with 1 and 2 workers, --repeat
  times interleaved, best of each (other load only ever adds time). The first
  Dask run on each cluster sets up its workers' graders (the worker plugin); it
  is reported apart, the best runs use warm workers, as a standing cluster does;
- a class of heavy checks: one check per submission that computes for 0.5 s
  (a small model's training, a simulation): the overhead is the run's wall
  time times the workers, over the checks' own 0.5 s per file, minus one. Each
  method grades it twice: the first run of a course sets up the Dask workers'
  graders for it and is reported apart; the second is the figure.

Target: the Dask path within 1.5x of the local pool per submission, and under 5%
overhead on the heavy class. Prints a table; writes JSON to bench/results/.
Not a test: the figures depend on the machine and its load, which are recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from localcluster import LocalCluster  # noqa: E402
from synthetic import EXERCISES, build_class, course_copy  # noqa: E402

from grader.batch import BatchRequest, run_batch  # noqa: E402
from grader.batch.cluster import dask_pool  # noqa: E402
from grader.batch.select import Selection  # noqa: E402
from grader.course import load_course  # noqa: E402

BENCH_CYCLE = ("solution", "solution", "mutant", "skeleton", "solution", "mutant", "syntax",
               "solution", "notebook", "missing")
HEAVY_SECONDS = 0.5
HEAVY_CHECKS = f'''"""A heavy check: {HEAVY_SECONDS} s of computation per submission."""

import time

from grader.checks import Submission, check, fail


@check("The sampler trains a small model", points=10)
def test_heavy(submission: Submission) -> None:
    weather = submission.value("weather")
    end = time.perf_counter() + {HEAVY_SECONDS}
    while time.perf_counter() < end:  # computing, not sleeping: a CPU-bound check
        pass
    if not isinstance(weather, dict):
        fail("weather is not a dict", expected="a dict of outcomes")
'''


def graded(course_yaml: Path, subs: Path, out: Path, **options: object) -> tuple[float, float]:
    """Seconds for one whole `grade batch` run (force: every file graded), and the sum of
    the seconds its files took on the workers (box and checks, as each result records)."""
    course = load_course(course_yaml)
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    request = BatchRequest(subs, out, selection=Selection(force=True), **options)  # type: ignore[arg-type]
    run = run_batch(course, request)
    seconds = time.perf_counter() - started
    assert run.graded > 0
    return seconds, sum(e.seconds for s in run.results.students for e in s.exercises)


def timed(course_yaml: Path, subs: Path, out: Path, **options: object) -> float:
    return graded(course_yaml, subs, out, **options)[0]


def heavy_course(folder: Path) -> Path:
    course_yaml = course_copy(folder, time_limit=10)
    (folder / "checks" / "exercise_1.py").write_text(HEAVY_CHECKS)
    return course_yaml


def files_in(subs: Path) -> int:
    return sum(1 for p in subs.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--heavy", type=int, default=80, help="files in the heavy class")
    parser.add_argument("--repeat", type=int, default=3, help="best of N on the light class")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="grade-bench-dask-"))
    try:
        course_yaml = course_copy(work / "course", time_limit=2)
        build_class(work / "subs", args.students, loops=frozenset(), cycle=BENCH_CYCLE)
        count = files_in(work / "subs")
        heavy_yaml = heavy_course(work / "heavy")
        build_class(work / "heavy-subs", args.heavy, loops=frozenset(), cycle=("solution",))
        heavy_only = [load_course(heavy_yaml).exercise(EXERCISES[0])]
        with LocalCluster(work / "dask1", workers=1) as one, \
                LocalCluster(work / "dask2", workers=2) as two:
            methods = {"local_1_worker": {"jobs": 1}, "local_2_workers": {"jobs": 2},
                       "dask_1_worker": {"executor": dask_pool(one.address)},
                       "dask_2_workers": {"executor": dask_pool(two.address)}}
            seconds: dict[str, list[float]] = {name: [] for name in methods}
            for _ in range(args.repeat + 1):  # the first round warms the Dask workers
                for name, options in methods.items():
                    seconds[name].append(timed(course_yaml, work / "subs", work / name,
                                               **options))
            # Twice each: the first run of a course on a cluster sets up every worker's
            # grader for it (reported apart, as for the light class); a standing cluster
            # grading a class pays that once, the second run is what each file costs.
            heavy_rounds = {name: [graded(heavy_yaml, work / "heavy-subs",
                                          work / f"heavy-{name}", exercises=heavy_only,
                                          **methods[name]) for _ in range(2)]
                            for name in ("local_1_worker", "dask_1_worker", "dask_2_workers")}
            heavy_runs = {name: rounds[1] for name, rounds in heavy_rounds.items()}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    best = {name: min(values[1:]) for name, values in seconds.items()}
    per = {name: value / count for name, value in best.items()}
    cold = {name: values[0] / count for name, values in seconds.items()
            if name.startswith("dask")}
    checks_time = args.heavy * HEAVY_SECONDS
    workers = {"local_1_worker": 1, "dask_1_worker": 1, "dask_2_workers": 2}
    heavy = {name: wall for name, (wall, _) in heavy_runs.items()}
    overhead = {name: value * workers[name] / checks_time - 1 for name, value in heavy.items()}
    heavy_cold = {name: rounds[0][0] * workers[name] / checks_time - 1
                  for name, rounds in heavy_rounds.items()}
    # Where it goes: the box around each check (fork, loading the file, replies), as
    # the workers timed it, then the rest (start-up, dispatch, the journal).
    in_boxes = {name: on_workers / checks_time - 1 for name, (_, on_workers) in heavy_runs.items()}
    outside = {name: overhead[name] - in_boxes[name] for name in heavy}
    figures = {
        "dask_vs_local_1_worker": per["dask_1_worker"] / per["local_1_worker"],
        "dask_vs_local_2_workers": per["dask_2_workers"] / per["local_2_workers"],
        "dask_speedup_1_to_2_workers": best["dask_1_worker"] / best["dask_2_workers"],
    }
    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "students": args.students, "submissions": count, "heavy_submissions": args.heavy,
        "repeat": args.repeat, "all_seconds": seconds, "heavy_seconds": heavy,
        "cpus": os.cpu_count(), "load_average_before_end": os.getloadavg(),
        "per_submission": per, "dask_first_run_per_submission": cold,
        "heavy_overhead": overhead, "heavy_overhead_in_boxes": in_boxes,
        "heavy_overhead_outside_boxes": outside, "heavy_overhead_first_run": heavy_cold,
        "figures": figures,
    }
    print(f"light class: {count} submissions ({args.students} students), best of "
          f"{args.repeat} after a warm-up round")
    print(f"{'method':<34}{'s/submission':>14}")
    for name, value in per.items():
        print(f"{name:<34}{value:>14.4f}")
    for name, value in cold.items():
        print(f"{name + ' (first run, cold)':<34}{value:>14.4f}")
    print(f"dask / local (1 worker)            {figures['dask_vs_local_1_worker']:.2f}x"
          "  (target <= 1.5)")
    print(f"dask / local (2 workers)           {figures['dask_vs_local_2_workers']:.2f}x"
          "  (target <= 1.5)")
    print(f"dask speed-up 1 -> 2 workers       {figures['dask_speedup_1_to_2_workers']:.2f}x")
    print(f"heavy class: {args.heavy} submissions, one {HEAVY_SECONDS:g} s check each "
          f"({checks_time:g} s of checks)")
    for name, value in heavy.items():
        print(f"{name:<34}{value:>13.2f}s  overhead {100 * overhead[name]:5.1f}%"
              f"{'  (target < 5%)' if name.startswith('dask') else ''}: "
              f"{100 * in_boxes[name]:.1f}% around the check in its box, "
              f"{100 * outside[name]:.1f}% outside (start-up, dispatch, journal)")
    for name, value in heavy_cold.items():
        print(f"{name + ' (first run of the course)':<34} overhead {100 * value:5.1f}%")
    print(f"load average {report['load_average_before_end']}")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    target = results / f"distributed-{time.strftime('%Y%m%d-%H%M%S')}.json"
    target.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
