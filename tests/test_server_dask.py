"""`grade serve --dask ADDRESS`: learners' files graded on a real Dask scheduler's workers."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("distributed")
pytest.importorskip("django", reason="the serve extra (in dev)")

from tests.attacks import SOLUTION, WRONG
from tests.conftest import ROOT
from tests.server_fixtures import Server, grade, tokens, upload, wait_graded

sys.path.insert(0, str(ROOT / "bench"))
from localcluster import LocalCluster


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    with LocalCluster(tmp_path / "dask", workers=1) as running:
        yield running


def test_submissions_are_graded_on_the_dask_workers_and_the_ledger_names_them(
        cluster: LocalCluster, tmp_path: Path) -> None:
    data, roster = tmp_path / "data", tmp_path / "roster.csv"
    roster.write_text("id\nalice\n")
    assert grade("serve", "roster", str(roster), "--data", str(data)).returncode == 0
    server = Server(data, None, "-j", "2", "--dask", cluster.address)
    token = tokens(data)["alice"]
    try:
        jobs = {name: upload(server.url, token, text)[1]["id"]
                for name, text in (("right", SOLUTION), ("wrong", WRONG))}
        done = {name: wait_graded(server.url, token, ident) for name, ident in jobs.items()}
    finally:
        server.stop()
    assert done["right"]["result"]["score"] == done["right"]["result"]["max_score"]
    assert done["wrong"]["result"]["score"] < done["right"]["result"]["score"]
    with sqlite3.connect(data / "grade.sqlite3") as db:
        notes = [why for (why,) in db.execute(
            "select why from server_event where kind='graded'")]
    assert len(notes) == 2 and all("on tcp://" in why for why in notes), notes
