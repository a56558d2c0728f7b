"""course.yaml's `counts: best`: the best-scoring graded submission counts (not the
last), in the console's grid, its grade tables, its zip and `grade serve export`."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from tests.attacks import SOLUTION, WRONG
from tests.conftest import copy_course
from tests.console_session import course_server, export_zip, staff_session
from tests.server_fixtures import grade, tokens, upload, wait_graded

pytest.importorskip("django", reason="the serve extra (in dev)")


def _grades(text: str) -> dict[str, str]:
    return {row["student"]: row["exercise-1"] for row in csv.DictReader(io.StringIO(text))}


@pytest.mark.parametrize("rule", ["best", "last"])
def test_the_rule_in_course_yaml_decides_which_submission_counts_everywhere(
        tmp_path: Path, rule: str) -> None:
    course = copy_course(tmp_path / "course")
    text = (course / "course.yaml").read_text()
    (course / "course.yaml").write_text(text.replace("exercises:\n", f"counts: {rule}\n"
                                                     "exercises:\n", 1))
    data = tmp_path / "data"
    server = course_server(course, data, ["alice"], "ines", "instructor")
    try:
        key = tokens(data)["alice"]
        for source in (SOLUTION, WRONG):  # the best first, then a worse one last
            status, job = upload(server.url, key, source)
            assert status == 201, job
            assert ("best-scoring" in job["rule"]) == (rule == "best"), job["rule"]
            wait_graded(server.url, key, job["id"])
        ines = staff_session(server.url, "ines")
        _, body, _ = ines.get("/console/course/grid.json")
        cell = json.loads(body)["rows"][0]["cells"]["exercise-1"]
        best, last = cell["best"], cell["last"]  # the staff's scores: hidden checks too
        assert cell["attempts"] == 2 and best > last, cell
        expected = best if rule == "best" else last
        assert cell["final"] == expected, cell
        _, table, _ = ines.get("/console/course/export/grades.csv")
        assert float(_grades(table)["alice"]) == expected, table
        with zipfile.ZipFile(io.BytesIO(export_zip(ines, "course"))) as zipped:
            assert zipped.read("grades.csv").decode() == table
        out = tmp_path / "out"
        exported = grade("--course", str(course), "serve", "export", "--out", str(out),
                         "--data", str(data))
        assert exported.returncode == 0, exported.stderr
        assert (out / "grades.csv").read_text() == table
    finally:
        server.stop()
