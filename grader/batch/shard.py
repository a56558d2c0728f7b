"""Shards: a stable, balanced share of a class, for schedulers that run plain commands.

`grade batch ... --shard I/N` grades share I of N (Slurm array jobs, Kubernetes
Indexed Jobs, CI matrices); every shard process computes the same split on its
own, from the class alone, and records what it graded in OUTDIR/shard.json so that
`grade merge` can check the shards belong together.
"""

from __future__ import annotations

import hashlib
import heapq
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import Field, ValidationError

from grader.atomic import write_atomic
from grader.batch.layouts import Layout
from grader.batch.names import MANIFEST as MANIFEST  # re-exported: callers import it here
from grader.models import Model
from grader.results import ExerciseInfo, Person, Skipped


class ShardError(Exception):
    """Shards that cannot be used (as asked, or together); the message says why."""


@dataclass(frozen=True)
class Shard:
    """Share `index` (1-based) of `count`."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        found = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not found:
            raise ShardError(f"--shard {text!r}: write I/N, e.g. 1/3 for the first of 3 shards")
        index, count = int(found[1]), int(found[2])
        if not 1 <= index <= count:
            raise ShardError(f"--shard {text}: I must be between 1 and N (shards are numbered "
                             f"from 1; a Kubernetes completion index needs +1)")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def _hash(student: str) -> str:
    return hashlib.sha256(student.encode("utf-8", "surrogateescape")).hexdigest()


def partition(files: dict[str, int], count: int) -> list[list[str]]:
    """The students split into `count` shards holding nearly equal numbers of files.

    Biggest first, each student goes to the shard with the fewest files so far
    (then the fewest students); ties are broken by a hash of the id, so a shard is
    not a run of neighbouring names and the split depends on nothing but the class.
    """
    shards: list[list[str]] = [[] for _ in range(count)]
    loads = [(0, 0, index) for index in range(count)]  # (files, students, shard)
    for student in sorted(files, key=lambda s: (-files[s], _hash(s))):
        taken, students, index = heapq.heappop(loads)
        shards[index].append(student)
        heapq.heappush(loads, (taken + files[student], students + 1, index))
    return [sorted(share) for share in shards]


def class_digest(files: dict[str, int]) -> str:
    """What every shard of one class must agree on: each student id and file count."""
    digest = hashlib.sha256()
    for student in sorted(files):
        digest.update(f"{student}\0{files[student]}\0".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


class Handed(Model):
    """One student of a shard as settling their scores needs them (grader.batch.regrade):
    what the download recorded of when they handed in, and the hash of each file."""

    id: str
    times: dict[str, datetime] = Field(
        default_factory=dict, description="exercise id -> when its file was handed in")
    late: bool = Field(False, description="the LMS marks the work late but records no time")
    files: dict[str, str] = Field(
        default_factory=dict, description="exercise id -> hash of the file alone (or of why "
        "there is none): state.json's `file`")


class ShardManifest(Model):
    """shard.json: what one shard graded, and from what."""

    shard: int
    shards: int
    grader: str = Field(description="the grade version that graded it")
    course: str = Field(description="the course title")
    course_digest: str = Field(description="course.yaml, checks and helpers, and grader version")
    class_digest: str = Field(description="every student id of the whole class and its files")
    exercises: list[ExerciseInfo]
    skipped: list[Skipped] = Field(default_factory=list)
    notes: dict[str, list[str]] = Field(default_factory=dict)
    fingerprints: dict[str, dict[str, str]] = Field(
        description="this shard's students, in order: exercise id -> result fingerprint")
    # What `grade merge` needs to settle the class as one run would (deadlines,
    # extensions, overrides, state.json) and to fill the exports' id columns. None: the
    # shard was graded by a grade that did not record it, and must be graded again.
    handed: list[Handed] | None = Field(
        None, description="this shard's students: submission times, late marks, file hashes")
    layout: Layout = Field(Layout.FOLDERS, description="the layout the download was read as")
    people: dict[str, Person] = Field(
        default_factory=dict, description="who each student is (roster, LMS download)")
    not_on_roster: list[str] = Field(default_factory=list, description="graded all the same")
    roster: str | None = Field(None, description="the --roster's digest (grader/batch/"
                               "roster.py, roster_digest); null: graded without one")

    @property
    def label(self) -> str:
        return f"{self.shard}/{self.shards}"


def write_manifest(outdir: Path, manifest: ShardManifest | None) -> None:
    """Write shard.json, or remove a stale one when the batch is not a shard."""
    path = outdir / MANIFEST
    if manifest is None:
        path.unlink(missing_ok=True)
    else:
        write_atomic(path, manifest.model_dump_json(indent=1) + "\n")


def read_manifest(outdir: Path) -> ShardManifest:
    path = outdir / MANIFEST
    if not path.is_file():
        raise ShardError(f"{outdir} holds no {MANIFEST}: it was not graded with "
                         "`grade batch ... --shard I/N`")
    try:
        return ShardManifest.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        raise ShardError(f"{path} cannot be read ({type(exc).__name__}); grade that shard "
                         "again") from None
