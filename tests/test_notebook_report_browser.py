"""The inline report laid out inside JupyterLab's own stylesheet, in headless Chromium.

JupyterLab (and Notebook 7, which shares its rendermime CSS) right-aligns every table
cell of an HTML output and wraps `pre`. The stylesheet comes from the installed
jupyterlab package (its bundle carries each CSS file as a string) with its light
theme's variables; the report sits in the same classes as a real output area.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.authoring.markers import strip_markers
from grader.course import Course
from grader.reports.notebook import result_html
from grader.runner import Grader
from tests.browser import CHROMIUM, Browser
from tests.conftest import ROOT

jupyterlab = pytest.importorskip("jupyterlab", reason="JupyterLab is not installed")
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

LAB = Path(jupyterlab.__file__).parent


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


def jupyterlab_css() -> str:
    """JupyterLab's rendermime and output-area CSS, from its bundle, with the light theme."""
    bundle = "\n".join(p.read_text("utf-8") for p in (LAB / "static").glob("jlab_core.*.js"))
    blocks = re.findall(r'\.push\(\[e\.id,`(.*?)`,""\]\)', bundle, re.S)
    ours = [b for b in blocks if ".jp-RenderedHTMLCommon" in b or ".jp-OutputArea" in b]
    assert any(":not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td" in b for b in ours), \
        "JupyterLab's bundle no longer carries the rule that right-aligns table cells"
    theme = LAB / "themes" / "@jupyterlab" / "theme-light-extension" / "index.css"
    return theme.read_text("utf-8") + "\n".join(ours)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def page_path(grader: Grader, course: Course, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wrong sampler's report (messages, a hint, a histogram) in a JupyterLab output."""
    folder = tmp_path_factory.mktemp("lab-report")
    solution = strip_markers((ROOT / "solutions" / "exercise_1_weighted_sampling.py").read_text())
    work = folder / "work.py"
    work.write_text(solution.replace("if r < cumulative:", "if r > cumulative:"))
    result = grader.grade(course.exercises[0], work)
    assert any(c.detail for c in result.checks), "the wrong sampler has a histogram"
    page = folder / "report.html"
    page.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><style>{jupyterlab_css()}</style>"
        "</head><body class='jp-ThemedContainer'><div class='jp-OutputArea-child'>"
        "<div class='jp-RenderedHTMLCommon jp-RenderedHTML jp-OutputArea-output' "
        "data-mime-type='text/html' style='width: 900px'>"
        f"{result_html(result, 'Weighted sampling')}</div></div></body></html>",
        encoding="utf-8")
    return page


LEFT_EDGES = """(() => {
  const left = el => { const r = document.createRange(); r.selectNodeContents(el);
                       return r.getClientRects()[0].left; };
  const names = [...document.querySelectorAll('.grade-name')].map(left);
  const messages = [...document.querySelectorAll('.grade-message, .grade-hint')].map(left);
  const output = document.querySelector('.jp-OutputArea-output').getBoundingClientRect().left;
  const textAlign = getComputedStyle(document.querySelector('.grade-name')).textAlign;
  return {names, messages, output, textAlign};
})()"""

COLUMNS = """(() => {
  const pre = document.querySelector('.grade-detail');
  const text = pre.firstChild;
  const lines = text.data.split('\\n');
  const header = lines[0];
  const column = header.indexOf('expected');
  let offset = 0; const lefts = [];
  for (const line of lines) {
    if (line.length > column) {
      const r = document.createRange(); r.setStart(text, offset + column);
      r.setEnd(text, offset + column + 1); lefts.push(r.getBoundingClientRect().left);
    }
    offset += line.length + 1;
  }
  return {lefts, lines: lines.length, whiteSpace: getComputedStyle(pre).whiteSpace};
})()"""


def test_check_names_and_messages_start_at_the_left_under_jupyterlab_css(
        browser: Browser, page_path: Path) -> None:
    page = browser.open(page_path.as_uri(), width=1200, height=900)
    found = page.evaluate(LEFT_EDGES)
    names, messages = found["names"], found["messages"]
    assert len(names) == 7 and messages, json.dumps(found)
    assert max(names) - min(names) < 1, fail(names, "one left edge", "names start left")
    assert all(abs(m - names[0]) < 1 for m in messages), fail(
        messages, names[0], "messages and hints start where the names start")
    assert names[0] - found["output"] < 60, fail(
        names[0] - found["output"], "< 60 px", "names sit at the output's left, not its right")


def test_the_histogram_columns_line_up_under_jupyterlab_css(
        browser: Browser, page_path: Path) -> None:
    page = browser.open(page_path.as_uri(), width=1200, height=900)
    found = page.evaluate(COLUMNS)
    lefts = found["lefts"]
    assert len(lefts) >= 3, json.dumps(found)
    assert max(lefts) - min(lefts) < 1, fail(lefts, "one x for the 'expected' column",
                                            "the histogram's columns line up")
