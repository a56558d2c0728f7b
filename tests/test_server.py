"""`grade serve` end to end: a real server (SQLite, then a real PostgreSQL), a roster,
two learners submitting with the real `grade submit`, and every route tried as the
other learner."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import time
import urllib.request
import uuid
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.attacks import LIBRARY, SOLUTION, WRONG
from tests.conftest import ROOT
from tests.server_fixtures import (
    Server,
    api,
    db_args,
    environment,
    grade,
    postgres,
    tokens,
    upload,
    wait_graded,
)

pytest.importorskip("django", reason="the serve extra (in dev)")

HOSTILE = LIBRARY + ("import os\nfor path in ('/etc/passwd', '../../../../etc/shadow'):\n"
                     "    try:\n        open(path).read()\n    except OSError:\n        pass\n"
                     "try:\n    os.kill(-1, 9)\nexcept OSError:\n    pass\n")
FILES = {
    "right": SOLUTION,
    "wrong": WRONG,
    "skeleton": (ROOT / "exercises" / "exercise_1_weighted_sampling.py").read_text(),
    "syntax error": "import random\n\nweather = (\n",
    "hostile": HOSTILE,
}
ROSTER = "id,name,email\nalice,Alice Archer,alice@example.org\nbob,Bob Baker,bob@example.org\n"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[dict[str, Any]]:
    """A running server with alice and bob on its roster."""
    with postgres() if request.param == "postgresql" else _nothing() as db:
        data = tmp_path_factory.mktemp(f"serve-{request.param}")
        roster = data.parent / f"roster-{request.param}.csv"
        roster.write_text(ROSTER)
        made = grade("serve", "roster", str(roster), "--data", str(data), *db_args(db))
        assert made.returncode == 0, made.stderr
        server = Server(data, db, "-j", "2")
        try:
            yield {"url": server.url, "data": data, "db": db, "tokens": tokens(data),
                   "server": server}
        finally:
            server.stop()


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def as_learner(served: dict[str, Any], student: str, **extra: str) -> dict[str, str]:
    return environment(GRADE_SERVER=served["url"], GRADE_TOKEN=served["tokens"][student],
                       **extra)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("learner-files")
    paths = {}
    for name, text in FILES.items():
        paths[name] = folder / f"{name.replace(' ', '_')}.py"
        paths[name].write_text(text)
    return paths


@pytest.fixture(scope="module")
def local(files: dict[str, Path]) -> dict[str, tuple[int, dict[str, Any]]]:
    """What `grade exercise-1 FILE --json` says of each file, here."""
    found = {}
    for name, path in files.items():
        done = grade("exercise-1", str(path), "--json")
        found[name] = done.returncode, json.loads(done.stdout)
    return found


@pytest.fixture(scope="module")
def submitted(served: dict[str, Any], files: dict[str, Path]
              ) -> dict[str, tuple[int, dict[str, Any]]]:
    """What `grade submit exercise-1 FILE --json` says of each file, as alice."""
    found = {}
    for name, path in files.items():
        done = grade("submit", "exercise-1", str(path), "--json", env=as_learner(served, "alice"))
        assert done.stdout.strip(), done.stderr
        found[name] = done.returncode, json.loads(done.stdout)
    return found


def words(report: str) -> str:
    return re.sub(r" \(hint \d+ of \d+\)", "", " ".join(report.split()))


def public(result: dict[str, Any]) -> list[tuple[str, float, str]]:
    return [(c["name"], c["score"], c["status"]) for c in result["checks"]
            if c["visibility"] == "public"]


@pytest.mark.parametrize("name", list(FILES))
def test_each_file_gets_from_the_server_the_score_grade_exercise_gives_locally(
        name: str, local: dict[str, Any], submitted: dict[str, Any]) -> None:
    local_status, mine = local[name]
    status, theirs = submitted[name]
    hidden = [c for c in mine["checks"] if c["visibility"] == "hidden"]
    assert status == local_status, (name, status, local_status)
    # hidden checks are counted and withheld until the staff publish them
    assert public(theirs) == public(mine), name
    assert theirs["score"] == pytest.approx(sum(s for _, s, _ in public(mine))), name
    assert theirs["withheld"] == ({"checks": len(hidden),
                                   "points": sum(c["max_score"] for c in hidden)}
                                  if hidden else None), name
    assert theirs["error_kind"] == mine["error_kind"], name
    assert theirs["submission"] and theirs["received_at"] and theirs["counts"] is True


def test_a_receipt_names_the_hash_the_server_time_and_the_rule_that_counts(
        served: dict[str, Any], files: dict[str, Path]) -> None:
    done = grade("submit", "exercise-1", str(files["wrong"]), env=as_learner(served, "bob"))
    assert done.returncode == 1, done.stderr
    receipt = re.search(r"received (\S+) at (\S+) \(sha256 ([0-9a-f]{12})\); (.*counts.*)",
                        done.stderr)
    assert receipt, done.stderr
    import hashlib
    assert hashlib.sha256(files["wrong"].read_bytes()).hexdigest().startswith(receipt[3])
    assert "✗" in done.stdout
    # the position while it waits; none when the upload's answer (?wait) was the verdict
    waited = done.stderr.splitlines()[1:]
    assert all(re.fullmatch(r"queued: \d+ ahead of you, about \d+ s|grading", line)
               for line in waited), done.stderr


def test_learner_b_cannot_see_learner_a_s_submissions_through_any_route(
        served: dict[str, Any], submitted: dict[str, Any]) -> None:
    url, alice, bob = served["url"], served["tokens"]["alice"], served["tokens"]["bob"]
    ids = {result["submission"] for _, result in submitted.values()}
    status, listed = api(url, bob, "GET", "/api/v1/submissions")
    assert status == 200 and not ids & {j["id"] for j in listed["submissions"]}
    status, listed = api(url, bob, "GET", "/api/v1/submissions?exercise=exercise-1")
    assert status == 200 and not ids & {j["id"] for j in listed["submissions"]}
    for ident in ids:
        assert api(url, bob, "GET", f"/api/v1/submissions/{ident}")[0] == 404
        assert api(url, None, "GET", f"/api/v1/submissions/{ident}")[0] == 401
        assert api(url, "not-a-token", "GET", f"/api/v1/submissions/{ident}")[0] == 401
        assert api(url, alice, "GET", f"/api/v1/submissions/{ident}")[0] == 200
    assert api(url, None, "GET", "/api/v1/submissions")[0] == 401
    # alice's idempotency key, replayed by bob, makes bob's own submission, not alice's
    listed_cli = grade("submissions", "--json", env=as_learner(served, "bob"))
    assert not ids & {j["id"] for j in json.loads(listed_cli.stdout)["submissions"]}
    page = _signed_in_page(url, bob)
    assert "bob" in page and not any(ident in page for ident in ids)
    assert "alice" not in page.lower()


def _signed_in_page(url: str, token: str) -> str:
    """The learner page after signing in with `token`, through its CSRF-protected form."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(url + "/").read().decode()
    csrf = re.search(r"name=csrfmiddlewaretoken value='([^']+)'", form)
    assert csrf, form
    # without the CSRF token the form is refused (Django's middleware)
    refused = urllib.request.Request(url + "/", data=urlencode({"token": token}).encode())
    with pytest.raises(urllib.error.HTTPError) as error:
        opener.open(refused)
    assert error.value.code == 403
    body = urlencode({"token": token, "csrfmiddlewaretoken": csrf[1]}).encode()
    return str(opener.open(urllib.request.Request(url + "/", data=body)).read().decode())


