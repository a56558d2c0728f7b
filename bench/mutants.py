"""Benchmark `grade check --mutants`: mutants graded per second with 1 and 2 workers.

    python bench/mutants.py [--repeat 2]

Grades every mutant of the shipped course's three solutions (`run_mutants`: the
solutions graded once in-process, then every mutant on the batch engine's warm
workers, pool start-up included) with 1 and with 2 workers, interleaved, best of
--repeat. Mutants that loop forever wait out the mutants' time limit whatever the
workers do, so the rate is also given without them (their count times the limit is
subtracted from a run's wall time, per worker). Prints a table; writes JSON to
bench/results/. The numbers depend on the machine and its load, which are recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from grader.authoring.mutation import run_mutants  # noqa: E402
from grader.batch.pool import WorkerPool  # noqa: E402
from grader.course import load_course  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    course = load_course(HERE.parent / "course.yaml")
    best: dict[int, float] = {}
    counts: dict[int, tuple[int, int, float]] = {}
    for _ in range(args.repeat):
        for jobs in (1, 2):
            started = time.monotonic()
            report = run_mutants(course, list(course.exercises), jobs, WorkerPool)
            seconds = time.monotonic() - started
            mutants = sum(len(e.mutants) for e in report.exercises)
            looping = sum("time limit" in (m.error or "") for e in report.exercises
                          for m in e.mutants)
            assert report.ok, "a mutant survived: run grade check --mutants"
            best[jobs] = min(best.get(jobs, seconds), seconds)
            counts[jobs] = (mutants, looping, report.time_limit)
    rows = {}
    for jobs, seconds in best.items():
        mutants, looping, limit = counts[jobs]
        without = seconds - looping * limit / jobs
        rows[jobs] = {"seconds": round(seconds, 2), "mutants": mutants,
                      "per_second": round(mutants / seconds, 2),
                      "looping": looping, "time_limit": limit,
                      "per_second_without_loops": round((mutants - looping) / without, 2)}
    print(f"{rows[1]['mutants']} mutants ({rows[1]['looping']} loop until the "
          f"{rows[1]['time_limit']:.1f} s limit); best of {args.repeat}, load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{'workers':<10}{'seconds':>10}{'mutants/s':>12}{'without loops':>16}")
    for jobs, row in rows.items():
        print(f"{jobs:<10}{row['seconds']:>10.2f}{row['per_second']:>12.2f}"
              f"{row['per_second_without_loops']:>16.2f}")
    print(f"speed-up 1 -> 2 workers: {best[1] / best[2]:.2f}x")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "mutants.json").write_text(json.dumps(
        {"rows": rows, "load": os.getloadavg(), "cpus": os.cpu_count()}, indent=1))


if __name__ == "__main__":
    main()
