"""Similarity on demand in the console: one exercise's counted submissions compared by
`grade similarity` (the `similarity` extra), the top pairs listed; a clear message in
the page when the extra is not installed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.attacks import SOLUTION, WRONG
from tests.conftest import copy_course
from tests.console_session import course_server, staff_session
from tests.server_fixtures import Server, tokens, upload, wait_graded

pytest.importorskip("django", reason="the serve extra (in dev)")
pytest.importorskip("copydetect", reason="the similarity extra (in dev)")


# code of the learners' own beyond the skeleton (the comparison ignores the skeleton's)
OWN = """

def cumulative(weights):
    total, running = 0.0, []
    for name, weight in sorted(weights.items()):
        total += weight
        running.append((total, name))
    return running


def draw_many(weights, count, rng):
    table = cumulative(weights)
    picked = []
    for _ in range(count):
        point = rng.random() * table[-1][0]
        for edge, name in table:
            if point <= edge:
                picked.append(name)
                break
    return picked


def frequencies(draws):
    seen = {}
    for name in draws:
        seen[name] = seen.get(name, 0) + 1
    return {name: seen[name] / len(draws) for name in sorted(seen)}
"""
RENAMED = OWN.replace("running", "acc").replace("picked", "out").replace("seen", "counts")
HERS = """

def tally(words):
    import collections
    return collections.Counter(words).most_common(3)


class Chain:
    def __init__(self, text):
        self.pairs = list(zip(text.split(), text.split()[1:]))

    def follow(self, word):
        return [b for a, b in self.pairs if a == word]
"""


def _pairs(page: str) -> list[list[str]]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [re.findall(r"<td>([^<]*)</td>", row) for row in body.split("</tr>") if "<td>" in row]


def test_similarity_lists_the_counted_submissions_most_alike_or_says_the_extra_is_missing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    course = copy_course(tmp_path / "course")
    data = tmp_path / "data"
    server = course_server(course, data, ["alice", "bob", "carol"], "tom", "ta")
    try:
        keys = tokens(data)
        # bob's counted file is alice's, renamed variables and all; carol's is her own
        for student, text in (("alice", SOLUTION + OWN), ("bob", WRONG + HERS),
                              ("bob", SOLUTION + RENAMED), ("carol", SOLUTION + HERS)):
            status, job = upload(server.url, keys[student], text)
            assert status == 201, job
            wait_graded(server.url, keys[student], job["id"])
        tom = staff_session(server.url, "tom")
        status, page, _ = tom.get("/console/course/similarity/exercise-1/")
        assert status == 200 and "Compare now" in page
        status, page, _ = tom.post("/console/course/similarity/exercise-1/", {})
        assert status == 200, page[:500]
        pairs = _pairs(page)
        assert pairs and sorted(pairs[0][:2]) == ["alice", "bob"], pairs
        assert float(pairs[0][2]) == 1.0 and 'class="flagged"' in page, pairs
        assert all(float(p[2]) < 1.0 for p in pairs[1:]), pairs
        assert tom.get("/console/course/similarity/no-such/")[0] == 404
    finally:
        server.stop()
    # the extra missing: a copydetect that cannot be imported, first on the path
    shim = tmp_path / "shim" / "copydetect"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('not installed here')\n")
    monkeypatch.setenv("PYTHONPATH", str(shim.parent))
    server = Server(data, None, "-j", "1", course=course)
    try:
        tom = staff_session(server.url, "tom")
        status, page, _ = tom.post("/console/course/similarity/exercise-1/", {})
        assert status == 200 and 'role="alert"' in page, page[:800]
        assert "Similarity cannot run here" in page and "[similarity]" in page, page[:800]
    finally:
        server.stop()
