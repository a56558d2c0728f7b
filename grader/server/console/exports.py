"""Exports from the database with the console's adjustments and extensions: the
server's class result, settled by the batch's own code, written by the export registry.
The grade tables are rendered per request from stored columns; the zip of everything is
built in the background once per version of the data, so no request waits for it."""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db.models import Count, Max

from grader.batch.adjust import Adjuster, Override
from grader.batch.adjust import Extension as ExtensionRow
from grader.batch.changes import STATE
from grader.batch.regrade import Settled, finalise_scores
from grader.reports.export import Options, text_of, write_exports
from grader.results import ClassResult, Person, StudentResult
from grader.server import review
from grader.server.export import class_result, counted_columns, infos, light_results
from grader.server.models import Course, Event
from grader.server.views import course_of

TABLES = ("grades.csv", "canvas.csv")  # what reads only points: from stored columns
FREEZE = 1000  # students settled at once (a cold start) after which the heap is frozen
_building: dict[int, threading.Thread] = {}  # course id -> its zip's builder
_lock = threading.Lock()
failed: dict[int, str] = {}  # course id -> why its last zip build failed


def _overrides(course: Course, graded: ClassResult) -> list[Override]:
    """The console's rubric marks and adjustments as overrides.csv lines, in that order."""
    scores = {(s.student, e.exercise): (e.score, e.max_score)
              for s in graded.students for e in s.exercises if e.submitted}
    return [*review.rubric(course, scores), *review.overrides(course)]


def settled(course: Course, outdir: Path) -> Settled:
    """Final scores as `grade batch` makes them, with the console's overrides and
    extensions as if they were lines of overrides.csv and extensions.csv."""
    graded, handed, files = class_result(course)
    outdir.mkdir(parents=True, exist_ok=True)
    return finalise_scores(course_of(course.root), graded, handed, files, outdir,
                           extensions=review.extensions(course),
                           overrides=_overrides(course, graded))


@dataclass(frozen=True)
class _Kept:
    """A student's settled results and what they were settled from."""

    key: Hashable
    student: StudentResult
    person: Person


PERSON = ("student", "name", "email", "sis_id", "sis_login", "section")
_settled: dict[int, dict[str, _Kept]] = {}  # course id -> student -> settled (light) results
_tables: dict[tuple[int, str], tuple[str, str]] = {}  # (course id, name) -> (version, text)


def table(course: Course, name: str) -> str:
    """One grade table (TABLES) as the zip holds it, rendered now by its registry entry
    from the counted results' stored columns, settled by the batch's Adjuster. A
    student is settled again only when their results, rows or course.yaml changed."""
    made_for = version(course)
    last = _tables.get((course.id, name))
    if last is not None and last[0] == made_for:
        return last[1]
    text = text_of(name, _light_settled(course, made_for), Options())
    _tables[course.id, name] = (made_for, text)
    return text


def _light_settled(course: Course, made_for: str) -> ClassResult:
    model = course_of(course.root)
    digest = made_for.rsplit("-", 1)[1] + model.counts
    jobs = counted_columns(course)
    scores = {(student, e): (j.score or 0.0, j.max_score or 0.0)
              for student, found in jobs.items() for e, j in found.items()}
    overrides: list[Override] = [*review.rubric(course, scores), *review.overrides(course)]
    extensions: list[ExtensionRow] = review.extensions(course)
    rows: dict[str, list[Override | ExtensionRow]] = {}
    both: list[Override | ExtensionRow] = [*overrides, *extensions]
    for row in both:
        rows.setdefault(row.student, []).append(row)
    learners = list(course.learners.order_by("student").values_list(*PERSON))
    kept = _settled.setdefault(course.id, {})
    by_check = {(o.student, o.exercise) for o in overrides if o.check}
    checked = {student for student, _ in by_check}  # their checks are read: settled anew
    # a regrade changes the columns it reads; a submission's time never changes
    keys = {x[0]: (digest, x, repr(rows[x[0]]) if x[0] in rows else "",
                   tuple(sorted(jobs.get(x[0], {}).values()))) for x in learners}
    stale = [x[0] for x in learners if x[0] not in kept or kept[x[0]].key != keys[x[0]]
             or x[0] in checked]
    if stale:
        graded, handed = light_results(course, stale, jobs, by_check)
        adjuster = Adjuster(model, extensions, overrides)
        fields = {x[0]: dict(zip(PERSON[1:], x[1:])) for x in learners}
        for student in adjuster.apply(graded, handed).students:
            kept[student.student] = _Kept(keys[student.student], student,
                                          Person.model_construct(**fields[student.student]))
        if len(stale) >= FREEZE:
            # The class's settled results live as long as the server: out of the cyclic
            # collector's way, a later request is not charged a full collection that
            # walks them (one took 100-200 ms at 3,000 learners).
            gc.freeze()
    return ClassResult.model_construct(
        course=model.title, exercises=infos(course),
        people={x[0]: kept[x[0]].person for x in learners},
        students=[kept[x[0]].student for x in learners])