def test_a_retried_upload_with_the_same_key_is_one_submission(served: dict[str, Any]) -> None:
    url, bob = served["url"], served["tokens"]["bob"]
    first = upload(url, bob, WRONG, key="retry-1")
    again = upload(url, bob, WRONG, key="retry-1")
    assert (first[0], again[0]) == (201, 200)
    assert first[1]["id"] == again[1]["id"]
    alice = upload(url, served["tokens"]["alice"], WRONG, key="retry-1")
    assert alice[0] == 201 and alice[1]["id"] != first[1]["id"]


def test_oversized_files_and_other_suffixes_are_refused_and_names_never_trusted(
        served: dict[str, Any]) -> None:
    url, bob = served["url"], served["tokens"]["bob"]
    assert upload(url, bob, b"#" * (1 << 20) + b"\n")[0] == 413
    assert upload(url, bob, WRONG, filename="mine.sh")[0] == 400
    assert upload(url, bob, WRONG, exercise="exercise-99")[0] == 404
    status, _ = upload(url, bob, WRONG, filename="../../../etc/evil.py")
    assert status == 201
    assert not list(served["data"].rglob("evil.py"))


def test_login_keeps_server_and_token_readable_only_by_the_learner(
        served: dict[str, Any], tmp_path: Path) -> None:
    env = environment(XDG_CONFIG_HOME=str(tmp_path), HOME=str(tmp_path))
    done = grade("login", served["url"], "--token", served["tokens"]["bob"], env=env)
    assert done.returncode == 0, done.stderr
    saved = tmp_path / "grade" / "server.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    listed = grade("submissions", "exercise-1", env=env)
    assert listed.returncode == 0 and "exercise-1" in listed.stdout, listed.stderr
    wrong = grade("login", served["url"], "--token", "nope", env=env)
    assert wrong.returncode == 2 and "401" in wrong.stderr


