"""What a notebook costs over a .py: `grade exercise-1` on the same code, both ways.

    python bench/notebook.py [--runs 10]

Writes exercise 1's solution as `work.py` and as `work.ipynb` (its cells, as the
skeleton notebook splits them) in a scratch folder, then runs the whole command
`grade exercise-1 FILE` on each, interleaved so machine load hits both alike, in
this venv. Prints the median of each over `--runs` rounds and their ratio.
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

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "exercise_1_weighted_sampling.py"


def grade_command() -> list[str]:
    script = Path(sys.executable).with_name("grade")
    found = str(script) if script.exists() else shutil.which("grade")
    return [found] if found else [sys.executable, "-m", "grader"]


def write_inputs(folder: Path) -> tuple[Path, Path]:
    """The solution as a .py and as a notebook of its cells (no nbformat needed)."""
    from grader.authoring.markers import strip_markers
    from grader.notebooks.build import split_module

    code = strip_markers(SOLUTION.read_text("utf-8"))
    cells = [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "outputs": [],
              "execution_count": None, "source": cell}
             for i, cell in enumerate(split_module(code).cells)]
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    py, ipynb = folder / "work.py", folder / "work.ipynb"
    py.write_text(code, encoding="utf-8")
    ipynb.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return py, ipynb


def timed(path: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run([*grade_command(), "exercise-1", str(path)], cwd=ROOT,
                          capture_output=True, env={**os.environ, "GRADE_PROGRESS": "off"})
    seconds = time.perf_counter() - started
    if done.returncode != 0 or b"Score: 10/10" not in done.stdout:
        raise SystemExit(f"grade {path.name} failed ({done.returncode}): "
                         f"{(done.stdout + done.stderr).decode()[-500:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="grade-bench-nb-") as scratch:
        py, ipynb = write_inputs(Path(scratch))
        timed(py), timed(ipynb)  # warm the OS caches for both
        times: dict[str, list[float]] = {"py": [], "ipynb": []}
        for _ in range(runs):
            times["py"].append(timed(py))
            times["ipynb"].append(timed(ipynb))
    py_s, nb_s = statistics.median(times["py"]), statistics.median(times["ipynb"])
    print(f"grade exercise-1 work.py     median {py_s:.3f} s over {runs} runs")
    print(f"grade exercise-1 work.ipynb  median {nb_s:.3f} s over {runs} runs")
    print(f"notebook / .py: {nb_s / py_s:.2f}x")


if __name__ == "__main__":
    main()