def export(course: Course, outdir: Path) -> list[Path]:
    """Write what `grade batch` writes into `outdir`, from the database."""
    return write_exports(outdir, settled(course, outdir).result)


def version(course: Course) -> str:
    """What the exports depend on, in cheap queries: every grading, adjustment, extension
    and publication appends a ledger event, so the newest event's id moves whenever an
    export would change; the roster and course.yaml (deadlines, late policy) too."""
    newest = Event.objects.filter(course=course).aggregate(Max("id"))["id__max"] or 0
    roster = course.learners.aggregate(n=Count("id"), top=Max("id"))
    settings = hashlib.sha256((Path(course.root) / "course.yaml").read_bytes()).hexdigest()
    return f"{newest}-{roster['n']}-{roster['top']}-{settings[:16]}"


def _path(course: Course, data: Path, made_for: str) -> Path:
    return data / "console-exports" / f"{course.slug}-{made_for}.zip"


def archive(course: Course, data: Path) -> Path:
    """The zip of every export, made at most once per version of the course's data
    (a class of 3,000 takes tens of seconds to export; asking again is instant). The
    version is read before the data: a zip never claims a newer version than it holds."""
    path = _path(course, data, version(course))
    if path.exists():
        return path
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / f"{course.slug}.state.json"  # the last zip's run state (batch's)
    with tempfile.TemporaryDirectory(prefix="grade-export-", dir=folder) as work:
        out = Path(work) / "out"
        out.mkdir()
        if kept.exists():  # so the batch's own code writes changes.md/.csv since that zip
            shutil.copy(kept, out / STATE)
        written = export(course, out)
        if (out / "changes.csv").exists():
            for name in ("changes.md", "changes.csv"):
                os.replace(out / name, folder / f"{course.slug}-{name}")
        os.replace(out / STATE, kept)
        made = Path(work) / "made.zip"
        with zipfile.ZipFile(made, "w", zipfile.ZIP_DEFLATED) as zipped:
            for file in sorted(written):
                zipped.write(file, str(file.relative_to(Path(work) / "out")))
        os.replace(made, path)  # whole or absent: a reader never sees half a zip
    for old in folder.glob(f"{course.slug}-*.zip"):
        if old != path:
            old.unlink(missing_ok=True)
    return path


def changes(course: Course, data: Path) -> tuple[list[list[str]], str]:
    """The rows of changes.csv between the last two zips (the batch's compare: a regrade,
    an adjustment, a late upload), and changes.md's text; nothing before a second zip."""
    folder = data / "console-exports"
    table = folder / f"{course.slug}-changes.csv"
    if not table.exists():
        return [], ""
    rows = list(csv.reader(io.StringIO(table.read_text(encoding="utf-8"))))
    return rows, (folder / f"{course.slug}-changes.md").read_text(encoding="utf-8")


def _database_url() -> str | None:
    """This server's --db URL (None: SQLite in the data folder), for the builder."""
    db = settings.DATABASES["default"]
    if "postgresql" not in db["ENGINE"]:
        return None
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return (f"postgresql://{quote(db['USER'], safe='')}:{quote(db['PASSWORD'], safe='')}"
            f"@{db['HOST']}{port}/{db['NAME']}")


def _build(course: int, data: Path) -> None:
    """Build `course`'s zip in a child process (its password on stdin, never argv)."""
    given = json.dumps({"data": str(data), "db": _database_url(), "course": course})
    done = subprocess.run([sys.executable, "-m", "grader.server.console.build"], input=given,
                          text=True, capture_output=True, timeout=3600, check=False)
    if done.returncode != 0:  # shown on the exports page until a build succeeds
        failed[course] = (done.stderr.strip().splitlines() or ["no message"])[-1][:500]
    else:
        failed.pop(course, None)


def current(course: Course, data: Path) -> Path | None:
    """The zip of the data as it is now, or None while it is being (re)built: then a
    build is under way in the background (started here if none is)."""
    path = _path(course, data, version(course))
    if path.exists():
        return path
    with _lock:
        running = _building.get(course.id)
        if running is None or not running.is_alive():
            # the thread only waits for the builder's process
            running = threading.Thread(target=_build, args=(course.id, data), daemon=True,
                                       name=f"export-{course.slug}")
            _building[course.id] = running
            running.start()
    return None


def member(path: Path, name: str) -> bytes | None:
    """One file of a built zip, or None if the zip holds no such file."""
    with zipfile.ZipFile(path) as zipped:
        return zipped.read(name) if name in zipped.namelist() else None
