"""How large learner text can make a batch: one student per text attack, graded by
`grade batch`; prints the largest result (its journal line), OUTDIR per student and
the batch process's peak memory.

    python bench/hostile_text.py [--copies 1]

The attacks are tests/attacks.py's TEXT_ATTACKS (an exception class with an 8 MB
name, 8 MB messages past the box's cap, a forged 10 MB error frame, a 1 MB outcome
name, escapes everywhere, ...); `--copies 5` grades five students per attack.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from attacks import FILE, TEXT_ATTACKS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grade-text-") as folder:
        root = Path(folder)
        students = 0
        for index, attack in enumerate(TEXT_ATTACKS):
            for copy in range(args.copies):
                student = root / "subs" / f"s{index:02d}-{copy}"
                student.mkdir(parents=True)
                text = attack.source
                (student / FILE).write_bytes(text if isinstance(text, bytes) else text.encode())
                students += 1
        grade = Path(sys.executable).with_name("grade")
        command = [str(grade), "--course", str(ROOT), "batch", str(root / "subs"), "--out",
                   str(root / "out"), "--exercise", "exercise-1"]
        done = subprocess.run(command, capture_output=True, text=True)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        lines = (root / "out" / "journal.jsonl").read_bytes().splitlines()
        largest = max(lines, key=len)
        outdir = sum(p.stat().st_size for p in (root / "out").rglob("*") if p.is_file())
        print(json.dumps({
            "exit": done.returncode, "students": students,
            "largest_result_bytes": len(largest),
            "largest_result_student": json.loads(largest)["student"],
            "outdir_bytes": outdir, "outdir_bytes_per_student": round(outdir / students),
            "peak_rss_mb_of_batch_or_worker": round(peak_mb, 1),
        }, indent=1))


if __name__ == "__main__":
    main()
