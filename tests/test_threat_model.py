"""The threat-model tables (docs/security.md) are exactly what each isolation level blocks.

Each row of the tables is one probe in `attacks.THREAT_PROBE`; the probe is graded
at every level this machine offers, as root (in a subprocess per level) and as
nobody (the user-namespace and no-namespace paths a laptop takes).
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from attacks import PROBES, ROOT, THREAT_PROBE, Layout
from test_attacks import NOBODY, nobody_layout, run_as_nobody  # noqa: F401  (fixture)

LEVELS = ("full", "no-namespaces", "plain")
SECURITY = ROOT / "docs/security.md"  # the threat model page (README.md links it)


def readme_table(marker: str) -> dict[str, dict[str, str]]:
    """row -> level -> "blocked" | "allowed", from the table after `marker` in docs/security.md."""
    text = SECURITY.read_text()
    lines = text[text.index(f"<!-- threat-model: {marker} -->"):].splitlines()[1:]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    table = {}
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        table[cells[0]] = {level: "allowed" if "allowed" in cell else "blocked"
                           for level, cell in zip(header[1:], cells[1:])}
    return table


def verdicts(output: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in output.splitlines() if ": " in line)


def test_the_tables_cover_every_probe() -> None:
    for marker in ("root", "not root"):
        table = readme_table(marker)
        assert list(table) == list(PROBES)
        assert all(list(row) == list(LEVELS) for row in table.values())


@pytest.mark.parametrize("level", LEVELS)
def test_as_root_each_level_blocks_what_the_readme_says(level: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    # a TA's class folder as umask 022 leaves it (pytest's own tmp is root-only)
    root = Path(tempfile.mkdtemp(prefix="grade-threat-"))
    root.chmod(0o755)
    layout = Layout(root).create()
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "attacks.py"), str(layout.root), THREAT_PROBE.name],
        capture_output=True, text=True, timeout=300, cwd="/tmp",
        env={**os.environ, "GRADE_SANDBOX": level})
    assert done.returncode == 0, done.stderr
    [row] = [json.loads(line) for line in done.stdout.splitlines()]
    assert row["score"] == 10.0, row["error"]
    expected = {probe: cells[level] for probe, cells in readme_table("root").items()}
    assert verdicts(row["output"]) == expected
    shutil.rmtree(root)


@pytest.mark.parametrize("level", LEVELS)
def test_not_root_each_level_blocks_what_the_readme_says(
        level: str, nobody_layout: tuple[str, Layout]) -> None:  # noqa: F811
    python, layout = nobody_layout
    [row] = run_as_nobody(python, layout, level, [THREAT_PROBE.name])
    if level == "full" and not row["isolation"]["user_namespace"]:
        pytest.skip("unprivileged user namespaces are disabled on this machine")
    if level == "no-namespaces" and not row["isolation"]["landlock"]:
        pytest.skip("this kernel has no Landlock (the table assumes it)")
    assert row["score"] == 10.0, row["error"]
    expected = {probe: cells[level] for probe, cells in readme_table("not root").items()}
    assert verdicts(row["output"]) == expected
    # what it may write, it wrote into OUTDIR: leave the layout as it was
    Path(layout.paths["out"], "evil.txt").unlink(missing_ok=True)



SURFACES = ("local learner", "batch", "Dask worker", "Gradescope / PrairieLearn container",
            "GitHub Classroom runner", "Jupyter", "nbgrader kernel")


def surface_rows() -> dict[str, list[str]]:
    """surface -> its cells (can, cannot, tests), from the surfaces table in docs/security.md."""
    text = SECURITY.read_text()
    lines = text[text.index("<!-- threat-model: surfaces -->"):].splitlines()[3:]
    rows = {}
    for line in lines:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        rows[cells[0]] = cells[1:]
    return rows


def test_every_surface_has_a_row_saying_what_learner_code_can_and_cannot_do() -> None:
    rows = surface_rows()
    named = [next((s for s in SURFACES if row.startswith(s)), row) for row in rows]
    assert named == list(SURFACES), f"surfaces in docs/security.md: {list(rows)}"
    for surface, (can, cannot, tests) in rows.items():
        assert can and cannot and tests, f"{surface}: a cell is empty"


def test_every_test_the_surfaces_table_names_exists() -> None:
    for surface, (_, _, tests) in surface_rows().items():
        names = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", tests)
        assert names, f"{surface}: no test named"
        for path, name in names:
            tree = ast.parse((ROOT / path).read_text())
            defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
            assert name in defined, f"{surface}: {path} has no test {name}"
