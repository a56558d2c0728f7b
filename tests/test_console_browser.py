"""The console in Debian's Chromium (headless, over the DevTools protocol): sign in, the
grid by keyboard alone, a learner's page, an adjustment, an extension and a publication,
then what the learner sees with `grade submissions`; no console errors, pages that hold
at 1366x768 and at a phone's 390x844, and axe-core (from npm) finding no serious or
critical violation. Screenshots are written under the test's temporary folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import CHROMIUM, Browser, Page
from tests.console_session import PASSWORDS, console_server
from tests.server_fixtures import environment, grade, upload, wait_graded

pytest.importorskip("django", reason="the serve extra (in dev)")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed (.ci/run installs it)")

LAPTOP, PHONE = (1366, 768), (390, 844)
AXE_VERSION = "4.14.1"


@pytest.fixture(scope="module")
def axe() -> str:
    """axe-core's source, installed once from npm into the user's cache folder."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "grade-tests" / \
        f"axe-core-{AXE_VERSION}"
    script = cache / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed for the accessibility check (.ci/run installs it)")
        cache.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix",
                               str(cache), f"axe-core@{AXE_VERSION}"], capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    return script.read_text()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with console_server(tmp_path_factory.mktemp("console-browser") / "data") as found:
        yield found


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("console-screenshots")
    print(f"\nconsole screenshots: {folder}")
    return folder


def _loaded(browser: Browser, page: Page, action: str) -> None:
    """Run `action` (JavaScript that navigates) and wait for the next page's load."""
    browser._events.clear()
    page.evaluate(action)
    browser._wait_for("Page.loadEventFired", page.session)


def _key(browser: Browser, page: Page, key: str, code: int) -> None:
    for kind in ("rawKeyDown", "keyUp"):
        browser.call("Input.dispatchKeyEvent", {
            "type": kind, "key": key, "code": key, "windowsVirtualKeyCode": code,
            **({"text": "\r"} if key == "Enter" and kind == "rawKeyDown" else {})},
            page.session)


def _enter(browser: Browser, page: Page) -> None:
    browser._events.clear()
    browser.call("Input.dispatchKeyEvent", {"type": "keyDown", "key": "Enter", "code": "Enter",
                                            "windowsVirtualKeyCode": 13, "text": "\r"},
                 page.session)
    browser.call("Input.dispatchKeyEvent", {"type": "keyUp", "key": "Enter", "code": "Enter",
                                            "windowsVirtualKeyCode": 13}, page.session)
    browser._wait_for("Page.loadEventFired", page.session)


def _violations(browser: Browser, page: Page, axe: str) -> list[str]:
    page.evaluate(axe)
    reply = browser.call("Runtime.evaluate", {
        "expression": "axe.run(document).then(r => JSON.stringify(r.violations.map("
                      "v => [v.impact, v.id, v.nodes.length, v.nodes[0].target.join(' ')])))",
        "awaitPromise": True, "returnByValue": True}, page.session)
    found = json.loads(reply["result"]["value"])
    return [" ".join(map(str, v)) for v in found if v[0] in ("serious", "critical")]


