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

Printed: the figures as JSON, then one line to compare runs by (server/batch ratio,
p50, p99, 5xx, uploads with no answer, graded, CPU per file, statements, commits and
looks per file, load average). For the coordinator's quiet-machine check:
`python bench/server.py --learners 300 --window 0 --timeout 300`.
--regrade also times `grade serve regrade` of every file (grading alone, no HTTP);
--profile FILE samples the server's GIL holder with py-spy (pip install py-spy).

On a loaded machine the rates say little; what each graded file costs does not
depend on the load: the CPU of the batch (its process and workers) against that of
the server process, its workers and the simulated learners (this process, which
shares the machine), in ms per file, and the server's SQL statements and commits per
file (GRADE_SERVE_STATS=FILE makes the server count them, by thread).

Bounded: loopback only, at most --learners x 3 files, 64 client threads, --timeout
seconds in all. Not a test: the figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import resource
import shutil
import signal
import sqlite3
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
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from synthetic import EXERCISES, FILES, build_class, course_copy  # noqa: E402

from grader.cli.submit import UPLOAD_WAIT, look  # noqa: E402  (as grade submit does)

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


def batch(course: Path, folder: Path, out: Path, jobs: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the batch and its workers)."""
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([*GRADE, "--course", str(course), "batch", str(folder), "--out", str(out),
                    "-j", str(jobs)], check=True, capture_output=True, timeout=900)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return time.perf_counter() - started, cpu


def request(url: str, token: str, method: str, path: str, body: dict[str, str] | None = None
            ) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {}
    except (OSError, ValueError):  # no answer at all (refused, reset, timed out): counted as 0
        return 0, {}


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.polls = 0
        self.first = float("inf")
        self.last = 0.0

    def status(self, code: int) -> None:
        with self.lock:
            self.statuses[code] = self.statuses.get(code, 0) + 1


def follow(url: str, token: str, job: dict[str, Any], tally: Tally, deadline: float
           ) -> dict[str, Any]:
    """Look at `job` until it is graded (or the run's time is up), as `grade submit` does."""
    answer = [200]

    def get(where: str, wait: float) -> dict[str, Any]:
        answer[0], found = request(url, token, "GET", where)
        return found

    tick = 0
    while job.get("state") != "graded" and time.perf_counter() < deadline:
        job = look(get, job, tick)
        tick += 1
        with tally.lock:
            tally.polls += 1
        if answer[0] != 200:
            tally.status(answer[0])
            break
    return job


def learner(url: str, token: str, files: list[tuple[str, Path]], start: float, tally: Tally,
            deadline: float, upload_wait: float = UPLOAD_WAIT) -> None:
    time.sleep(max(0.0, start - time.perf_counter()))
    for exercise, path in files:
        sent = time.perf_counter()
        with tally.lock:
            tally.first = min(tally.first, sent)
        status, job = request(url, token, "POST", f"/api/v1/submissions?wait={upload_wait}", {
            "exercise": exercise, "idempotency_key": uuid.uuid4().hex, "filename": path.name,
            "content": base64.b64encode(path.read_bytes()).decode()})
        tally.status(status)
        if status not in (200, 201):
            continue
        job = follow(url, token, job, tally, deadline)
        if job.get("state") == "graded":
            done = time.perf_counter()
            with tally.lock:
                tally.latencies.append(done - sent)
                tally.last = max(tally.last, done)


def serve(course: Path, data: Path, roster: Path, jobs: int, profile: Path | None,
          stats: Path) -> tuple[subprocess.Popen[str], str]:
    subprocess.run([*GRADE, "--course", str(course), "serve", "roster", str(roster), "--data",
                    str(data)], check=True, capture_output=True)
    # --profile: py-spy samples the server (its process only: the workers are the batch's),
    # the thread holding the GIL only: where its Python CPU goes, not its threads' waits
    spy = ["py-spy", "record", "--nonblocking", "--gil", "-r", "50", "-f", "raw", "-o",
           str(profile), "--"] if profile else []
    process = subprocess.Popen([*spy, *GRADE, "--course", str(course), "serve", "--data",
                                str(data), "--port", "0", "-j", str(jobs)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True,
                               env={**os.environ, "GRADE_SERVE_STATS": str(stats)})
    assert process.stdout is not None
    for line in process.stdout:
        if "listening on " in line:
            threading.Thread(target=lambda: [None for _ in process.stdout or []],
                             daemon=True).start()
            return process, line.split("listening on ")[1].split()[0].rstrip("/")
    raise SystemExit("grade serve did not start")


def _tree(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += _tree(int(child))
    return found


def cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) so far of the server process and of its workers (its
    descendants, sandboxes included): where the machine's time went."""
    tick = os.sysconf("SC_CLK_TCK")
    spent = {"server": 0.0, "server_system": 0.0, "workers": 0.0}
    for n, each in enumerate(_tree(pid)):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime of the process, and of its waited-for children (finished boxes)
        used = sum(int(f) for f in fields[11:15]) / tick
        spent["workers" if n else "server"] += used
        if not n:  # the kernel's share of the server's: sockets, syncs, threads waking
            spent["server_system"] += int(fields[12]) / tick
    return spent


def server_pid(process: subprocess.Popen[str], profiled: bool) -> int:
    """The server's process id: under py-spy, py-spy's child (py-spy is not the server)."""
    if not profiled:
        return process.pid
    return int(Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()[0])


def server_side(data: Path) -> dict[str, object]:
    """From the server's database: upload-to-graded times as the server saw them (no
    polling in them) and the rate it graded at, first upload to last verdict."""
    with sqlite3.connect(data / "grade.sqlite3") as db:
        rows = db.execute("select julianday(received_at), julianday(graded_at) from "
                          "server_submission where state='graded'").fetchall()
    if not rows:
        return {}
    spans = sorted((g - r) * 86400 for r, g in rows)
    span = (max(g for _, g in rows) - min(r for r, _ in rows)) * 86400
    return {"server_side_p50_s": round(statistics.median(spans), 2),
            "server_side_files_per_s": round(len(rows) / span, 2) if span > 0 else None}


def regrade(course: Path, data: Path, timeout: float) -> float | None:
    """`grade serve regrade` of every graded file while the server runs: files regraded
    per second, with no HTTP traffic (the grading pipeline alone, beside the batch)."""
    def regraded() -> int:
        with sqlite3.connect(data / "grade.sqlite3") as db:
            return int(db.execute("select count(*) from server_event where kind='regraded'")
                       .fetchone()[0])

    started = time.perf_counter()
    done = subprocess.run([*GRADE, "--course", str(course), "serve", "regrade", "--data",
                           str(data), "--by", "bench", "--why", "bench"], check=True,
                          capture_output=True, text=True)
    count = int(done.stdout.split(": ")[1].split()[0])
    while regraded() < count and time.perf_counter() - started < timeout:
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    return round(regraded() / seconds, 2) if regraded() == count else None


def stop(process: subprocess.Popen[str], profiled: bool) -> None:
    """SIGTERM to the server (under py-spy: to its child only, so py-spy writes its file)."""
    if profiled:
        for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split():
            os.kill(int(pid), signal.SIGTERM)
    else:
        os.killpg(process.pid, signal.SIGTERM)
    process.wait(60)


def per_file(cpu: dict[str, float], idle: dict[str, float], stats: Path, graded: int
             ) -> dict[str, Any]:
    """What each graded file cost the server, whatever the machine's load: its own CPU
    (HTTP, database; from the first upload on), the workers' and the simulated
    learners' (this process: they share the machine), in ms, and the server's SQL
    statements and commits (GRADE_SERVE_STATS: counted by the server, SQLite)."""
    if not graded:
        return {}
    found: dict[str, Any] = {
        f"{part}_cpu_ms_per_file": round(1000 * (cpu[part] - idle[part]) / graded, 1)
        for part in ("server", "server_system", "workers", "client")}
    if stats.exists():
        counts = json.loads(stats.read_text())
        found["queries_per_file"] = round(counts.get("statements", 0) / graded, 2)
        found["commits_per_file"] = round(counts.get("commits", 0) / graded, 2)
        found["by_thread_per_file"] = {key: round(n / graded, 2) for key, n in
                                       sorted(counts.items()) if "_" in key}
    return found


def summary(figures: dict[str, Any]) -> str:
    """The one line to compare runs by."""
    return (f"server/batch {figures.get('server_vs_batch')}x "
            f"({figures.get('server_files_per_s')} vs {figures.get('batch_files_per_s')} "
            f"files/s) | p50 {figures.get('p50_s')} s | p99 {figures.get('p99_s')} s | "
            f"5xx {figures['5xx']} | no answer {figures['no_answer']} | graded "
            f"{figures['graded']}/{figures['files']} | CPU ms per file: batch "
            f"{figures.get('batch_cpu_ms_per_file')}, server "
            f"{figures.get('server_cpu_ms_per_file')} (kernel "
            f"{figures.get('server_system_cpu_ms_per_file')}) + workers "
            f"{figures.get('workers_cpu_ms_per_file')} + learners "
            f"{figures.get('client_cpu_ms_per_file')} | per file {figures.get('queries_per_file')}"
            f" queries, {figures.get('commits_per_file')} commits, "
            f"{round(figures['polls'] / max(figures['graded'], 1), 2)} looks | "
            f"load {figures['load']}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=300)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--skip-batch", action="store_true")
    parser.add_argument("--regrade", action="store_true",
                        help="then time `grade serve regrade` of every file (no HTTP)")
    parser.add_argument("--upload-wait", type=float, default=UPLOAD_WAIT,
                        help="seconds the upload asks the server to wait for its verdict "
                             "(default: grade submit's; 0: none, as before)")
    parser.add_argument("--profile", type=Path, help="py-spy's samples of the server (raw "
                        "folded stacks) to this file")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="grade-bench-server-"))
    try:
        course = course_copy(work / "course", time_limit=10)
        build_class(work / "class", min(args.learners, 300), loops=frozenset())
        everyone = files_of(work / "class")
        count = sum(len(v) for v in everyone.values())
        figures: dict[str, Any] = {"learners": len(everyone), "files": count,
                                      "jobs": args.jobs, "window_s": args.window,
                                      "load": [round(x, 2) for x in os.getloadavg()]}
        if not args.skip_batch:
            seconds, cpu_batch = batch(course, work / "class", work / "out", args.jobs)
            figures["batch_s"] = round(seconds, 2)
            figures["batch_cpu_s"] = round(cpu_batch, 1)
            figures["batch_cpu_ms_per_file"] = round(1000 * cpu_batch / count, 1)
            figures["batch_files_per_s"] = round(count / seconds, 2)
        roster = work / "roster.csv"
        roster.write_text("id\n" + "\n".join(everyone) + "\n")
        stats = work / "stats.json"
        process, url = serve(course, work / "data", roster, args.jobs, args.profile, stats)
        pid = server_pid(process, bool(args.profile))
        idle = cpu_seconds(pid)  # start-up's CPU: not the files'
        idle["client"] = sum(os.times()[:2])
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
                                begin + rng.uniform(0, args.window), tally, deadline,
                                args.upload_wait)
            cpu = cpu_seconds(pid)
            figures.update(server_side(work / "data"))
            if args.regrade:
                figures["regrade_files_per_s"] = regrade(course, work / "data", args.timeout)
        finally:
            stop(process, args.profile is not None)
        cpu["client"] = sum(os.times()[:2])  # the simulated learners (this process)
        figures["cpu_s"] = {k: round(v, 1) for k, v in cpu.items()}
        graded = len(tally.latencies)
        figures.update(per_file(cpu, idle, stats, graded))
        span = tally.last - tally.first
        latencies = sorted(tally.latencies)
        figures.update({
            "statuses": tally.statuses, "polls": tally.polls, "graded": graded,
            "server_files_per_s": round(graded / span, 2) if span > 0 else None,
            "p50_s": round(statistics.median(latencies), 2) if latencies else None,
            "p99_s": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 2)
            if latencies else None,
        })
        if "batch_files_per_s" in figures and figures["server_files_per_s"]:
            figures["server_vs_batch"] = round(
                float(figures["server_files_per_s"])
                / float(figures["batch_files_per_s"]), 2)
        figures["5xx"] = sum(n for code, n in tally.statuses.items() if code >= 500)
        figures["no_answer"] = tally.statuses.get(0, 0)
        print(json.dumps(figures, indent=1))
        print(summary(figures))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
