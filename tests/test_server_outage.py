"""`grade serve` on PostgreSQL while the database stops for a moment and comes back:
the server says so in a sentence, prints no traceback, answers 503 meanwhile, and
grades again afterwards."""

from __future__ import annotations

import time

import pytest

from tests.attacks import SOLUTION
from tests.server_fixtures import (
    Server,
    environment,
    grade,
    postgres_cluster,
    tokens,
    upload,
    wait_graded,
)

pytest.importorskip("django", reason="the serve extra (in dev)")
pytestmark = pytest.mark.timeout(300)

LEASE = 1.5  # seconds: the heartbeat (renewing leases, requeueing) beats every 0.5 s


def test_a_database_that_stops_for_a_moment_is_said_and_grading_goes_on(tmp_path) -> None:
    with postgres_cluster() as database:
        data = tmp_path / "data"
        roster = tmp_path / "roster.csv"
        roster.write_text("id,name,email\nalice,Alice Archer,alice@example.org\n")
        made = grade("serve", "roster", str(roster), "--data", str(data), "--db", database.url)
        assert made.returncode == 0, made.stderr
        server = Server(data, database.url, "-j", "1", "--lease", str(LEASE))
        try:
            token = tokens(data)["alice"]
            status, job = upload(server.url, token, SOLUTION)
            assert status == 201, job
            before = wait_graded(server.url, token, job["id"])["result"]
            database.stop("fast")
            mine = tmp_path / "mine.py"
            mine.write_text(SOLUTION)
            refused = grade("submit", "exercise-1", str(mine), env=environment(
                GRADE_SERVER=server.url, GRADE_TOKEN=token))
            time.sleep(4 * LEASE)  # several beats of the heartbeat, rounds of the dispatcher
            database.start()
            status, job = upload(server.url, token, SOLUTION)
            assert status == 201, job
            after = wait_graded(server.url, token, job["id"])["result"]
            time.sleep(2 * LEASE)  # the heartbeat beats again after the outage
        finally:
            server.stop()
    assert after["score"] == before["score"] > 0
    # The learner who submitted meanwhile is told, once `grade submit` gave up retrying.
    assert refused.returncode != 0, refused.stdout
    assert ("the server said 503: the course server cannot reach its database right now; "
            "nothing was stored: try again in a minute") in refused.stderr, refused.stderr
    said = "".join(server.lines)
    assert "Traceback" not in said and "Exception in thread" not in said, said
    # Said as the outage begins and ends, not at each of the dozen beats it lasted (twice
    # at most: a thread may fail once more as another sees the database back).
    assert 1 <= said.count("the database stopped answering") <= 2, said
    assert 1 <= said.count("the database answers again") <= 2, said
