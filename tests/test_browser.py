"""The class report and the similarity report, opened in a real headless Chromium.

`grade batch --similarity` grades a small class whose student ids, files and printed
output carry markup; Chromium (Debian's, driven over the DevTools protocol by
tests/browser.py) loads the pages offline at a laptop's size and the tests read what
it rendered: console, requests, images, layout, and that the markup stayed text.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, Browser, Page
from tests.conftest import ROOT, grade_command
from tests.similarity_class import write_class

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="needs chromium (.ci/run installs it)")

LAPTOP = (1366, 768)
HOSTILE_ID = '"><img src=x onerror=window.__xss=1>'
SVG_ID = "<svg onload=window.__xss=3>"
SCRIPT_LINE = 'x = "</td></table><script>window.__xss=2</script>" +'
PRINTED = "<script>window.__xss=4</script>"
IN_CODE = "</pre><script>window.__xss=5</script>"
RAISED = "<img src=x onerror=window.__xss=6>"
EX1 = "exercise_1_weighted_sampling.py"
EX3 = "exercise_3_tiny_language_model.py"


def _student(root: Path, student: str, name: str, text: str) -> None:
    (root / student).mkdir(parents=True, exist_ok=True)
    (root / student / name).write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("class")
    submissions = root / "submissions"
    own = write_class(submissions, students=8)
    _student(submissions, HOSTILE_ID, EX3, own["s000"] + f"# {IN_CODE}\n")
    solution = (ROOT / "solutions" / EX1).read_text()
    _student(submissions, "s000", EX1, solution)
    _student(submissions, "s001", EX1, solution.replace("r < cumulative", "r > cumulative"))
    _student(submissions, "s002", EX1, (ROOT / "exercises" / EX1).read_text())
    _student(submissions, HOSTILE_ID, EX1, f"{SCRIPT_LINE}\n")
    _student(submissions, SVG_ID, EX3, f'corpus = "a b a c"\nprint("{PRINTED}")\n')
    _student(submissions, SVG_ID, EX1, f'raise ValueError("{RAISED}")\n')
    environment = {k: v for k, v in os.environ.items() if k != "GRADE_COURSE"}
    done = subprocess.run([*grade_command(), "batch", str(submissions), "--out",
                           str(root / "out"), "--similarity", "--jobs", "2"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=environment)
    assert done.returncode == 0, done.stderr
    return root / "out"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser() as chromium:
        yield chromium


def _open(browser: Browser, path: Path) -> Page:
    page = browser.open(path.as_uri(), *LAPTOP)
    assert page.errors == [], page.errors
    assert all(url.startswith(("file:", "data:")) for url in page.requests), page.requests
    return page


def _fits_a_laptop(page: Page) -> None:
    width = page.evaluate("window.innerWidth")
    assert width == LAPTOP[0]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    rights = page.evaluate("[...document.querySelectorAll('table, pre, img, svg')]"
                           ".map(e => e.getBoundingClientRect().right)")
    assert rights and max(rights) <= width
    smallest = page.evaluate("Math.min(...[...document.querySelectorAll('td, pre')]"
                             ".map(e => parseFloat(getComputedStyle(e).fontSize)))")
    assert smallest >= 12


def _markup_stayed_text(page: Page, *texts: str) -> None:
    assert page.evaluate("window.__xss") is None
    assert page.evaluate("document.scripts.length") == 0
    # the only svg elements are the report's own charts
    assert page.evaluate("document.querySelectorAll('[onerror], [onload], svg:not(.chart)')"
                         ".length") == 0
    shown = page.evaluate("document.body.innerText")
    for text in texts:
        assert text in shown, text


def test_the_class_report_renders_offline_with_charts(graded: Path, browser: Browser,
                                                      tmp_path: Path) -> None:
    page = _open(browser, graded / "report.html")
    charts = page.evaluate("[...document.querySelectorAll('svg.chart')].map(s => "
                           "[s.getAttribute('role'), s.querySelector('title').textContent, "
                           "s.querySelector('desc').textContent, s.getBoundingClientRect().width,"
                           " s.querySelectorAll('rect').length])")
    assert len(charts) == 2
    for role, title, description, width, bars in charts:
        assert role == "img" and title.strip() and description.strip()  # its text alternative
        assert width > 200 and bars > 0
    assert page.evaluate("[...document.images].every(i => i.alt.trim())")
    _fits_a_laptop(page)
    shot = page.screenshot(tmp_path / "report.png")
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000


def test_ids_output_and_messages_show_as_text_in_the_class_report(graded: Path,
                                                                  browser: Browser) -> None:
    page = _open(browser, graded / "report.html")
    _markup_stayed_text(page, HOSTILE_ID, SVG_ID, "<script>window.__xss=2</script>", PRINTED,
                        RAISED)


def test_the_class_report_links_to_the_similarity_report(graded: Path,
                                                         browser: Browser) -> None:
    page = _open(browser, graded / "report.html")
    link = page.evaluate("[...document.links].map(a => a.href)"
                         ".find(h => h.endsWith('similarity.html'))")
    assert link and (graded / "similarity.html").is_file()
    index = _open(browser, graded / "similarity.html")
    _fits_a_laptop(index)
    _markup_stayed_text(index, HOSTILE_ID)
    pairs = index.evaluate("[...document.links].map(a => a.href)"
                           ".filter(h => h.includes('/similarity/'))")
    assert len(pairs) >= 4
    shown = [_open(browser, Path(url.removeprefix("file://"))) for url in pairs]
    hostile = [page for page in shown if HOSTILE_ID in page.evaluate("document.body.innerText")]
    assert len(hostile) == 1
    _markup_stayed_text(hostile[0], HOSTILE_ID, IN_CODE)


def test_a_pair_is_shown_side_by_side_with_the_shared_code_marked(graded: Path,
                                                                   browser: Browser) -> None:
    page = _open(browser, graded / "similarity" / "exercise-3-1.html")
    _fits_a_laptop(page)
    lefts = page.evaluate("[...document.querySelectorAll('section')]"
                          ".map(s => s.getBoundingClientRect().left)")
    assert len(lefts) == 2 and lefts[0] < lefts[1]  # two columns, not stacked
    assert page.evaluate("document.querySelectorAll('mark').length") > 0
    assert page.evaluate("document.scripts.length") == 0