def _fits(page: Page) -> bool:
    """Nothing wider than the window: the page scrolls down, never sideways (a table
    may scroll inside its own box)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def _fill(form: str, values: dict[str, str]) -> str:
    sets = "".join(f"f.elements[{json.dumps(k)}].value = {json.dumps(v)};"
                   for k, v in values.items())
    return f"(() => {{ const f = document.getElementById({json.dumps(form)}); {sets} " \
           "f.requestSubmit(); })()"


def test_a_ta_signs_in_grades_by_keyboard_adjusts_extends_publishes_and_the_learner_sees_it(
        served: dict[str, Any], axe: str, shots: Path) -> None:
    url, slug = served["url"], served["slug"]
    problems: list[str] = []
    with Browser(timeout=60) as browser:
        page = browser.open(f"{url}/login/", *LAPTOP)
        problems += [f"login: {v}" for v in _violations(browser, page, axe)]
        _loaded(browser, page, _fill("sign-in", {"username": "ines",
                                                 "password": PASSWORDS["ines"]}))
        assert page.evaluate("location.pathname") == f"/console/{slug}/"
        page.screenshot(shots / "grid-1366x768.png")
        problems += [f"grid: {v}" for v in _violations(browser, page, axe)]
        assert _fits(page), "the grid page is wider than 1366 px"
        names = page.evaluate("[...document.querySelectorAll('#grid tbody th')]"
                              ".map(th => th.textContent.trim().split(' ')[0])")
        assert names == ["alice", "carol", "bob"], names  # by section, then id

        # keyboard alone: Tab into the grid, arrows to bob's exercise-1 cell, Enter opens
        for _ in range(40):
            if page.evaluate("!!document.activeElement.closest('#grid')"):
                break
            _key(browser, page, "Tab", 9)
        assert page.evaluate("document.activeElement.closest('td').dataset.exercise") == \
            "exercise-1"
        _key(browser, page, "ArrowDown", 40)
        _key(browser, page, "ArrowDown", 40)
        _key(browser, page, "ArrowRight", 39)
        _key(browser, page, "ArrowLeft", 37)
        assert page.evaluate("document.activeElement.closest('tr').querySelector('th')"
                             ".textContent").startswith("bob")
        _enter(browser, page)
        assert "/learner/" in page.evaluate("location.pathname")
        heading = page.evaluate("document.querySelector('h1').textContent")
        assert heading.startswith("bob") and "exercise-1" in heading, heading
        text = page.evaluate("document.body.innerText")
        assert "syntax error" in text.lower() or "could not run" in text, text[:800]
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        assert page.evaluate("document.querySelector('pre.code .ln').textContent") == "1"
        page.screenshot(shots / "learner-1366x768.png")
        problems += [f"learner page: {v}" for v in _violations(browser, page, axe)]
        assert _fits(page), "the learner's page is wider than 1366 px"
        learner_path = page.evaluate("location.pathname + location.search")

        _loaded(browser, page, _fill("adjust", {"exercise": "exercise-1", "check": "",
                                                "points": "5",
                                                "reason": "one typo; the rest is right"}))
        _loaded(browser, page, _fill("extend", {"exercise": "exercise-1",
                                                "deadline": "2030-06-01T12:00:00+00:00",
                                                "reason": "ill, with a note"}))
        # a rubric item, then marked on bob's page by its digit key alone
        rubric = browser.open(f"{url}/console/{slug}/rubric/exercise-1/", *LAPTOP)
        _loaded(browser, rubric, _fill("rubric", {"key": "2", "label": "tidy code",
                                                  "points": "-1"}))
        problems += [f"rubric: {v}" for v in _violations(browser, rubric, axe)]
        problems += [f"rubric console: {c['text']}" for c in rubric.errors]
        _loaded(browser, page, "location.reload()")
        browser._events.clear()
        _key(browser, page, "2", 50)
        browser._wait_for("Page.loadEventFired", page.session)
        assert page.evaluate("document.querySelector('button[data-key=\"2\"]')"
                             ".getAttribute('aria-pressed')") == "true"
        recorded = page.evaluate("document.querySelector('.forms ul').innerText")
        assert "one typo; the rest is right" in recorded and "ill, with a note" in recorded

        phone = browser.open(f"{url}{learner_path}", *PHONE)
        phone.screenshot(shots / "learner-390x844.png")
        assert _fits(phone), "the learner's page is wider than a phone"
        grid_phone = browser.open(f"{url}/console/{slug}/", *PHONE)
        grid_phone.screenshot(shots / "grid-390x844.png")
        assert _fits(grid_phone), "the grid page is wider than a phone"

        before = json.loads(grade("submissions", "exercise-1", "--json", env=environment(
            GRADE_SERVER=url, GRADE_TOKEN=served["tokens"]["bob"])).stdout)["submissions"]
        assert "adjustment" not in before[-1]["result"]  # nothing shown before publication

        grid = browser.open(f"{url}/console/{slug}/", *LAPTOP)
        bob = grid.evaluate("document.querySelectorAll('#grid tbody tr')[2].innerText")
        assert "0 → 5" in bob, bob  # last 0, final 5 by the adjustment
        for other in ("insight/", "ledger/", "staff/", "regrades/", "exports/", "changes/",
                      "similarity/exercise-1/"):
            shown = browser.open(f"{url}/console/{slug}/{other}", *LAPTOP)
            shown.screenshot(shots / f"{other.strip('/').replace('/', '-')}-1366x768.png")
            problems += [f"{other}: {v}" for v in _violations(browser, shown, axe)]
            problems += [f"{other} console: {c['text']}" for c in shown.errors]
            assert _fits(shown), f"{other} is wider than 1366 px"
        _loaded(browser, grid, "document.getElementById('publish-exercise').value = "
                "'exercise-1'; document.getElementById('publish').requestSubmit()")
        assert "exercise-1 (published)" in grid.evaluate(
            "document.getElementById('publish-exercise').innerText")

        # live: carol hands in work; her cell changes without a reload
        status, job = upload(url, served["tokens"]["carol"], "print('hello')\n")
        assert status == 201
        wait_graded(url, served["tokens"]["carol"], job["id"])
        deadline = time.monotonic() + 20
        cell = "document.querySelectorAll('#grid tbody tr')[1].querySelector('td.cell').innerText"
        while time.monotonic() < deadline and "not attempted" in grid.evaluate(cell) and \
                "1×" not in grid.evaluate(cell):
            time.sleep(0.5)
        assert "1×" in grid.evaluate(cell), grid.evaluate(cell)
        for name, shown in (("sign-in, grid, learner", page), ("phone", phone),
                            ("phone grid", grid_phone), ("live grid", grid)):
            problems += [f"{name} console: {c['text']}" for c in shown.errors]
    assert not problems, "\n".join(problems)

    listed = json.loads(grade("submissions", "exercise-1", "--json", env=environment(
        GRADE_SERVER=url, GRADE_TOKEN=served["tokens"]["bob"])).stdout)["submissions"]
    result = listed[-1]["result"]
    assert result["score"] == 5, result
    reasons = " ".join(result["adjustment"]["reasons"])
    assert "one typo; the rest is right (ines)" in reasons, reasons
    assert "extension to 2030-06-01T12:00:00+00:00: ill, with a note" in reasons, reasons
    assert any(c["visibility"] == "hidden" for c in result["checks"])
    text = grade("submissions", "exercise-1", env=environment(
        GRADE_SERVER=url, GRADE_TOKEN=served["tokens"]["bob"])).stdout
    assert " 5/10 " in text, text


def test_the_accessibility_check_finds_a_violation_when_there_is_one(axe: str) -> None:
    with Browser() as browser:
        page = browser.open("data:text/html,<html><body><img src='data:,'>"
                            "<input type=text></body></html>", *LAPTOP)
        found = _violations(browser, page, axe)
    assert any("image-alt" in v for v in found), found
