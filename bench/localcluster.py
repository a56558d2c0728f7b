"""A real Dask cluster on localhost: a `dask scheduler` and `dask worker` processes.

Used by bench/dask_cluster.py and tests/test_cluster.py. Everything listens on
127.0.0.1 with ports the system picks; each process runs in its own session, so
stopping it stops what it started (the nanny's worker process, its sandboxes).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType


def stop(process: subprocess.Popen[bytes]) -> None:
    """End a process we started, and everything in its session: politely, then not."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            continue
        try:
            os.killpg(process.pid, signal.SIGKILL)  # stragglers of the session
        except ProcessLookupError:
            pass
        return


class LocalCluster:
    """`with LocalCluster(folder, workers=2) as cluster:` cluster.address, cluster.client.

    `config` sets Dask configuration in every process's environment, e.g.
    {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}.
    """

    def __init__(self, folder: Path, workers: int, threads: int = 1,
                 config: dict[str, str] | None = None) -> None:
        self.folder = folder
        self.workers = workers
        self.threads = threads
        self.config = config or {}
        self.processes: list[subprocess.Popen[bytes]] = []
        self.address = ""
        self.client = None

    def _start(self, name: str, *args: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        log = (self.folder / f"{name}.log").open("wb")
        self.processes.append(subprocess.Popen(
            [sys.executable, "-m", "dask", *args], stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.folder,
            env={**os.environ, **self.config}))

    def __enter__(self) -> LocalCluster:
        from distributed import Client

        try:
            scheduler_file = self.folder / "scheduler.json"
            self._start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0",
                        "--no-dashboard", "--scheduler-file", str(scheduler_file))
            deadline = time.monotonic() + 120
            while not self.address:
                if time.monotonic() > deadline or self.processes[0].poll() is not None:
                    raise RuntimeError(f"dask scheduler did not start: see {self.folder}")
                time.sleep(0.1)
                try:
                    self.address = json.loads(scheduler_file.read_text())["address"]
                except (OSError, ValueError, KeyError):
                    continue  # not written yet, or not whole yet
            for index in range(1, self.workers + 1):
                self._start(f"worker{index}", "worker", self.address, "--host", "127.0.0.1",
                            "--nthreads", str(self.threads), "--no-dashboard",
                            "--name", f"w{index}",
                            "--local-directory", str(self.folder / f"w{index}"))
            self.client = Client(self.address, timeout=120, set_as_default=False)
            self.ready()
        except BaseException:
            self.close()
            raise
        return self

    def ready(self) -> None:
        """Wait until every worker is connected (again, after one was killed)."""
        assert self.client is not None
        self.client.wait_for_workers(self.workers, timeout=120)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        for process in reversed(self.processes):
            stop(process)
        self.processes.clear()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()
