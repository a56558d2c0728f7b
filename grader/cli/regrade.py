"""`grade regrade`: a learner's regrade requests on a course server, from the terminal
(the API's three routes: ask about one check, list the threads, reply to one)."""

from __future__ import annotations

import json
from typing import Any

import click

from grader.cli.context import die
from grader.cli.remote import ServerProblem, call, login_of

SERVER = click.option("--server", help="the course server (else $GRADE_SERVER, else grade login's)")
TOKEN = click.option("--token", help="your token (else $GRADE_TOKEN, else grade login's)")


def _call(server: str | None, token: str | None, method: str, path: str,
          body: dict[str, Any] | None = None) -> dict[str, Any]:
    try:
        url, key = login_of(server, token)
        return call(url, key, method, path, body)
    except ServerProblem as exc:
        die(str(exc))


def _thread(request: dict[str, Any]) -> str:
    state = f"closed {request['closed_at'][:19]}" if request["closed_at"] else "open"
    lines = [f"#{request['id']}  {request['exercise']}  submission {request['submission']}  "
             f"check {request['check']!r}  ({state})"]
    lines += [f"  {m['at'][:19]}  {'staff' if m['staff'] else m['author']}: {m['text']}"
              for m in request["messages"]]
    return "\n".join(lines)


@click.group()
def regrade() -> None:
    """Ask the staff to look again at one check of a submission (course server)."""


@regrade.command()
@click.argument("submission")
@click.argument("check")
@click.option("-m", "--message", required=True, help="why the check should be looked at again")
@SERVER
@TOKEN
def ask(submission: str, check: str, message: str, server: str | None,
        token: str | None) -> None:
    """Open a request about CHECK (its name, as your report shows it) of SUBMISSION (the
    id `grade submissions` lists)."""
    found = _call(server, token, "POST", f"/api/v1/submissions/{submission}/regrades",
                  {"check": check, "message": message})
    click.echo(_thread(found))


@regrade.command(name="list")
@SERVER
@TOKEN
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def list_requests(server: str | None, token: str | None, as_json: bool) -> None:
    """Your regrade requests, each with its thread, oldest first."""
    found = _call(server, token, "GET", "/api/v1/regrades")["regrades"]
    if as_json:
        click.echo(json.dumps({"regrades": found}, indent=2))
        return
    click.echo("\n".join(_thread(r) for r in found) if found else "no regrade requests yet")


@regrade.command()
@click.argument("request", type=int)
@click.option("-m", "--message", required=True, help="what to add to the thread")
@SERVER
@TOKEN
def reply(request: int, message: str, server: str | None, token: str | None) -> None:
    """Add MESSAGE to your open regrade request REQUEST."""
    found = _call(server, token, "POST", f"/api/v1/regrades/{request}/messages",
                  {"message": message})
    click.echo(_thread(found))
