"""Benchmark `grade serve`: simulated learners submit over loopback; compare with `grade batch`.

    python bench/server.py [--learners 300] [--window 60] [--jobs 2] [--timeout 600]

Builds a synthetic class (bench/synthetic.py, no infinite loops), then:

- batch: `grade batch` on the class's folder with --jobs workers (wall time, pool
  start-up included): files per second;
- server: `grade serve` (SQLite in a temporary folder, 127.0.0.1, port 0, --jobs
  workers) with the class as its roster; each learner starts at a random moment of
  the first --window seconds (seeded), uploads each of their files through the API,
  and polls until it is graded (backing off like `grade submit`). Measured: every upload
  acknowledged (no 5xx), every file graded, the time from upload to verdict (p50, p99),
  and throughput: files graded per second from the first upload to the last verdict.
  With --window 0 every learner arrives at once: the server's capacity, to set beside
  the batch's.

Bounded: loopback only, at most --learners x 3 files, 64 client threads, --timeout
seconds in all. Not a test: the figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from synthetic import EXERCISES, FILES, build_class, course_copy  # noqa: E402

from grader.cli.submit import pause  # noqa: E402  (poll exactly as grade submit does)

GRADE = [str(Path(sys.executable).with_name("grade"))]


def files_of(folder: Path) -> dict[str, list[tuple[str, Path]]]:
    """learner -> [(exercise, file)] in the synthetic class (missing files left out)."""
    found: dict[str, list[tuple[str, Path]]] = {}
    for student in sorted(p for p in folder.iterdir() if p.is_dir()):
        for exercise in EXERCISES:
            for suffix in (".py", ".ipynb"):
                path = (student / FILES[exercise]).with_suffix(suffix)
                if path.exists():
                    found.setdefault(student.name, []).append((exercise, path))
    return found


def batch(course: Path, folder: Path, out: Path, jobs: int) -> float:
    started = time.perf_counter()
    subprocess.run([*GRADE, "--course", str(course), "batch", str(folder), "--out", str(out),
                    "-j", str(jobs)], check=True, capture_output=True, timeout=900)
    return time.perf_counter() - started


def request(url: str, token: str, method: str, path: str, body: dict[str, str] | None = None
            ) -> tuple[int, dict[str, object]]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {}


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.first = float("inf")
        self.last = 0.0

    def status(self, code: int) -> None:
        with self.lock:
            self.statuses[code] = self.statuses.get(code, 0) + 1


def learner(url: str, token: str, files: list[tuple[str, Path]], start: float, tally: Tally,
            deadline: float) -> None:
    time.sleep(max(0.0, start - time.perf_counter()))
    for exercise, path in files:
        sent = time.perf_counter()
        with tally.lock:
            tally.first = min(tally.first, sent)
        status, job = request(url, token, "POST", "/api/v1/submissions", {
            "exercise": exercise, "idempotency_key": uuid.uuid4().hex, "filename": path.name,
            "content": base64.b64encode(path.read_bytes()).decode()})
        tally.status(status)
        if status not in (200, 201):
            continue
        tick = 0
        while job.get("state") != "graded" and time.perf_counter() < deadline:
            time.sleep(pause(job, tick))
            tick += 1
            status, job = request(url, token, "GET", f"/api/v1/submissions/{job['id']}")
            if status != 200:
                tally.status(status)
                break
        if job.get("state") == "graded":
            done = time.perf_counter()
            with tally.lock:
                tally.latencies.append(done - sent)
                tally.last = max(tally.last, done)


def serve(course: Path, data: Path, roster: Path, jobs: int) -> tuple[subprocess.Popen[str], str]:
    subprocess.run([*GRADE, "--course", str(course), "serve", "roster", str(roster), "--data",
                    str(data)], check=True, capture_output=True)
    process = subprocess.Popen([*GRADE, "--course", str(course), "serve", "--data", str(data),
                                "--port", "0", "-j", str(jobs)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    assert process.stdout is not None
    for line in process.stdout:
        if "listening on " in line:
            threading.Thread(target=lambda: [None for _ in process.stdout or []],
                             daemon=True).start()
            return process, line.split("listening on ")[1].split()[0].rstrip("/")
    raise SystemExit("grade serve did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=300)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--skip-batch", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="grade-bench-server-"))
    try:
        course = course_copy(work / "course", time_limit=10)
        build_class(work / "class", min(args.learners, 300), loops=frozenset())
        everyone = files_of(work / "class")
        count = sum(len(v) for v in everyone.values())
        figures: dict[str, object] = {"learners": len(everyone), "files": count,
                                      "jobs": args.jobs, "window_s": args.window,
                                      "load": os.getloadavg()}
        if not args.skip_batch:
            seconds = batch(course, work / "class", work / "out", args.jobs)
            figures["batch_s"] = round(seconds, 2)
            figures["batch_files_per_s"] = round(count / seconds, 2)
        roster = work / "roster.csv"
        roster.write_text("id\n" + "\n".join(everyone) + "\n")
        process, url = serve(course, work / "data", roster, args.jobs)
        try:
            tokens = dict(line.split(",", 1) for line in
                          (work / "data" / "tokens.csv").read_text().splitlines()[1:])
            tally = Tally()
            rng = random.Random(25)
            begin = time.perf_counter()
            deadline = begin + args.timeout
            with ThreadPoolExecutor(64) as pool:
                for name, files in everyone.items():
                    pool.submit(learner, url, tokens[name], files,
                                begin + rng.uniform(0, args.window), tally, deadline)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(30)
        graded = len(tally.latencies)
        span = tally.last - tally.first
        latencies = sorted(tally.latencies)
        figures.update({
            "statuses": tally.statuses, "graded": graded,
            "server_files_per_s": round(graded / span, 2) if span > 0 else None,
            "p50_s": round(statistics.median(latencies), 2) if latencies else None,
            "p99_s": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 2)
            if latencies else None,
        })
        if "batch_files_per_s" in figures and figures["server_files_per_s"]:
            figures["server_vs_batch"] = round(
                float(figures["server_files_per_s"])  # type: ignore[arg-type]
                / float(figures["batch_files_per_s"]), 2)  # type: ignore[arg-type]
        print(json.dumps(figures, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
