"""Benchmark the TA's console: 3,000 learners x 3 exercises x 10 attempts in the database.

    python bench/console.py [--learners 3000] [--attempts 10] [--repeat 5]

Fills a fresh SQLite database (in a temporary folder) with the course's roster and
submissions whose results are real: each exercise's solution and skeleton graded once
here by `grade exercise-N --json`, then stored as attempts (alternating, seeded), with
a few adjustments and extensions. Then, in this process through Django's test client
(server time: the request's handling, no network), the median and worst of --repeat
requests to the class grid (the page, its live grid.json, filters), a learner's page,
the grade tables (grades.csv, canvas.csv: rendered per request) and the zip of every
export; then the same right after a change (an adjustment posted through the console):
the tables are current at once, the zip answers 202 while it is rebuilt in the
background, and how long that rebuild took.

    python bench/console.py --learners 3000 --repeat 5     # the coordinator's one command

Not a test: the figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def graded(exercise: str, path: Path) -> str:
    done = subprocess.run([str(Path(sys.executable).parent / "grade"), exercise, str(path),
                           "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    json.loads(done.stdout)
    return done.stdout


def fill(learners: int, attempts: int, data: Path) -> tuple[str, int]:
    from django.contrib.auth.models import User
    from django.db import transaction

    from grader.server import store
    from grader.server.accounts import add_staff
    from grader.server.models import Adjustment, Extension, Learner, Submission
    from grader.server.run import register

    course = register("bench", ROOT)
    model_files = sorted((ROOT / "solutions").glob("exercise_*.py"))
    results: dict[str, list[tuple[str, str]]] = {}
    for number, solution in enumerate(model_files, start=1):
        exercise = f"exercise-{number}"
        skeleton = ROOT / "exercises" / solution.name
        results[exercise] = [(store.put(data, p.read_bytes()), graded(exercise, p))
                             for p in (skeleton, solution)]
    rng = random.Random(26)
    start = datetime(2026, 12, 1, tzinfo=timezone.utc)
    with transaction.atomic():
        Learner.objects.bulk_create(
            Learner(course=course, student=f"s{i:05d}", name=f"Learner {i}",
                    section=f"S{i % 12}", token_hash=f"{i:064d}") for i in range(learners))
        people = list(Learner.objects.filter(course=course).order_by("id"))
        jobs = []
        for learner in people:
            for exercise, pair in results.items():
                for n in range(attempts):
                    sha, text = pair[1 if n == attempts - 1 and rng.random() < 0.6 else 0]
                    at = start + timedelta(hours=n, minutes=rng.randrange(60))
                    result = json.loads(text)
                    jobs.append(Submission(
                        course=course, learner=learner, exercise=exercise, sha256=sha,
                        suffix=".py", size=100, idempotency_key=f"{exercise}-{n}",
                        received_at=at, state=Submission.GRADED, graded_at=at, result=text,
                        score=result["score"], counts=True))
            if len(jobs) >= 30_000:
                Submission.objects.bulk_create(jobs, batch_size=2000)
                jobs = []
        Submission.objects.bulk_create(jobs, batch_size=2000)
        now = datetime.now(timezone.utc)
        for learner in people[::100]:
            Adjustment.objects.create(course=course, learner=learner, exercise="exercise-1",
                                      points=5, reason="bench", by="ines", at=now)
            Extension.objects.create(course=course, learner=learner, exercise="exercise-2",
                                     deadline=now + timedelta(days=3), reason="bench",
                                     by="ines", at=now)
    add_staff(course, "ines", "instructor", "bench-password-1")
    assert User.objects.filter(username="ines").exists()
    return course.slug, people[len(people) // 2].id


def reuse() -> tuple[str, int] | None:
    """The course of an earlier run with --data, if that run filled it."""
    from grader.server.models import Course

    course = Course.objects.filter(slug="bench").first()
    if course is None or not course.learners.exists():
        return None
    ids = list(course.learners.order_by("id").values_list("id", flat=True))
    return course.slug, ids[len(ids) // 2]


def timed(client: object, path: str, repeat: int, change: str = "",
          allowed: tuple[int, ...] = (200,)) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of `repeat` requests of `path` (after a POST to `change`
    each, when given). CPU is this process's: the server's work without the machine's
    other load (the zip's builder is a child process, not counted)."""
    found = []
    for n in range(repeat):
        if change:
            client.post(change, {"exercise": "exercise-1", "points": str(n % 5),  # type: ignore[attr-defined]
                                 "reason": f"bench change {n}"})
        began, cpu = time.perf_counter(), time.process_time()
        response = client.get(path)  # type: ignore[attr-defined]
        if response.status_code not in allowed:
            raise SystemExit(f"{path}: {response.status_code}")
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        found.append((time.perf_counter() - began, time.process_time() - cpu))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=3000)
    parser.add_argument("--attempts", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", type=Path, help="keep the database in this folder and "
                        "reuse it when filled (for profiling); default: a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grade-bench-console-") as folder:
        data = args.data or Path(folder)
        data.mkdir(parents=True, exist_ok=True)
        from grader.server.settings import configure, migrate

        configure(data, None)
        migrate()
        began = time.perf_counter()
        slug, learner = reuse() or fill(args.learners, args.attempts, data)
        print(f"{args.learners} learners x 3 exercises x {args.attempts} attempts ready in "
              f"{time.perf_counter() - began:.1f} s")
        from grader.server import facts
        from grader.server.models import Course

        began = time.perf_counter()
        read = facts.sync(Course.objects.get(slug=slug))
        print(f"facts of {read} results stored in {time.perf_counter() - began:.1f} s "
              "(once: migration 0006 does it on upgrade; here the rows came after it)")
        from django.test import Client

        client = Client()
        assert client.login(username="ines", password="bench-password-1")
        for name, path in [("grid page", f"/console/{slug}/"),
                           ("grid.json (live)", f"/console/{slug}/grid.json"),
                           ("grid, one section", f"/console/{slug}/?section=S3"),
                           ("grid, page 20", f"/console/{slug}/?page=20"),
                           ("grid, state=wrong", f"/console/{slug}/?state=wrong"),
                           ("grid, not attempted", f"/console/{slug}/?state=not+attempted"),
                           ("a learner's page", f"/console/{slug}/learner/{learner}/"),
                           ("grades.csv", f"/console/{slug}/export/grades.csv"),
                           ("canvas.csv", f"/console/{slug}/export/canvas.csv")]:
            report(name, timed(client, path, args.repeat), args.repeat)
        # the first request after a change (a TA's adjustment through the console)
        adjust = f"/console/{slug}/learner/{learner}/adjust"
        for name, path in [("grades.csv, changed", f"/console/{slug}/export/grades.csv"),
                           ("canvas.csv, changed", f"/console/{slug}/export/canvas.csv"),
                           ("export.zip, changed", f"/console/{slug}/export.zip")]:
            report(name, timed(client, path, args.repeat, adjust, (200, 202)), args.repeat)
        began = time.perf_counter()
        while client.get(f"/console/{slug}/export.zip").status_code == 202:
            time.sleep(0.2)
        print(f"{'zip rebuilt':<20} in the background in {time.perf_counter() - began:.1f} s "
              "after the last change's first request (a download never waits for it)")
        report("export.zip, current", timed(client, f"/console/{slug}/export.zip",
                                            args.repeat), args.repeat)


def report(name: str, spans: list[tuple[float, float]], repeat: int) -> None:
    rest = spans[1:] or spans
    wall, cpu = [w for w, _ in rest], [c for _, c in rest]
    print(f"{name:<20} first {spans[0][0] * 1000:6.0f} ms, then median "
          f"{statistics.median(wall) * 1000:6.0f} ms (CPU {statistics.median(cpu) * 1000:5.0f}"
          f" ms), worst {max(wall) * 1000:6.0f} ms ({repeat} requests)")


if __name__ == "__main__":
    main()
