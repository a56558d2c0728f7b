"""The console's test fixtures: a real `grade serve` with a roster in two sections, an
instructor and a TA, graded submissions, and HTTP sessions as each of them."""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.attacks import SOLUTION, WRONG
from tests.conftest import ROOT, grade_command
from tests.server_fixtures import (
    Server,
    db_args,
    environment,
    grade,
    tokens,
    upload,
    wait_graded,
)

ROSTER = ("id,name,email,section\nalice,Alice Archer,alice@example.org,A\n"
          "bob,Bob Baker,bob@example.org,B\ncarol,Carol Cole,carol@example.org,A\n")
PASSWORDS = {"ines": "instructor-pass-1", "tom": "ta-password-22"}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 302 is an answer to assert, not to follow


@dataclass
class Session:
    """One browser-like client: cookies kept, redirects not followed."""

    url: str

    def __post_init__(self) -> None:
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                  _NoRedirect())

    def request(self, method: str, path: str, data: dict[str, str] | None = None
                ) -> tuple[int, str, dict[str, str]]:
        body = urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.url + path, data=body, method=method)
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode(errors="replace"), dict(
                    response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace"), dict(exc.headers)

    def get(self, path: str) -> tuple[int, str, dict[str, str]]:
        return self.request("GET", path)

    def csrf(self) -> str:
        found = [c.value for c in self.jar if c.name == "csrftoken"]
        if not found:
            _, text, _ = self.get("/login/")
            match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
            assert match, text[:500]
            found = [c.value for c in self.jar if c.name == "csrftoken"]
        return str(found[0])

    def post(self, path: str, data: dict[str, str], csrf: bool = True
             ) -> tuple[int, str, dict[str, str]]:
        form = {**data, "csrfmiddlewaretoken": self.csrf()} if csrf else data
        return self.request("POST", path, form)


def staff_session(url: str, name: str) -> Session:
    session = Session(url)
    status, _, headers = session.post("/login/", {"username": name, "password": PASSWORDS[name],
                                                   "next": "/console/"})
    assert status == 302 and headers.get("Location") == "/console/", (status, headers)
    return session


def learner_session(url: str, token: str) -> Session:
    """A learner signed in on the learner page (a session, no staff account)."""
    session = Session(url)
    _, text, _ = session.get("/")
    match = re.search(r"name=csrfmiddlewaretoken value='([^']+)'", text)
    assert match, text[:300]
    status, _, _ = session.request("POST", "/", {"token": token,
                                                 "csrfmiddlewaretoken": match.group(1)})
    assert status == 302, status
    return session


def export_zip(session: Session, slug: str, limit: float = 180.0) -> bytes:
    """The console's zip of the data as it is now: 202 (being rebuilt) until it is made."""
    url = f"{session.url}/console/{slug}/export.zip"
    deadline = time.monotonic() + limit
    while True:
        with session.opener.open(url, timeout=60) as response:
            if response.status == 200:
                assert response.headers["Content-Type"] == "application/zip"
                return bytes(response.read())
            assert response.status == 202, response.status
        assert time.monotonic() < deadline, f"no zip after {limit} s"
        time.sleep(0.2)


def course_server(course: Path, data: Path, students: list[str], staff: str, role: str
                  ) -> Server:
    """`grade serve` of a course copy with `students` on its roster and one staff account
    (`staff`, of PASSWORDS), grading on one worker."""
    roster = data.parent / f"{data.name}-roster.csv"
    roster.write_text("id\n" + "".join(f"{s}\n" for s in students))
    assert grade("--course", str(course), "serve", "roster", str(roster), "--data",
                 str(data)).returncode == 0
    done = subprocess.run([*grade_command(), "--course", str(course), "serve", "staff", staff,
                           "--role", role, "--password-stdin", "--data", str(data)],
                          cwd=ROOT, input=PASSWORDS[staff] + "\n", capture_output=True,
                          text=True, timeout=120, env=environment())
    assert done.returncode == 0, done.stderr
    return Server(data, None, "-j", "1", course=course)


@contextlib.contextmanager
def console_server(data: Path, db: str | None = None) -> Iterator[dict[str, Any]]:
    """A running server: alice (A), bob (B), carol (A); ines the instructor, tom a TA;
    alice handed in a wrong file then a right one, bob a syntax error."""
    roster = data.parent / f"{data.name}-roster.csv"
    roster.write_text(ROSTER)
    made = grade("serve", "roster", str(roster), "--data", str(data), *db_args(db))
    assert made.returncode == 0, made.stderr
    for name, role in (("ines", "instructor"), ("tom", "ta")):
        done = subprocess.run([*grade_command(), "serve", "staff", name, "--role", role,
                               "--password-stdin", "--data", str(data), *db_args(db)],
                              cwd=ROOT,
                              input=PASSWORDS[name] + "\n", capture_output=True, text=True,
                              timeout=120, env=environment())
        assert done.returncode == 0, done.stderr
    server = Server(data, db, "-j", "1")
    try:
        keys = tokens(data)
        ids: dict[str, list[str]] = {}
        for student, text in (("alice", WRONG), ("alice", SOLUTION),
                              ("bob", "import random\n\nweather = (\n")):
            status, job = upload(server.url, keys[student], text)
            assert status == 201, job
            ids.setdefault(student, []).append(wait_graded(server.url, keys[student],
                                                           job["id"])["id"])
        yield {"url": server.url, "data": data, "db": db, "tokens": keys, "ids": ids,
               "slug": ROOT.name, "server": server}
    finally:
        server.stop()
