"""Joining shards: check they are one class graded alike, then one class's results."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.batch.executor import worker_uses
from grader.batch.journal import Entry, Key, read_entries
from grader.batch.run import JOURNAL
from grader.batch.shard import ShardError, ShardManifest, read_manifest
from grader.results import ClassResult, StudentResult


@dataclass(frozen=True)
class Merged:
    """The whole class, and the journal entries it was assembled from."""

    result: ClassResult
    entries: dict[Key, Entry]


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
    if b.class_digest != a.class_digest:
        raise ShardError(f"{there} was graded from different submissions than {here} (the "
                         "students or their files differ): grade every shard from one copy")


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


def merge(outdirs: list[Path]) -> Merged:
    """The class graded in the shards in `outdirs`, or a ShardError saying why not."""
    if not outdirs:
        raise ShardError("name the OUTDIR of every shard")
    shards = [(path, read_manifest(path)) for path in outdirs]
    for other in shards[1:]:
        _agree(shards[0], other)
    _check_cover(shards)
    entries: dict[Key, Entry] = {}
    notes: dict[str, list[str]] = {}
    for path, manifest in shards:
        entries.update(_entries(path, manifest))
        notes.update(manifest.notes)
    first = shards[0][1]
    exercises = [e.id for e in first.exercises]
    students = sorted(student for _, m in shards for student in m.fingerprints)
    result = ClassResult(
        course=first.course, exercises=first.exercises, skipped=first.skipped,
        students=[StudentResult(student=s, exercises=[entries[s, e].result for e in exercises])
                  for s in students],
        notes={s: notes[s] for s in students if s in notes},
        workers=worker_uses(e.worker for e in entries.values()))
    return Merged(result, {(s, e): entries[s, e] for s in students for e in exercises})
