"""Compare two commits in one run: `grade exercise-1` wall time and `grade batch` time.

    python bench/compare.py OLD [NEW] [--students 60] [--repeat 5]

Each commit is checked out (git worktree, detached) and run from its own tree with
this Python (PYTHONPATH); the runs alternate old, new, old, new, ... so load on a
shared machine falls on both alike. Measured, per commit:

- `grade exercise-1 SOLUTION` and `grade exercise-1 SKELETON`: wall time of the whole
  command (start-up, imports, sandbox, checks), median of `--repeat` runs;
- `grade batch` over one synthetic class (bench/synthetic.py, time limit 2 s) with
  --jobs 1, --force: wall time, best of `--repeat` runs.

Both commits grade OLD's course (its checks, solutions and skeletons): a newer grader
reads older checks, not the reverse.

Prints the figures and new/old ratios; writes JSON to bench/results/.
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
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from synthetic import build_class  # noqa: E402


def checkout(ref: str, folder: Path) -> Path:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(folder), ref],
                   check=True, capture_output=True)
    return folder


def timed(tree: Path, args: list[str], cwd: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("GRADE_COURSE", None)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader", *args], cwd=cwd, env=env,
                   capture_output=True, timeout=600)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old")
    parser.add_argument("new", nargs="?", default="HEAD")
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="grade-compare-"))
    trees: dict[str, Path] = {}
    try:
        for name, ref in (("old", args.old), ("new", args.new)):
            trees[name] = checkout(ref, work / name)
        course = work / "course"
        for part in ("checks", "exercises", "solutions"):
            shutil.copytree(trees["old"] / part, course / part)
        text = (trees["old"] / "course.yaml").read_text()
        (course / "course.yaml").write_text(text.replace("time_limit: 10 ", "time_limit: 2 "))
        build_class(work / "class", args.students)
        solution = str(course / "solutions" / "exercise_1_weighted_sampling.py")
        skeleton = str(course / "exercises" / "exercise_1_weighted_sampling.py")
        runs: dict[str, dict[str, list[float]]] = {n: {"solution": [], "skeleton": [],
                                                       "batch": []} for n in trees}
        for _ in range(args.repeat):
            for name, tree in trees.items():
                runs[name]["solution"].append(timed(tree, ["exercise-1", solution], course))
                runs[name]["skeleton"].append(timed(tree, ["exercise-1", skeleton], course))
                runs[name]["batch"].append(timed(tree, [
                    "batch", str(work / "class"), "--out", str(work / f"out-{name}"),
                    "--jobs", "1", "--force"], course))
    finally:
        for tree in trees.values():
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                           capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    figures = {name: {"exercise_1_solution_median_s": statistics.median(r["solution"]),
                      "exercise_1_skeleton_median_s": statistics.median(r["skeleton"]),
                      "batch_1_worker_best_s": min(r["batch"])} for name, r in runs.items()}
    ratios = {key: figures["new"][key] / figures["old"][key] for key in figures["old"]}
    print(f"old = {args.old}, new = {args.new}; {args.students} students, "
          f"{args.repeat} interleaved runs each; load average {os.getloadavg()}")
    print(f"{'measure':<32}{'old':>9}{'new':>9}{'new/old':>9}")
    for key, ratio in ratios.items():
        print(f"{key:<32}{figures['old'][key]:>9.3f}{figures['new'][key]:>9.3f}{ratio:>9.2f}")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    target = results / f"compare-{time.strftime('%Y%m%d-%H%M%S')}.json"
    target.write_text(json.dumps({"old": args.old, "new": args.new, "runs": runs,
                                  "figures": figures, "ratios": ratios,
                                  "load_average": os.getloadavg()}, indent=2) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
