"""`grade login`, `grade submit exercise-N [FILE]` and `grade submissions`: a learner's
side of a course server. The report and exit status are `grade exercise-N`'s."""

from __future__ import annotations

import base64
import json
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from grader.cli.context import die
from grader.cli.remote import ServerProblem, call, login_of, save_login

POLL = (0.2, 0.3, 0.5, 1.0)  # seconds between looks at a submission being graded, then 1 s
SLOWEST = 5.0  # at most this long between looks, however long the queue
SHARE = 0.9  # of the server's estimate waited before looking again
# The upload asks the server to wait this long for its verdict (?wait=S): most files
# are graded within it, and then the upload is the only request. Short, so the receipt
# and the queue position still show soon when the queue is long.
UPLOAD_WAIT = 2.0


def pause(job: dict[str, Any], tick: int) -> float:
    """How long to wait before looking again: most of the server's estimate while
    queued (hundreds of waiting learners polling every second would be the server's main
    work at a deadline; the estimate shrinks as the queue moves, so looks get closer
    near the end), at most SLOWEST so the position shown keeps moving; being graded, the
    short steps of POLL."""
    step = POLL[min(tick, len(POLL) - 1)]
    if job["state"] != "queued":
        return min(step, max(POLL[0], float(job.get("estimate_seconds") or 0.0)))
    return min(max(POLL[0], SHARE * float(job["estimate_seconds"])), SLOWEST)


@click.command()
@click.argument("url")
@click.option("--token", required=True, help="the personal token your teaching assistant gave you")
def login(url: str, token: str) -> None:
    """Remember the course server URL and your token (in your config folder, mode 0600)."""
    if not url.startswith(("http://", "https://")):
        die(f"{url!r} is not a server address (http://... or https://...)")
    try:
        call(url.rstrip("/"), token, "GET", "/api/v1/submissions")
    except ServerProblem as exc:
        die(f"not logged in: {exc}")
    click.echo(f"logged in to {url}; saved in {save_login(url, token)}")


def _default_file(ctx: click.Context, exercise: str) -> tuple[Path | None, str]:
    """The exercise's file and title in this course folder, when there is one."""
    from grader.cli.exercise import planned
    from grader.course import ConfigError, find_course

    try:
        find_course()
    except ConfigError:
        return None, exercise
    plan = planned(ctx, exercise)
    if plan is not None:
        return plan.learner_file, plan.title
    from grader.cli.context import course_from

    found = course_from(ctx).exercise(exercise)
    if found is None:
        return None, exercise
    return course_from(ctx).root / found.file, found.title


def look(get: Callable[[str, float], dict[str, Any]], job: dict[str, Any], tick: int
         ) -> dict[str, Any]:
    """The submission `job` again, by `get(path, seconds)`. The server is asked to wait
    up to SLOWEST for the verdict (?wait=S, a long poll), so the position shown still
    moves every few seconds. A server that answers at once (an older one, or one whose
    waiting slots are all taken) is looked at again only after `pause`, as before."""
    asked = SLOWEST
    started = time.monotonic()
    found = get(f"/api/v1/submissions/{job['id']}?wait={asked:.1f}", asked)
    spent = time.monotonic() - started
    if found.get("state") != "graded" and spent < asked / 2:  # it did not wait
        time.sleep(max(0.0, pause(job, tick) - spent))
    return found


def _wait(url: str, token: str, job: dict[str, Any]) -> dict[str, Any]:
    """Look until graded, showing the queue position on stderr when it changes."""
    shown = None
    tick = 0
    while job["state"] != "graded":
        where = (f"queued: {job['position']} ahead of you, about "
                 f"{job['estimate_seconds']:.0f} s" if job["state"] == "queued" else "grading")
        if where != shown:
            click.echo(where, err=True)
            shown = where
        job = look(lambda path, wait: call(url, token, "GET", path, timeout=30 + wait),
                   job, tick)
        tick += 1
    return job


@click.command()
@click.argument("exercise")
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.option("--server", help="the course server (else $GRADE_SERVER, else grade login's)")
@click.option("--token", help="your token (else $GRADE_TOKEN, else grade login's)")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: the --json report plus submission, received_at, late.")
@click.pass_context
def submit(ctx: click.Context, exercise: str, file: Path | None, server: str | None,
           token: str | None, as_json: bool) -> None:
    """Hand in FILE for EXERCISE, wait for the verdict and print the report."""
    default, title = _default_file(ctx, exercise)
    path = file or default
    if path is None:
        die(f"say which file to submit: grade submit {exercise} FILE")
    try:
        content = path.read_bytes()
    except OSError as exc:
        die(f"cannot read {path}: {exc.strerror}")
    try:
        url, key = login_of(server, token)
        job = call(url, key, "POST", f"/api/v1/submissions?wait={UPLOAD_WAIT}", {
            "exercise": exercise, "idempotency_key": uuid.uuid4().hex,
            "filename": path.name, "content": base64.b64encode(content).decode()},
            timeout=30 + UPLOAD_WAIT)
        click.echo(f"received {job['id']} at {job['received_at']} (sha256 {job['sha256'][:12]})"
                   f"; {job['rule']}", err=True)
        job = _wait(url, key, job)
    except ServerProblem as exc:
        die(str(exc))
    sys.exit(_report(job, title, as_json))


def _report(job: dict[str, Any], title: str, as_json: bool) -> int:
    from grader.reports.text import render
    from grader.results import ExerciseResult

    result = ExerciseResult.model_validate(job["result"])
    if as_json:
        click.echo(json.dumps({**json.loads(result.model_dump_json()), "submission": job["id"],
                               "received_at": job["received_at"], "late": job["late"],
                               "counts": job["counts"]}, indent=2))
    else:
        click.echo(render(result, title, encoding=sys.stdout.encoding))
        if job["late"] and not job["late"]["on_time"]:
            click.echo(f"late: {job['late']['penalty']} points off by the late policy")
    return 0 if result.full_marks else 1


@click.command()
@click.argument("exercise", required=False)
@click.option("--server", help="the course server (else $GRADE_SERVER, else grade login's)")
@click.option("--token", help="your token (else $GRADE_TOKEN, else grade login's)")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def submissions(exercise: str | None, server: str | None, token: str | None,
                as_json: bool) -> None:
    """List your submissions (of EXERCISE), oldest first."""
    try:
        url, key = login_of(server, token)
        query = f"?exercise={exercise}" if exercise else ""
        listed = call(url, key, "GET", f"/api/v1/submissions{query}")["submissions"]
    except ServerProblem as exc:
        die(str(exc))
    if as_json:
        click.echo(json.dumps({"submissions": listed}, indent=2))
        return
    for job in listed:
        result = job["result"] or {}
        score = f"{result['score']:g}/{result['max_score']:g}" if result else job["state"]
        click.echo(f"{job['received_at'][:19]}  {job['exercise']:<12} {score:<10} {job['id']}")
    if not listed:
        click.echo("no submissions yet")
