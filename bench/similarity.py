"""Benchmark `grade similarity` on a class of 300 (exercise 3).

    python bench/similarity.py [--students 300] [--repeat 2]

Builds the class with tests/similarity_class.py (every student a combination of
interchangeable ways to write each part; with 300 students the 56 combinations
repeat, so many pairs are near copies and reach the full comparison: a hard case),
then times `compare_class` and writing the report (best of --repeat, copydetect's
import excluded by a warm-up run on 3 students). Prints the time; writes JSON to
bench/results/. The numbers depend on the machine and its load, which are recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from grader.course import load_course  # noqa: E402
from grader.similarity.compare import compare_class  # noqa: E402
from grader.similarity.html import write_similarity  # noqa: E402
from tests.similarity_class import write_class  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    course = load_course(HERE.parent / "course.yaml")
    exercise = course.exercises[2]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_class(root / "warm", students=3, planted=False)
        compare_class(course, root / "warm", exercises=[exercise])
        write_class(root / "class", students=args.students)
        times, report = [], None
        for _ in range(args.repeat):
            started = time.monotonic()
            report = compare_class(course, root / "class", exercises=[exercise])
            write_similarity(root / "out", report)
            times.append(time.monotonic() - started)
    assert report is not None
    result = report.exercises[0]
    print(f"{result.files} files, {result.compared} pairs, {len(result.pairs)} listed, "
          f"{report.flagged} flagged; load average {os.getloadavg()[0]:.1f}")
    print(f"similarity report: {min(times):.2f} s (best of {args.repeat}: "
          f"{', '.join(f'{t:.2f}' for t in times)})")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "similarity.json").write_text(json.dumps(
        {"files": result.files, "pairs": result.compared, "seconds": times,
         "load": os.getloadavg()}, indent=1))


if __name__ == "__main__":
    main()
