"""report.html for a TA's class, read in a real headless Chromium: roster names, who
needs help, late and adjusted scores, and what each count means.

A Canvas download of exercise 1 (tests/downloads.py) with a roster of four: Ann
Lee (1001) hands in the solution a day late (Canvas's times, --submitted-at), José
Núñez (1002) the solution marked `_LATE_`, settled by an override of 8; Zoë O'Brien
(1003) a wrong answer (6/10); Dan Roe (1004) nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, Browser, Page
from tests.conftest import ROOT, grade_command

sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
from downloads import canvas
from synthetic import course_copy

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="needs chromium (.ci/run installs it)")

LAPTOP = (1366, 768)


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("help")
    course = course_copy(root / "course", time_limit=5)
    course.write_text(course.read_text().replace(
        "limits:\n", "deadline: 2026-12-01T23:59:00+00:00\nlate_policy:\n"
        "  penalty_percent: 10\nlimits:\n", 1))
    (root / "roster.csv").write_text(
        "id,name,email\n1001,Ann Lee,ann@example.edu\n1002,José Núñez,jose@example.edu\n"
        "1003,Zoë O'Brien,zoe@example.edu\n1004,Dan Roe,dan@example.edu\n", encoding="utf-8")
    (root / "times.csv").write_text("student,exercise,submitted_at\n"
                                    "1001,exercise-1,2026-12-02T10:00:00Z\n", encoding="utf-8")
    (root / "overrides.csv").write_text("student,exercise,points,reason\n"
                                        "1002,exercise-1,8,two days late by email\n",
                                        encoding="utf-8")
    done = subprocess.run([*grade_command(), "--course", str(course), "batch",
                           str(canvas(root / "download")), "--out", str(root / "out"),
                           "--roster", str(root / "roster.csv"), "--submitted-at",
                           str(root / "times.csv"), "--overrides",
                           str(root / "overrides.csv")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return root / "out" / "report.html"


@pytest.fixture(scope="module")
def page(report: Path) -> Iterator[Page]:
    with Browser() as chromium:
        shown = chromium.open(report.as_uri(), *LAPTOP)
        assert shown.errors == [], shown.errors
        yield shown


def table_after(page: Page, heading: str) -> list[list[str]] | None:
    """The rows (header first) of the first table after the h2 that starts `heading`."""
    script = f"""(() => {{
      const h = [...document.querySelectorAll('h2')]
        .find(e => e.textContent.startsWith({json.dumps(heading)}));
      let e = h && h.nextElementSibling;
      while (e && e.tagName !== 'TABLE' && e.tagName !== 'H2') e = e.nextElementSibling;
      return e && e.tagName === 'TABLE'
        ? [...e.rows].map(r => [...r.cells].map(c => c.innerText.trim())) : null;
    }})()"""
    rows: list[list[str]] | None = page.evaluate(script)
    return rows


def test_who_needs_help_names_the_roster_student_who_handed_in_nothing(page: Page) -> None:
    rows = table_after(page, "Who needs help")
    assert rows is not None, "no 'Who needs help' table"
    observed = [(r[0], r[1]) for r in rows[1:]]
    expected = [("Dan Roe (1004)", "no submission: exercise-1; below 50% of the points")]
    assert observed == expected, fail(observed, expected, "only Dan handed in nothing; "
                                      "Zoë's 6/10 is above half")


def test_late_and_adjusted_scores_are_listed_with_names_and_why(page: Page) -> None:
    rows = table_after(page, "Late and adjusted scores")
    assert rows is not None, "no 'Late and adjusted scores' table"
    observed = {r[0]: (r[2], r[3], r[4], r[5]) for r in rows[1:]}
    expected = {"Ann Lee (1001)": ("10", "-1", "", "9"),
                "José Núñez (1002)": ("10", "", "-2", "8")}
    assert observed == expected, fail(observed, expected, "checks' score, late penalty, "
                                      "override, final")


def test_a_correct_file_with_a_late_override_is_not_answered_wrong(page: Page) -> None:
    rows = table_after(page, "What to reteach")
    assert rows is not None
    header, exercise_1 = rows[0], rows[1]
    counts = dict(zip(header, exercise_1, strict=True))
    wrong = next(v for k, v in counts.items() if k.startswith("answered wrong"))
    passed = next(v for k, v in counts.items() if k.startswith("all checks passed"))
    assert (wrong, passed) == ("1", "2"), fail((wrong, passed), ("1", "2"),
                                               "Ann and José ran every check green")


def test_the_checks_chart_says_it_shows_pass_rates(page: Page) -> None:
    caption = page.evaluate("[...document.querySelectorAll('figcaption')]"
                            ".map(f => f.innerText).join(' ')")
    assert "Pass rates" in caption, fail(caption, "a caption naming pass rates",
                                         "bars could be read as fail rates")
