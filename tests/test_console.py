"""The TA's console over HTTP on a real `grade serve`: who may open and change what,
Django's CSRF token on every change, adjustments and extensions applied by the batch's
own code (byte-identical to overrides.csv), and per-exercise publication as learners see it."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.console_session import (
    Session,
    console_server,
    export_zip,
    learner_session,
    staff_session,
)
from tests.server_fixtures import db_args, environment, grade, postgres

pytest.importorskip("django", reason="the serve extra (in dev)")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[dict[str, Any]]:
    with contextlib.ExitStack() as stack:
        db = stack.enter_context(postgres()) if request.param == "postgresql" else None
        data = tmp_path_factory.mktemp(f"console-{request.param}") / "data"
        yield stack.enter_context(console_server(data, db))


def as_learner(served: dict[str, Any], student: str) -> dict[str, str]:
    return environment(GRADE_SERVER=served["url"], GRADE_TOKEN=served["tokens"][student])


def learner_id(served: dict[str, Any], ines: Session, student: str) -> int:
    _, text, _ = ines.get(f"/console/{served['slug']}/")

    found = re.search(rf'<tr data-learner="(\d+)">\s*<th scope="row">{student}\b', text)
    assert found, f"{student} is not in the grid"
    return int(found.group(1))


def callers(served: dict[str, Any]) -> dict[str, Session]:
    url = served["url"]
    return {"anonymous": Session(url),
            "learner A": learner_session(url, served["tokens"]["alice"]),
            "learner B": learner_session(url, served["tokens"]["bob"]),
            "ta": staff_session(url, "tom"), "instructor": staff_session(url, "ines")}


def _exports(data: Path, db: str | None, outdir: Path, overrides: Path | None) -> None:
    """The server's class result settled by `grade batch`'s settle with `overrides`
    (an overrides.csv), in a process of its own (Django is configured once a process)."""
    script = textwrap.dedent(f"""
        from pathlib import Path
        from grader.server.settings import configure
        configure(Path({str(data)!r}), {db!r})
        from grader.batch.adjust import read_overrides
        from grader.batch.regrade import finalise_scores
        from grader.reports.export import write_exports
        from grader.server.export import class_result
        from grader.server.models import Course
        from grader.server.views import course_of
        course = Course.objects.get()
        graded, handed, files = class_result(course)
        out = Path({str(outdir)!r})
        rows = read_overrides(Path({str(overrides)!r})) if {overrides is not None} else []
        settled = finalise_scores(course_of(course.root), graded, handed, files, out,
                                  overrides=rows)
        write_exports(out, settled.result)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=environment())
    assert done.returncode == 0, done.stderr


def _stable(name: str, blob: bytes) -> bytes:
    """Gradescope's execution_time is wall time (a missing file's too): it differs between
    any two runs, so it is the one field left out of the comparison."""
    if not name.startswith("gradescope/"):
        return blob
    found = json.loads(blob)
    found.pop("execution_time")
    return json.dumps(found).encode()