def test_the_openapi_document_and_healthz_answer(served: dict[str, Any]) -> None:
    status, document = api(served["url"], None, "GET", "/api/v1/openapi.json")
    assert status == 200 and "/api/v1/submissions/{id}" in document["paths"]
    assert api(served["url"], None, "GET", "/healthz")[1]["ok"] is True


def test_export_writes_the_batch_s_files_from_each_learner_s_counted_submission(
        served: dict[str, Any], submitted: dict[str, Any], local: dict[str, Any],
        tmp_path: Path) -> None:
    # each learner's last upload, graded: what counts (whatever earlier tests sent)
    for student, text in (("alice", HOSTILE), ("bob", WRONG)):
        _, job = upload(served["url"], served["tokens"][student], text)
        wait_graded(served["url"], served["tokens"][student], job["id"])
    out = tmp_path / "out"
    done = grade("serve", "export", "--out", str(out), "--data", str(served["data"]),
                 *db_args(served["db"]))
    assert done.returncode == 0, done.stderr
    for name in ("grades.csv", "canvas.csv", "moodle.csv", "report.html",
                 "feedback/alice.md", "feedback/bob.md"):
        assert (out / name).is_file(), name
    rows = {line.split(",")[0]: line.split(",")
            for line in (out / "grades.csv").read_text().splitlines()[1:]}
    # the staff's export has the whole score (hidden checks too) of the last submission:
    # alice's is the hostile file, bob's the wrong file
    assert float(rows["alice"][1]) == local["hostile"][1]["score"], rows
    assert float(rows["bob"][1]) == local["wrong"][1]["score"], rows
    assert rows["alice"][2:4] == ["0", "0"]


def test_once_published_the_hidden_checks_show_and_the_report_is_grade_exercise_s(
        served: dict[str, Any], submitted: dict[str, Any], local: dict[str, Any],
        files: dict[str, Path]) -> None:
    done = grade("serve", "publish", "--by", "the instructor", "--data", str(served["data"]),
                 *db_args(served["db"]))
    assert done.returncode == 0, done.stderr
    listed = json.loads(grade("submissions", "--json", env=as_learner(served, "alice")).stdout)
    by_id = {j["id"]: j for j in listed["submissions"]}
    for name, (_, result) in submitted.items():
        assert by_id[result["submission"]]["result"]["score"] == local[name][1]["score"], name
    remote = grade("submit", "exercise-1", str(files["wrong"]), env=as_learner(served, "alice"))
    here = grade("exercise-1", str(files["wrong"]))
    # the same report, but for the hint ladder ("(hint 1 of 3)"): the learner's own loop
    # counts their runs locally (grader/progress); results carry no hint list over the wire
    assert (remote.returncode, words(remote.stdout)) == (here.returncode, words(here.stdout))
    assert os.environ.get("GRADE_SERVER") is None


