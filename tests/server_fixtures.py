"""A real `grade serve` in a subprocess, and a throwaway PostgreSQL cluster for it.

The PostgreSQL cluster is made with the server's own binaries (Debian's `postgresql`
package, which .ci/run installs): initdb into a temporary folder, started on a free
loopback port as a non-root user (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import base64
import contextlib
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, grade_command


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("GRADE_COURSE", "GRADE_SERVER", "GRADE_TOKEN")}
    env["GRADE_PROGRESS"] = "off"
    env.update(extra)
    return env


def grade(*args: str, env: dict[str, str] | None = None, timeout: float = 120
          ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*grade_command(), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env or environment())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pg_tool(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name)]
    if not found[-1]:
        raise RuntimeError(f"PostgreSQL's {name} is not installed: apt-get install postgresql "
                           "(.ci/run does)")
    return str(found[-1])


class Postgres:
    """A PostgreSQL cluster of our own in `folder`, on a free loopback port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"postgresql://grade@127.0.0.1:{self.port}/grade"
        self.user: dict[str, Any] = {}
        if os.geteuid() == 0:  # initdb and postgres refuse root: run them as `postgres`
            account = pwd.getpwnam("postgres")
            os.chown(folder, account.pw_uid, account.pw_gid)
            self.user = {"user": account.pw_uid, "group": account.pw_gid}

    def _run(self, *args: str) -> None:
        subprocess.run(args, check=True, capture_output=True, timeout=120, **self.user)

    def create(self) -> None:
        self._run(_pg_tool("initdb"), "-D", str(self.folder / "data"), "-A", "trust", "-U",
                  "grade", "--no-sync", "-E", "UTF8")
        self.start()
        self._run(_pg_tool("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                  "grade", "grade")

    def start(self) -> None:
        self._run(_pg_tool("pg_ctl"), "-D", str(self.folder / "data"), "-l",
                  str(self.folder / "log"), "-w", "-o",
                  f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -F "
                  "-c max_connections=200", "start")

    def stop(self, mode: str = "immediate") -> None:
        subprocess.run([_pg_tool("pg_ctl"), "-D", str(self.folder / "data"), "-m", mode,
                        "-w", "stop"], capture_output=True, timeout=60, **self.user)


@contextlib.contextmanager
def postgres_cluster() -> Iterator[Postgres]:
    """A fresh PostgreSQL cluster (database `grade`), removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="grade-pg-"))
    os.chmod(folder, 0o755)
    cluster = Postgres(folder)
    try:
        cluster.create()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A fresh PostgreSQL cluster; yields its URL (database `grade`)."""
    with postgres_cluster() as cluster:
        yield cluster.url


def db_args(db: str | None) -> list[str]:
    return ["--db", db] if db else []


class Server:
    """`grade serve` on 127.0.0.1, port 0, in its own process group."""

    def __init__(self, data: Path, db: str | None, *extra: str, course: Path | None = None
                 ) -> None:
        where = ["--course", str(course)] if course else []
        self.process = subprocess.Popen(
            [*grade_command(), *where, "serve", "--data", str(data), *db_args(db), "--port", "0",
             *extra], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=environment(), start_new_session=True)
        self.lines: list[str] = []
        self.url = ""
        ready = threading.Event()
        threading.Thread(target=self._read, args=(ready,), daemon=True).start()
        if not ready.wait(90) or not self.url:
            self.kill()
            raise AssertionError("grade serve did not start:\n" + "".join(self.lines))

    def _read(self, ready: threading.Event) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if "listening on http://" in line:
                self.url = line.split("listening on ")[1].split()[0].rstrip("/")
                ready.set()
        ready.set()

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(30)
        finally:
            self.kill()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)


def tokens(data: Path) -> dict[str, str]:
    lines = (data / "tokens.csv").read_text().splitlines()[1:]
    return dict(line.split(",", 1) for line in lines)


def api(url: str, token: str | None, method: str, path: str,
        body: dict[str, Any] | None = None) -> tuple[int, Any]:
    """(status, JSON) of one request, as any HTTP client would make it."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url + path, method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None
                                     else None)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        text = exc.read()
        try:
            return exc.code, json.loads(text)
        except ValueError:
            return exc.code, text.decode(errors="replace")


def upload(url: str, token: str, text: str | bytes, exercise: str = "exercise-1",
           key: str | None = None, filename: str = "mine.py") -> tuple[int, Any]:
    content = text.encode() if isinstance(text, str) else text
    return api(url, token, "POST", "/api/v1/submissions", {
        "exercise": exercise, "idempotency_key": key or uuid.uuid4().hex,
        "filename": filename, "content": base64.b64encode(content).decode()})


def wait_graded(url: str, token: str, ident: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, job = api(url, token, "GET", f"/api/v1/submissions/{ident}")
        assert status == 200, job
        if job["state"] == "graded":
            return dict(job)
        time.sleep(0.2)
    raise AssertionError(f"{ident} not graded within {timeout} s")