def _unzip(blob: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


# first of the module: the other tests adjust and extend, which moves the exports
def test_an_adjustment_in_the_console_exports_byte_for_byte_as_its_overrides_csv_line(
        served: dict[str, Any], tmp_path: Path) -> None:
    tom = staff_session(served["url"], "tom")
    slug, bob = served["slug"], learner_id(served, tom, "bob")
    status, _, _ = tom.post(f"/console/{slug}/learner/{bob}/adjust", {
        "exercise": "exercise-1", "check": "", "points": "4.5",
        "reason": "the syntax error is one typo; graded by hand"})
    assert status == 302
    # right after a change the zip is being rebuilt: 202 and a page saying so, never
    # the last zip (made before the change) as if it were current
    status, page, _ = tom.get(f"/console/{slug}/export.zip")
    assert status == 202 and "being rebuilt" in page, (status, page[:300])
    console = _unzip(export_zip(tom, slug))
    csv = tmp_path / "overrides.csv"
    csv.write_text("student,exercise,check,points,reason,by\n"
                   "bob,exercise-1,,4.5,the syntax error is one typo; graded by hand,tom\n")
    _exports(served["data"], served["db"], tmp_path / "batch", csv)
    batch = {str(p.relative_to(tmp_path / "batch")): p.read_bytes()
             for p in sorted((tmp_path / "batch").rglob("*")) if p.is_file()
             and p.name != "state.json"}
    assert set(console) == set(batch), (sorted(console), sorted(batch))
    differ = [name for name in batch if _stable(name, console[name]) != _stable(name,
                                                                            batch[name])]
    assert not differ, f"these exports differ: {differ}"
    assert b"graded by hand (tom)" in console["feedback/bob.md"]
    assert b"4.5" in console["grades.csv"]
    # `grade serve export` writes the same files, the console's adjustments included
    done = grade("serve", "export", "--out", str(tmp_path / "cli"), "--data", str(served["data"]),
                 *db_args(served["db"]))
    assert done.returncode == 0, done.stderr
    for name in ("grades.csv", "canvas.csv", "feedback/bob.md"):
        assert (tmp_path / "cli" / name).read_bytes() == console[name], name
    # the grade tables, rendered per request from stored columns, are the zip's bytes
    for name in ("grades.csv", "canvas.csv", "moodle.csv", "grades.json"):
        status, text, _ = tom.get(f"/console/{slug}/export/{name}")
        assert status == 200 and text.encode() == batch[name], (name, status, text[:200])
    # the zip is made once per version of the data: a new adjustment makes a new one
    status, _, _ = tom.post(f"/console/{slug}/learner/{bob}/adjust", {
        "exercise": "exercise-1", "points": "4", "reason": "second thoughts"})
    status, text, _ = tom.get(f"/console/{slug}/export/grades.csv")
    assert "second thoughts" in text and status == 200  # current at once, no zip needed
    status, page, _ = tom.get(f"/console/{slug}/exports/")
    assert status == 200 and "being rebuilt" in page
    again = _unzip(export_zip(tom, slug))
    assert b"second thoughts (tom)" in again["feedback/bob.md"]
    assert again["grades.csv"] == tom.get(f"/console/{slug}/export/grades.csv")[1].encode()
    assert set(again) == set(console)  # the changes report is a page, not in the zip
    # the batch's changes report between the two zips, as a page: bob's 4.5 became 4
    status, page, _ = tom.get(f"/console/{slug}/changes/")
    assert status == 200, page[:300]
    rows = re.findall(r"<tr><td>bob</td><td>exercise-1</td><td></td><td>([^<]*)</td>"
                      r"<td>([^<]*)</td>", page)
    assert rows == [("4.5", "4")], page[page.find("<table"):][:800]


def test_every_console_route_answers_each_role_as_its_rights_say(served: dict[str, Any]
                                                                   ) -> None:
    who = callers(served)
    slug, alice = served["slug"], learner_id(served, who["instructor"], "alice")
    # (method, route, data): statuses for anonymous, learner A, learner B, TA, instructor
    routes: list[tuple[tuple[str, str, dict[str, str] | None], tuple[int, ...]]] = [
        (("GET", "/console/", None), (302, 302, 302, 302, 302)),
        (("GET", f"/console/{slug}/", None), (302, 403, 403, 200, 200)),
        (("GET", f"/console/{slug}/grid.json", None), (302, 403, 403, 200, 200)),
        (("GET", f"/console/{slug}/learner/{alice}/", None), (302, 403, 403, 200, 200)),
        (("GET", f"/console/{slug}/insight/", None), (302, 403, 403, 200, 200)),
        (("GET", f"/console/{slug}/ledger/", None), (302, 403, 403, 200, 200)),
        (("GET", f"/console/{slug}/export.zip", None), (302, 403, 403, 200, 200)),
        (("GET", f"/console/{slug}/exports/", None), (302, 403, 403, 200, 200)),
        (("GET", f"/console/{slug}/changes/", None), (302, 403, 403, 200, 200)),
        (("GET", f"/console/{slug}/similarity/exercise-1/", None), (302, 403, 403, 200, 200)),
        (("GET", f"/console/{slug}/export/grades.csv", None), (302, 403, 403, 200, 200)),
        (("GET", f"/console/{slug}/export/report.html", None), (302, 403, 403, 200, 200)),
        (("GET", f"/console/{slug}/export/../views.py", None), (404, 404, 404, 404, 404)),
        (("GET", f"/console/{slug}/staff/", None), (302, 403, 403, 403, 200)),
        (("GET", "/console/no-such-course/", None), (302, 403, 403, 404, 404)),
        (("GET", f"/console/{slug}/learner/999999/", None), (302, 403, 403, 404, 404)),
        (("POST", f"/console/{slug}/learner/{alice}/adjust",
          {"exercise": "exercise-2", "points": "1", "reason": "matrix"}),
         (302, 403, 403, 302, 302)),
        (("POST", f"/console/{slug}/learner/{alice}/extend",
          {"exercise": "exercise-3", "deadline": "2030-01-01T00:00:00+00:00",
           "reason": "matrix"}), (302, 403, 403, 302, 302)),
        (("GET", f"/console/{slug}/rubric/exercise-3/", None), (302, 403, 403, 200, 200)),
        (("GET", f"/console/{slug}/regrades/", None), (302, 403, 403, 200, 200)),
        (("POST", f"/console/{slug}/regrades/", {"request": "0", "message": "x"}),
         (302, 403, 403, 404, 404)),
        (("POST", f"/console/{slug}/rubric/exercise-3/",
          {"key": "9", "label": "matrix", "points": "1"}), (302, 403, 403, 302, 302)),
        (("POST", f"/console/{slug}/learner/{alice}/mark", {"item": "0"}),
         (302, 403, 403, 404, 404)),
        (("POST", f"/console/{slug}/publish", {"exercise": "exercise-3"}),
         (302, 403, 403, 403, 302)),
        (("POST", f"/console/{slug}/blind", {}), (302, 403, 403, 302, 302)),
        (("GET", "/console/static/console.js", None), (200, 200, 200, 200, 200)),
        (("GET", "/console/static/..%2Fviews.py", None), (404, 404, 404, 404, 404)),
    ]
    export_zip(who["instructor"], slug)  # built before the GETs, which leave it current
    wrong = []
    for (method, path, data), expected in routes:
        for (name, session), status in zip(who.items(), expected):
            got = (session.get(path) if method == "GET" else session.post(path, data or {}))[0]
            if got != status:
                wrong.append(f"{method} {path} as {name}: {got}, expected {status}")
    # the learners' regrade API: bearer tokens (A's and B's); a staff or learner-page
    # cookie is no token, and B may not ask about A's submission
    from tests.server_fixtures import api

    alice_job = served["ids"]["alice"][0]
    for (method, path, body), expected in [
            (("GET", "/api/v1/regrades", None), (401, 200, 200, 401, 401)),
            (("POST", f"/api/v1/submissions/{alice_job}/regrades", {"check": "no such"}),
             (401, 400, 404, 401, 401)),
            (("POST", "/api/v1/regrades/999999/messages", {"message": "x"}),
             (401, 404, 404, 401, 401))]:
        for name, token, status in zip(
                who, (None, served["tokens"]["alice"], served["tokens"]["bob"], None, None),
                expected):
            got = (api(served["url"], token, method, path, body)[0] if token or name ==
                   "anonymous" else who[name].request(method, path, body)[0])
            if got != status:
                wrong.append(f"{method} {path} as {name}: {got}, expected {status}")
    assert not wrong, "\n".join(wrong)


def test_every_state_changing_request_without_the_csrf_token_is_refused(
        served: dict[str, Any]) -> None:
    ines = staff_session(served["url"], "ines")
    slug, bob = served["slug"], learner_id(served, ines, "bob")
    for path, data in [(f"/console/{slug}/learner/{bob}/adjust",
                        {"exercise": "exercise-1", "points": "9", "reason": "forged"}),
                       (f"/console/{slug}/learner/{bob}/extend",
                        {"deadline": "2030-01-01T00:00:00+00:00"}),
                       (f"/console/{slug}/publish", {"exercise": "exercise-2"}),
                       (f"/console/{slug}/blind", {}),
                       (f"/console/{slug}/regrades/", {"request": "1", "message": "forged"}),
                       (f"/console/{slug}/rubric/exercise-1/",
                        {"key": "1", "label": "forged", "points": "5"}),
                       (f"/console/{slug}/staff/", {"username": "mallory", "role": "instructor",
                                                    "password": "0123456789ab"}),
                       ("/logout/", {})]:
        status, _, _ = ines.post(path, data, csrf=False)
        assert status == 403, (path, status)
    _, ledger, _ = ines.get(f"/console/{slug}/ledger/")
    assert "forged" not in ledger and "mallory" not in ledger


def test_a_publication_releases_hidden_checks_and_final_grades_only_then(
        served: dict[str, Any]) -> None:
    ines = staff_session(served["url"], "ines")
    slug, alice = served["slug"], learner_id(served, ines, "alice")
    status, _, _ = ines.post(f"/console/{slug}/learner/{alice}/adjust", {
        "exercise": "exercise-1", "points": "7", "reason": "style points taken"})
    assert status == 302
    before = json.loads(grade("submissions", "exercise-1", "--json",
                              env=as_learner(served, "alice")).stdout)["submissions"][-1]
    assert before["result"]["withheld"] is not None, before["result"]
    assert "adjustment" not in before["result"]
    assert all(c["visibility"] == "public" for c in before["result"]["checks"])
    status, _, _ = ines.post(f"/console/{slug}/publish", {"exercise": "exercise-1"})
    assert status == 302
    after = json.loads(grade("submissions", "exercise-1", "--json",
                             env=as_learner(served, "alice")).stdout)["submissions"][-1]
    assert any(c["visibility"] == "hidden" for c in after["result"]["checks"])
    assert after["result"]["score"] == 7, after["result"]
    assert "style points taken (ines)" in " ".join(after["result"]["adjustment"]["reasons"])
    listed = grade("submissions", "exercise-1", env=as_learner(served, "alice")).stdout
    assert " 7/10 " in listed, listed
    # bob's own adjustment is his alone: alice's publication shows him nothing of hers
    bob = json.loads(grade("submissions", "--json", env=as_learner(served, "bob")).stdout)
    assert "style points" not in json.dumps(bob)


def test_next_submission_goes_through_the_class_in_the_grid_s_order(served: dict[str, Any]
                                                                     ) -> None:
    tom = staff_session(served["url"], "tom")
    slug = served["slug"]
    alice, bob = learner_id(served, tom, "alice"), learner_id(served, tom, "bob")
    _, page, _ = tom.get(f"/console/{slug}/learner/{alice}/?exercise=exercise-1")
    # carol (section A, after alice) has no attempt at exercise-1: bob (section B) is next
    found = re.search(r'<a id="next" href="[^"]*/learner/(\d+)/', page)
    assert found and int(found.group(1)) == bob, page[:2000]
    _, last, _ = tom.get(f"/console/{slug}/learner/{bob}/?exercise=exercise-1")
    assert 'id="next"' not in last and "the last submission of exercise-1" in last


def test_a_rubric_item_marked_counts_and_a_change_to_it_reaches_every_marked_submission(
        served: dict[str, Any]) -> None:
    from tests.attacks import WRONG
    from tests.server_fixtures import upload, wait_graded

    status, job = upload(served["url"], served["tokens"]["carol"], WRONG)
    assert status == 201
    raw = wait_graded(served["url"], served["tokens"]["carol"], job["id"])
    tom = staff_session(served["url"], "tom")
    slug, carol = served["slug"], learner_id(served, tom, "carol")
    rubric = f"/console/{slug}/rubric/exercise-1/"
    assert tom.post(rubric, {"key": "1", "label": "clear names", "points": "1"})[0] == 302
    _, page, _ = tom.get(f"/console/{slug}/learner/{carol}/?exercise=exercise-1")
    item = re.search(r'name="item" value="(\d+)"><button type="submit" data-key="1"', page)
    assert item, page[:3000]
    assert tom.post(f"/console/{slug}/learner/{carol}/mark", {"item": item.group(1)})[0] == 302

    def final() -> tuple[float, str]:
        listed = json.loads(grade("submissions", "exercise-1", "--json",
                                  env=as_learner(served, "carol")).stdout)["submissions"]
        result = listed[-1]["result"]
        return result["score"], " ".join(result["adjustment"]["reasons"])

    full = sum(c["max_score"] for c in raw["result"]["checks"])  # exercise-1 is published
    hidden_raw = json.loads(grade("submissions", "exercise-1", "--json", env=as_learner(
        served, "carol")).stdout)["submissions"][-1]["result"]["adjustment"]["raw"]
    assert final() == (min(full, hidden_raw + 1), final()[1])
    assert "rubric: clear names (+1) (tom)" in final()[1]
    assert tom.post(rubric, {"key": "1", "label": "clear names", "points": "2"})[0] == 302
    assert final()[0] == min(full, hidden_raw + 2)
    assert "clear names (+2)" in final()[1]
    zipped = _unzip(export_zip(tom, slug))
    assert b"clear names (+2)" in zipped["feedback/carol.md"]


def test_a_regrade_request_is_a_thread_only_its_learner_and_the_staff_see(
        served: dict[str, Any]) -> None:
    from tests.server_fixtures import api

    url, slug = served["url"], served["slug"]
    alice, bob = served["tokens"]["alice"], served["tokens"]["bob"]
    job = served["ids"]["alice"][0]  # the wrong file: some check failed
    _, mine = api(url, alice, "GET", f"/api/v1/submissions/{job}")
    check = next(c["name"] for c in mine["result"]["checks"] if not c["passed"])
    path = f"/api/v1/submissions/{job}/regrades"
    assert api(url, bob, "POST", path, {"check": check, "message": "mine?"})[0] == 404
    assert api(url, None, "POST", path, {"check": check, "message": "x"})[0] == 401
    assert api(url, alice, "POST", path, {"check": "no such check", "message": "x"})[0] == 400
    status, asked = api(url, alice, "POST", path, {"check": check,
                                                  "message": "my draws look right to me"})
    assert status == 201, asked
    assert api(url, bob, "GET", "/api/v1/regrades", None)[1] == {"regrades": []}
    assert api(url, bob, "POST", f"/api/v1/regrades/{asked['id']}/messages",
               {"message": "hi"})[0] == 404
    tom = staff_session(url, "tom")
    _, page, _ = tom.get(f"/console/{slug}/regrades/")
    assert "my draws look right to me" in page
    assert tom.post(f"/console/{slug}/regrades/", {
        "request": str(asked["id"]), "message": "the third outcome is overdrawn",
        "close": "1"})[0] == 302
    _, thread = api(url, alice, "GET", "/api/v1/regrades", None)
    (found,) = thread["regrades"]
    assert [(m["author"], m["staff"]) for m in found["messages"]] == [("alice", False),
                                                                      ("tom", True)]
    assert found["closed_at"] is not None
    assert api(url, alice, "POST", f"/api/v1/regrades/{asked['id']}/messages",
               {"message": "but"})[0] == 403
    _, ledger, _ = tom.get(f"/console/{slug}/ledger/")
    assert "regrade-asked" in ledger and "regrade-closed" in ledger


def test_the_openapi_document_lists_the_learners_regrade_routes(served: dict[str, Any]
                                                                 ) -> None:
    _, text, _ = Session(served["url"]).get("/api/v1/openapi.json")
    paths = json.loads(text)["paths"]
    for route, method in (("/api/v1/submissions/{id}/regrades", "post"),
                          ("/api/v1/regrades", "get"),
                          ("/api/v1/regrades/{id}/messages", "post")):
        assert method in paths.get(route, {}), (route, sorted(paths))
        assert paths[route][method]["security"] == [{"token": []}], route
