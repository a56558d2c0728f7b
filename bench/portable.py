"""What the portable box costs a learner: `grade exercise-1` wall time, three ways.

    python bench/portable.py [--runs 10]

Each round runs, interleaved so machine load hits all alike: `python -c pass`
(the floor: starting Python at all), `grade exercise-1 SOLUTION` with
GRADE_SANDBOX=full (the Linux sandbox, or whatever this machine reduces it to)
and with GRADE_SANDBOX=portable (a spawned interpreter per box). Prints the
median of each over `--runs` rounds and the ratios, all from this one run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "exercise_1_weighted_sampling.py"


def grade_command() -> list[str]:
    script = Path(sys.executable).with_name("grade")
    found = str(script) if script.exists() else shutil.which("grade")
    return [found] if found else [sys.executable, "-m", "grader"]


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    base = {k: v for k, v in os.environ.items() if k not in ("GRADE_SANDBOX", "GRADE_COURSE")}
    grade = [*grade_command(), "exercise-1", str(SOLUTION)]
    variants = {
        "python -c pass": ([sys.executable, "-c", "pass"], base),
        "grade exercise-1, full": (grade, {**base, "GRADE_SANDBOX": "full"}),
        "grade exercise-1, portable": (grade, {**base, "GRADE_SANDBOX": "portable"}),
    }
    for command, env in variants.values():
        timed(command, env)  # warm-up: page cache, .pyc files
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, (command, env) in variants.items():
            times[name].append(timed(command, env))
    floor = statistics.median(times["python -c pass"])
    full = statistics.median(times["grade exercise-1, full"])
    print(f"median of {runs} runs, interleaved, one run of this script")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<28} {median * 1000:8.1f} ms   {median / floor:6.1f}x the floor   "
              f"{median / full:5.2f}x full   (min {min(values) * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
