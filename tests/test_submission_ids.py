"""A submission id is typed on a command line: it never starts with "-"."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("django", reason="the serve extra (in dev)")

IDS = """
import sys
from pathlib import Path
from grader.server.settings import configure
configure(Path(sys.argv[1]), None)
from grader.server.models import new_id
ids = [new_id() for _ in range(3000)]
print(sum(i.startswith("-") for i in ids), len(set(ids)), min(map(len, ids)))
"""


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


def test_no_submission_id_starts_with_a_dash_which_a_command_line_reads_as_an_option(
        tmp_path: Path) -> None:
    # 3000 ids: the old ids started with "-" one time in 64 (about 47 of them here;
    # none at all with odds of 1 in 10^20).
    done = subprocess.run([sys.executable, "-c", IDS, str(tmp_path)], capture_output=True,
                          text=True, check=True)
    dashed, unique, shortest = map(int, done.stdout.split())
    assert dashed == 0, fail(dashed, 0, "`grade regrade ask -4uSx...` is read as an option")
    assert unique == 3000 and shortest == 22, fail((unique, shortest), (3000, 22),
                                                   "128 random bits each, all different")