def test_a_look_that_asks_to_wait_comes_back_with_the_verdict_in_one_request(
        served: dict[str, Any]) -> None:
    url, alice, bob = served["url"], served["tokens"]["alice"], served["tokens"]["bob"]
    status, job = upload(url, alice, SOLUTION)
    assert status == 201 and job["state"] != "graded", job
    status, seen = api(url, alice, "GET", f"/api/v1/submissions/{job['id']}?wait=10")
    assert status == 200 and seen["state"] == "graded", (
        f"observed {seen.get('state')!r}, expected 'graded': a look with ?wait=10 waits for "
        "the verdict (a long poll), not answers at once")
    assert seen["result"]["score"] == seen["result"]["max_score"]
    started = time.monotonic()  # another learner's id: not found at once, never a wait
    assert api(url, bob, "GET", f"/api/v1/submissions/{job['id']}?wait=10")[0] == 404
    assert time.monotonic() - started < 5


def test_an_upload_that_asks_to_wait_comes_back_graded_in_one_request(
        served: dict[str, Any]) -> None:
    url, alice = served["url"], served["tokens"]["alice"]
    key = uuid.uuid4().hex
    body = {"exercise": "exercise-1", "idempotency_key": key, "filename": "mine.py",
            "content": base64.b64encode(SOLUTION.encode()).decode()}
    status, job = api(url, alice, "POST", "/api/v1/submissions?wait=10", body)
    assert status == 201 and job["state"] == "graded", fail(
        (status, job.get("state")), (201, "graded"),
        "an upload with ?wait=10 is stored, then waits for its verdict (a long poll)")
    assert job["result"]["score"] == job["result"]["max_score"]
    again = api(url, alice, "POST", "/api/v1/submissions?wait=10", body)  # a retry
    assert again[0] == 200 and again[1]["id"] == job["id"], again


def test_more_uploads_a_minute_than_the_cap_are_refused_with_429(served: dict[str, Any]
                                                                ) -> None:
    url, token = served["url"], served["tokens"]["bob"]
    statuses = [upload(url, token, "import random\n\nweather = (\n")[0] for _ in range(31)]
    assert 429 in statuses and statuses[0] in (201, 429), statuses
    assert set(statuses) <= {201, 429}


def test_grade_serve_refuses_the_portable_sandbox_unless_told(tmp_path: Path) -> None:
    done = grade("serve", "--data", str(tmp_path), "--port", "0",
                 env=environment(GRADE_SANDBOX="portable"))
    assert done.returncode == 2
    assert "sandbox level portable" in done.stdout and "--allow-portable" in done.stderr


def test_an_unreachable_server_is_one_sentence_and_exit_status_2(files: dict[str, Path]
                                                                ) -> None:
    done = grade("submit", "exercise-1", str(files["wrong"]), "--server",
                 "http://127.0.0.1:9", "--token", "x")
    assert done.returncode == 2
    assert "could not reach http://127.0.0.1:9" in done.stderr
    assert "Traceback" not in done.stderr


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


def test_a_learner_asks_lists_and_replies_to_a_regrade_request_from_the_terminal(
        served: dict[str, Any], submitted: dict[str, tuple[int, dict[str, Any]]]) -> None:
    _, wrong = submitted["wrong"]
    check = next(c["name"] for c in wrong["checks"] if not c["passed"])
    alice, bob = as_learner(served, "alice"), as_learner(served, "bob")
    asked = grade("regrade", "ask", wrong["submission"], check, "-m", "my sampler is right",
                  env=alice)
    assert asked.returncode == 0 and check in asked.stdout, asked.stderr
    ident = asked.stdout.split()[0].lstrip("#")
    # bob can neither ask about alice's submission nor add to alice's thread, nor see it
    for args in (("ask", wrong["submission"], check, "-m", "mine now"),
                 ("reply", ident, "-m", "me too")):
        refused = grade("regrade", *args, env=bob)
        assert refused.returncode == 2 and "404" in refused.stderr, fail(
            (refused.returncode, refused.stderr), "exit 2, the server's 404", "only your own")
    assert json.loads(grade("regrade", "list", "--json", env=bob).stdout) == {"regrades": []}
    unknown = grade("regrade", "ask", wrong["submission"], "no such check", "-m", "?",
                    env=alice)
    assert unknown.returncode == 2 and "no check of that name" in unknown.stderr
    assert grade("regrade", "reply", ident, "-m", "see line 12", env=alice).returncode == 0
    mine = json.loads(grade("regrade", "list", "--json", env=alice).stdout)["regrades"]
    assert [(r["check"], [m["text"] for m in r["messages"]]) for r in mine] == [
        (check, ["my sampler is right", "see line 12"])], mine
