"""`grade serve` applies the course's deadlines like `grade batch`, and regrades in the
background (bulk lane) what older checks graded when the course changes."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from tests.attacks import WRONG
from tests.conftest import copy_course
from tests.server_fixtures import Server, api, environment, grade, tokens, upload, wait_graded

pytest.importorskip("django", reason="the serve extra (in dev)")

LATE = ('deadline: "2020-01-01T00:00:00+00:00"\n'
        "late_policy: {penalty_percent: 10, per: day, cap_percent: 50}\n")


def test_late_work_is_marked_late_and_the_export_takes_the_late_policy_s_penalty(
        tmp_path: Path) -> None:
    course = copy_course(tmp_path / "course")
    text = (course / "course.yaml").read_text()
    (course / "course.yaml").write_text(text.replace("exercises:\n", LATE + "exercises:\n", 1))
    data, roster = tmp_path / "data", tmp_path / "roster.csv"
    roster.write_text("id\nalice\n")
    assert grade("--course", str(course), "serve", "roster", str(roster), "--data",
                 str(data)).returncode == 0
    server = Server(data, None, "-j", "1", course=course)
    try:
        env = environment(GRADE_SERVER=server.url, GRADE_TOKEN=tokens(data)["alice"])
        wrong = tmp_path / "wrong.py"
        wrong.write_text(WRONG)
        done = grade("submit", "exercise-1", str(wrong), "--json", env=env)
        result = json.loads(done.stdout)
        assert result["late"]["on_time"] is False and result["late"]["late_by_seconds"] > 0
        assert result["late"]["penalty"] == 5.0  # 50% (the cap) of the exercise's 10 points
        out = tmp_path / "out"
        exported = grade("--course", str(course), "serve", "export", "--out", str(out),
                         "--data", str(data))
        assert exported.returncode == 0, exported.stderr
        grades = dict(line.split(",", 1) for line in
                      (out / "grades.csv").read_text().splitlines())
        # the checks' 6 of 10 (the hidden one included), less the capped penalty of 5
        assert grades["alice"].split(",")[0] == "1", grades
    finally:
        server.stop()


def test_a_change_of_the_checks_regrades_graded_work_in_the_background_once(
        tmp_path: Path) -> None:
    course = copy_course(tmp_path / "course")
    data, roster = tmp_path / "data", tmp_path / "roster.csv"
    roster.write_text("id\nalice\n")
    assert grade("--course", str(course), "serve", "roster", str(roster), "--data",
                 str(data)).returncode == 0
    server = Server(data, None, "-j", "1", course=course)
    token = tokens(data)["alice"]
    try:
        _, job = upload(server.url, token, WRONG)
        before = wait_graded(server.url, token, job["id"])
    finally:
        server.stop()
    checks = course / "checks" / "exercise_1.py"
    old = '@check("Draws from weather follow its weights", points=2)'
    checks.write_text(checks.read_text().replace(old, old.replace("points=2", "points=5")))
    server = Server(data, None, "-j", "1", course=course)
    try:
        deadline = time.monotonic() + 60
        after = before
        while after["result"]["max_score"] == before["result"]["max_score"]:
            assert time.monotonic() < deadline, "not regraded"
            time.sleep(0.2)
            after = wait_graded(server.url, token, job["id"])
    finally:
        server.stop()
    assert after["result"]["max_score"] == before["result"]["max_score"] + 3
    with sqlite3.connect(data / "grade.sqlite3") as db:
        kinds = [k for (k,) in db.execute(
            "select kind from server_event where submission_id=? order by id", (job["id"],))]
    assert kinds == ["received", "graded", "regrade-queued", "regraded"], kinds


def test_one_server_serves_two_courses_each_with_its_own_roster_checks_and_learners(
        tmp_path: Path) -> None:
    algebra = copy_course(tmp_path / "algebra")
    poetry = copy_course(tmp_path / "poetry")
    checks = poetry / "checks" / "exercise_1.py"
    old = '@check("Draws from weather follow its weights", points=2)'
    checks.write_text(checks.read_text().replace(old, old.replace("points=2", "points=5")))
    data = tmp_path / "data"
    for course in (algebra, poetry):
        roster = tmp_path / f"{course.name}.csv"
        roster.write_text("id\nalice\n")  # the same id in both: two separate learners
        assert grade("--course", str(course), "serve", "roster", str(roster), "--data",
                     str(data)).returncode == 0
    rows = (data / "tokens.csv").read_text().splitlines()[1:]  # in the order made
    keys = {"algebra": rows[0].split(",")[1], "poetry": rows[1].split(",")[1]}
    assert keys["algebra"] != keys["poetry"]
    server = Server(data, None, "-j", "1", "--with-course", str(poetry), course=algebra)
    try:
        jobs = {name: upload(server.url, key, WRONG)[1]["id"] for name, key in keys.items()}
        done = {name: wait_graded(server.url, keys[name], ident) for name, ident in jobs.items()}
        assert api(server.url, keys["algebra"], "GET",
                   f"/api/v1/submissions/{jobs['poetry']}")[0] == 404
    finally:
        server.stop()
    # poetry's own checks graded poetry's file (3 more points there)
    assert (done["poetry"]["result"]["max_score"]
            == done["algebra"]["result"]["max_score"] + 3)


def test_a_bulk_regrade_requeues_graded_work_behind_a_learner_who_submits_meanwhile(
        tmp_path: Path) -> None:
    course = copy_course(tmp_path / "course")
    data, roster = tmp_path / "data", tmp_path / "roster.csv"
    roster.write_text("id\nalice\nbob\n")
    assert grade("--course", str(course), "serve", "roster", str(roster), "--data",
                 str(data)).returncode == 0
    keys = tokens(data)
    server = Server(data, None, "-j", "1", course=course)
    try:
        ids = [upload(server.url, keys["alice"], WRONG)[1]["id"] for _ in range(20)]
        for ident in ids:
            wait_graded(server.url, keys["alice"], ident)
        unknown = grade("--course", str(course), "serve", "regrade", "--data", str(data),
                        "--exercise", "exercise-9", "--by", "tom", "--why", "x")
        assert unknown.returncode == 2 and "no exercise 'exercise-9'" in unknown.stderr
        asked = grade("--course", str(course), "serve", "regrade", "--data", str(data),
                      "--by", "tom", "--why", "the sandbox was fixed")
        assert asked.returncode == 0, asked.stderr
        assert "20 submissions queued for regrading" in asked.stdout, asked.stdout
        _, late = upload(server.url, keys["bob"], WRONG)
        wait_graded(server.url, keys["bob"], late["id"])
        deadline = time.monotonic() + 120
        while _kinds(data, "regraded") < len(ids):
            assert time.monotonic() < deadline, "the bulk regrade did not finish"
            time.sleep(0.2)
    finally:
        server.stop()
    with sqlite3.connect(data / "grade.sqlite3") as db:
        events = db.execute("select submission_id, kind, actor, why from server_event "
                            "where id > (select max(id) from server_event where kind='graded' "
                            "and submission_id != ?) order by id", (late["id"],)).fetchall()
    kinds = [(ident == late["id"], kind) for ident, kind, _, _ in events]
    received = kinds.index((True, "received"))
    graded = kinds.index((True, "graded"))
    between = kinds[received:graded].count((False, "regraded"))
    after = kinds[graded:].count((False, "regraded"))
    # once bob's upload is in, only the jobs already in the hands of the one worker's
    # three carriers go before it; the rest of the bulk regrade waits
    assert between <= 3, f"{between} bulk regrades went ahead of a learner's upload"
    assert after > 0, "the bulk regrade ended before bob uploaded: the test proves nothing"
    assert kinds.count((False, "regraded")) == len(ids), "each submission regraded once"
    assert {(a, w) for _, k, a, w in events if k == "regrade-queued"} == {
        ("tom", "the sandbox was fixed")}


def _kinds(data: Path, kind: str) -> int:
    with sqlite3.connect(data / "grade.sqlite3") as db:
        return int(db.execute("select count(*) from server_event where kind=?", (kind,))
                   .fetchone()[0])
