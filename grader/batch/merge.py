"""Joining shards: check they are one class graded alike (and with this course), then
one class's results, with what settling them needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from grader.batch.executor import worker_uses
from grader.batch.fingerprint import exercises_digest
from grader.batch.journal import Entry, Key, read_entries
from grader.batch.layouts import Layout
from grader.batch.names import JOURNAL
from grader.batch.run import class_warnings
from grader.batch.shard import Handed, ShardError, ShardManifest, read_manifest
from grader.course import Course
from grader.results import ClassResult, Person, StudentResult


@dataclass(frozen=True)
class Merged:
    """The whole class as graded (scores not yet settled), the journal entries it was
    assembled from, when each student handed in and the hash of each file (what
    grader.batch.regrade.finalise_scores needs), the layout the shards read, and the warnings
    a single run would have given about the class."""

    result: ClassResult
    entries: dict[Key, Entry]
    handed: list[Handed]
    files: dict[Key, str]
    layout: Layout
    warnings: list[str] = field(default_factory=list)


def _agree(first: tuple[Path, ShardManifest], other: tuple[Path, ShardManifest]) -> None:
    """Refuse a shard that was cut or graded differently from the first one."""
    (here, a), (there, b) = first, other
    if b.shards != a.shards:
        raise ShardError(f"{there} is shard {b.label} but {here} is shard {a.label}: they "
                         "split the class into different numbers of shards")
    if b.grader != a.grader:
        raise ShardError(f"{there} was graded with grade {b.grader} but {here} with grade "
                         f"{a.grader}: grade every shard with the same version")
    if b.course_digest != a.course_digest or b.exercises != a.exercises:
        raise ShardError(f"{there} was graded with a different course from {here} (course.yaml, "
                         "the checks, their helper modules or the exercises chosen differ): "
                         "grade every shard with the same course")
    if b.roster != a.roster:
        said = (f"{there} and {here} were graded with different rosters" if a.roster and b.roster
                else f"{there} was graded {_with_roster(b)} but {here} {_with_roster(a)}")
        raise ShardError(f"{said} (the roster decides who the class is, and each export's "
                         "ids): grade every shard with the same --roster")
    if b.class_digest != a.class_digest:
        raise ShardError(f"{there} was graded from different submissions than {here} (the "
                         "students or their files differ): grade every shard from one copy")


def _with_roster(manifest: ShardManifest) -> str:
    return "without --roster" if manifest.roster is None else "with a --roster"


def _check_cover(shards: list[tuple[Path, ShardManifest]]) -> None:
    """Every shard once, every student once."""
    owner: dict[str, Path] = {}
    for path, manifest in shards:
        twice = [s for s in manifest.fingerprints if s in owner]
        if twice:
            shown = ", ".join(twice[:5]) + (f" and {len(twice) - 5} more" if len(twice) > 5
                                              else "")
            raise ShardError(f"{owner[twice[0]]} and {path} both hold student(s) {shown}: pass "
                             "each shard once")
        owner.update(dict.fromkeys(manifest.fingerprints, path))
    count = shards[0][1].shards
    missing = sorted(set(range(1, count + 1)) - {m.shard for _, m in shards})
    if missing:
        names = ", ".join(f"{i}/{count}" for i in missing)
        raise ShardError(f"missing shard{'s' * (len(missing) > 1)} {names}: grade "
                         f"{'them' if len(missing) > 1 else 'it'} with `grade batch ... --shard "
                         f"{missing[0]}/{count}` and pass its OUTDIR too")


def _entries(path: Path, manifest: ShardManifest) -> dict[Key, Entry]:
    """The shard's results for what it planned to grade; refuses an unfinished shard."""
    found, _ = read_entries(path / JOURNAL)
    entries: dict[Key, Entry] = {}
    for student, fingerprints in manifest.fingerprints.items():
        for exercise, fingerprint in fingerprints.items():
            entry = found.get((student, exercise))
            if entry is not None and entry.fingerprint == fingerprint:
                entries[student, exercise] = entry
    planned = sum(map(len, manifest.fingerprints.values()))
    if len(entries) < planned:
        raise ShardError(f"{path} (shard {manifest.label}) is unfinished: {planned - len(entries)}"
                         f" of its {planned} results are missing; run its `grade batch ... "
                         f"--shard {manifest.label}` again to finish it")
    return entries


def _same_course(path: Path, manifest: ShardManifest, course: Course) -> None:
    """Refuse to settle shards with a course other than the one that graded them."""
    exercises = [course.exercise(e.id) for e in manifest.exercises]
    if None in exercises or exercises_digest(
            course, [e for e in exercises if e is not None]) != manifest.course_digest:
        raise ShardError(f"{path} was graded with a different course from {course.root} "
                         "(course.yaml, the checks or their helper modules differ; deadlines "
                         "may): merge from the course the shards were graded with")


def _handed(path: Path, manifest: ShardManifest) -> list[Handed]:
    if manifest.handed is None:
        raise ShardError(f"{path} (shard {manifest.label}) does not record when its students "
                         "handed in, which settling deadlines, extensions and overrides needs "
                         f"(an older grade wrote it): run its `grade batch ... --shard "
                         f"{manifest.label}` again (nothing is graded again)")
    return manifest.handed


def merge(outdirs: list[Path], course: Course) -> Merged:
    """The class graded in the shards in `outdirs` with `course`, or a ShardError
    saying why not."""
    if not outdirs:
        raise ShardError("name the OUTDIR of every shard")
    shards = [(path, read_manifest(path)) for path in outdirs]
    for other in shards[1:]:
        _agree(shards[0], other)
    _check_cover(shards)
    _same_course(*shards[0], course)
    entries: dict[Key, Entry] = {}
    notes: dict[str, list[str]] = {}
    handed: dict[str, Handed] = {}
    people: dict[str, Person] = {}
    strangers: list[str] = []
    for path, manifest in shards:
        entries.update(_entries(path, manifest))
        notes.update(manifest.notes)
        handed.update((h.id, h) for h in _handed(path, manifest))
        people.update(manifest.people)
        strangers += manifest.not_on_roster
    first = shards[0][1]
    exercises = [e.id for e in first.exercises]
    students = sorted(student for _, m in shards for student in m.fingerprints)
    strangers.sort()
    result = ClassResult(
        course=first.course, exercises=first.exercises, skipped=first.skipped,
        students=[StudentResult(student=s, exercises=[entries[s, e].result for e in exercises])
                  for s in students],
        notes={s: notes[s] for s in students if s in notes},
        people={s: people[s] for s in students if s in people}, not_on_roster=strangers,
        workers=worker_uses(e.worker for e in entries.values()))
    return Merged(result, {(s, e): entries[s, e] for s in students for e in exercises},
                  handed=[handed[s] for s in students],
                  files={(s, e): f for s in students for e, f in handed[s].files.items()},
                  layout=first.layout,
                  warnings=class_warnings(first.skipped, [n for s in students
                                                          for n in notes.get(s, [])], strangers))
