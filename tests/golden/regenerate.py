"""Regenerate the golden files: `python tests/golden/regenerate.py` (see README.md here)."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from produce import EXPECTED, produce


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="grade-golden-") as work:
        outputs = produce(Path(work))
    shutil.rmtree(EXPECTED, ignore_errors=True)
    for name, data in sorted(outputs.items()):
        target = EXPECTED / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    print(f"wrote {len(outputs)} golden files into {EXPECTED.relative_to(Path.cwd())}"
          if EXPECTED.is_relative_to(Path.cwd()) else f"wrote {len(outputs)} files")


if __name__ == "__main__":
    main()
