"""The learner's side of a course server, over the standard library's HTTP client only:
where the server and token are kept, and the few requests `grade submit` makes."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click

ATTEMPTS = 5  # a bad network: the same upload (same idempotency key) is sent again


class ServerProblem(Exception):
    """The server could not be reached or said no; the sentence says why."""


def config_path() -> Path:
    """server.json in the user's config folder (click knows each OS's)."""
    return Path(click.get_app_dir("grade")) / "server.json"


def save_login(url: str, token: str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # created 0600 from the start: the token never sits readable by others, even briefly
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"server": url.rstrip("/"), "token": token}, handle)
    os.chmod(path, 0o600)  # an older file keeps its mode through O_TRUNC
    return path


def login_of(server: str | None, token: str | None) -> tuple[str, str]:
    """(server URL, token): the options, else $GRADE_SERVER/$GRADE_TOKEN, else `grade login`'s."""
    saved: dict[str, Any] = {}
    path = config_path()
    if path.is_file():
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            saved = {}
    url = server or os.environ.get("GRADE_SERVER") or saved.get("server")
    key = token or os.environ.get("GRADE_TOKEN") or saved.get("token")
    if not url or not key:
        raise ServerProblem("no server to submit to: run grade login URL --token TOKEN "
                            "(your teaching assistant gives you both)")
    return str(url).rstrip("/"), str(key)


def call(url: str, token: str, method: str, path: str, body: dict[str, Any] | None = None,
         timeout: float = 30) -> dict[str, Any]:
    """One JSON request; network failures are retried (uploads carry their idempotency key)."""
    data = json.dumps(body).encode() if body is not None else None
    for attempt in range(ATTEMPTS):
        request = urllib.request.Request(
            url + path, data=data, method=method,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                     "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                answer: dict[str, Any] = json.loads(response.read())
                return answer
        except urllib.error.HTTPError as exc:
            if exc.code >= 500 and attempt + 1 < ATTEMPTS:
                time.sleep(0.5 * 2 ** attempt)
                continue
            raise ServerProblem(f"the server said {exc.code}: {_said(exc)}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            if attempt + 1 < ATTEMPTS:
                time.sleep(0.5 * 2 ** attempt)
                continue
            raise ServerProblem(f"could not reach {url}: {getattr(exc, 'reason', exc)}"
                                ) from None
    raise AssertionError("unreachable")


def _said(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(exc.read()).get("error", exc.reason))
    except (ValueError, AttributeError, OSError):
        return str(exc.reason)
