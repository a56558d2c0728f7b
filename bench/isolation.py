"""What isolation costs per submission: the exercise-1 solution graded N times.

    python bench/isolation.py [--runs 20]

"boxed" is the real path (a zygote forks one locked-down box per submission, the
checks talk to it over a socket); "in-process" runs the same Grader with the
learner's module loaded by an in-process host (`InProcessBoxes`, the same `Boxes`
protocol) in this very process (no
box, no socket: the lower bound). Each level of $GRADE_SANDBOX is measured in
its own zygote; zygote start-up is paid once per batch and not counted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from grader.course import load_course
from grader.runner import Grader
from grader.sandbox.client import Sandbox
from grader.sandbox.inprocess import InProcessBoxes

ROOT = Path(__file__).resolve().parents[1]


def median_seconds(grade: Callable[[], Any], runs: int) -> tuple[float, float]:
    grade()  # warm-up: imports, checks module, page cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = grade()
        times.append(time.perf_counter() - started)
        assert result.score == result.max_score, result.error
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    course = load_course(ROOT / "course.yaml")
    exercise = course.exercises[0]
    source = course.solution_path(exercise).read_text()

    rows = []
    plain = Grader(course, InProcessBoxes(timed=False))
    base, base_min = median_seconds(lambda: plain.grade_source(exercise, source, "s.py"), runs)
    rows.append(("in-process (no isolation)", "-", base, base_min))
    for level in ("full", "no-namespaces", "plain"):
        os.environ["GRADE_SANDBOX"] = level
        with Sandbox() as sandbox:
            grader = Grader(course, sandbox)
            median, low = median_seconds(
                lambda g=grader: g.grade_source(exercise, source, "s.py"), runs)
            measures = [k for k in ("chroot", "setuid", "network", "pid_namespace",
                                    "user_namespace") if sandbox.isolation.get(k)]
            if sandbox.isolation.get("landlock"):
                measures.append(f"landlock{sandbox.isolation['landlock']}")
            rows.append((f"boxed, GRADE_SANDBOX={level}", "+".join(measures), median, low))

    print(f"exercise-1 solution, {runs} gradings each (6 checks, ~50k sampler calls)")
    print(f"{'mode':34} {'median ms':>10} {'min ms':>8} {'overhead ms':>12}  measures")
    for name, measures, median, low in rows:
        print(f"{name:34} {median * 1000:10.1f} {low * 1000:8.1f} "
              f"{(median - base) * 1000:12.1f}  {measures}")


if __name__ == "__main__":
    main()
