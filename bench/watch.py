"""Save-to-verdict latency of `grade watch` against one `grade exercise-1` run, in one run.

    python bench/watch.py [--saves 20] [--runs 5]

A copy of the course is watched by a real `grade watch exercise-1` (its output on a
pipe). Each save rewrites the learner's file, alternating two wrong answers (6/10
and 4/10, so the exercise never reaches full marks and moves on); the latency is
from just before the write to the moment the new score is read from watch's
output. The baseline is the wall time of the whole `grade exercise-1` command on
the same file, which is what a learner without watch types after each save.
Both watch back-ends are measured: watchfiles (inotify) and polling mtimes.
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from grader.authoring.markers import strip_markers

ROOT = Path(__file__).resolve().parents[1]
EX1 = "exercises/exercise_1_weighted_sampling.py"
SOLUTION = strip_markers((ROOT / "solutions/exercise_1_weighted_sampling.py").read_text())
ANSWERS = [(SOLUTION.replace("if r < cumulative:", "if r > cumulative:"), "Score: 6/10"),
           (SOLUTION.replace("if r < cumulative:", "if r > cumulative:")
            .replace('"cloudy": 0.3', '"cloudy": 0.4'), "Score: 4/10")]


def grade_command() -> list[str]:
    script = Path(sys.executable).with_name("grade")
    return [str(script)] if script.exists() else [sys.executable, "-m", "grader"]


def copy_course(target: Path) -> None:
    for part in ("course.yaml", "exercises", "solutions", "checks"):
        source = ROOT / part
        shutil.copytree(source, target / part) if source.is_dir() else shutil.copy(
            source, target / part)


def watch_latencies(course: Path, saves: int, backend: str) -> list[float]:
    """Seconds from each save to its verdict on watch's output."""
    env = {k: v for k, v in os.environ.items() if k not in ("GRADE_COURSE", "GRADE_WATCH")}
    if backend == "polling":
        env["GRADE_WATCH"] = "poll"
    process = subprocess.Popen([*grade_command(), "watch", "exercise-1"], cwd=course,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env=env)
    verdicts: queue.Queue[tuple[float, int, str]] = queue.Queue()

    def read() -> None:  # (time seen, update number, score line) for each new screen
        update = 0
        assert process.stdout is not None
        for line in process.stdout:
            if found := re.search(r"update #(\d+)", line):
                update = int(found.group(1))
            elif line.startswith("Score:"):
                verdicts.put((time.perf_counter(), update, line.strip()))

    threading.Thread(target=read, daemon=True).start()
    try:
        verdicts.get(timeout=120)  # the first grading, at start
        latencies = []
        for index in range(saves):
            text, score = ANSWERS[index % 2]
            time.sleep(0.3)  # distinct saves, as a person makes them
            started = time.perf_counter()
            (course / EX1).write_text(text)
            seen, update, shown = verdicts.get(timeout=60)
            if shown != score or update != index + 2:
                raise SystemExit(f"save {index + 1}: expected {score} on update "
                                 f"#{index + 2}, got {shown} on #{update}")
            latencies.append(seen - started)
        return latencies
    finally:
        process.terminate()
        process.wait(timeout=30)


def command_seconds(course: Path, runs: int) -> list[float]:
    """Wall time of the whole `grade exercise-1` command, as typed after a save."""
    (course / EX1).write_text(ANSWERS[0][0])
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run([*grade_command(), "exercise-1"], cwd=course,
                              capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if ANSWERS[0][1] not in done.stdout:
            raise SystemExit(f"grade exercise-1 did not grade as expected:\n{done.stdout}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grade-bench-watch-") as folder:
        course = Path(folder)
        copy_course(course)
        command = command_seconds(course, args.runs)
        rows = [("grade exercise-1 (one run, whole command)", command)]
        for backend in ("watchfiles", "polling"):
            rows.append((f"grade watch, save to verdict ({backend})",
                         watch_latencies(course, args.saves, backend)))
    base = statistics.median(command)
    print(f"{'':44} {'median':>9} {'min':>9} {'max':>9} {'n':>3}  vs one run")
    for name, times in rows:
        median = statistics.median(times)
        print(f"{name:44} {median * 1000:7.0f}ms {min(times) * 1000:7.0f}ms "
              f"{max(times) * 1000:7.0f}ms {len(times):3}  {median / base:.2f}x")


if __name__ == "__main__":
    main()
