"""The class list (`--roster roster.csv`): who should have handed in, and the ids
each export needs (email and ID number for Moodle, SIS ids and section for Canvas).

A submitter is matched to a roster row by the download's id, then by email (then by
SIS id where the download's id is one: Gradescope's SID); the roster's id then
names the student everywhere. A row gets at most one submitter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from pydantic import ConfigDict, Field

from grader.batch.discover import StudentFolder, collision_key, id_problem
from grader.batch.discover import people_of as people_of  # re-exported: it was here
from grader.batch.tables import TableError, read_table
from grader.course.match import Problem
from grader.learner_text import inert
from grader.models import Model
from grader.results import Person, Skipped

ALIASES = {"student": "id", "student_id": "id", "login": "id", "username": "id",
           "full_name": "name", "email_address": "email", "sis_user_id": "sis_id",
           "id_number": "sis_id", "sis_login_id": "sis_login"}


class RosterRow(Model):
    """One line of roster.csv: `id` as the download names the student."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    name: str = ""
    email: str = ""
    sis_id: str = Field("", description="SIS User ID (Canvas), ID number (Moodle)")
    sis_login: str = Field("", description="SIS Login ID (Canvas)")
    section: str = ""

    def person(self) -> Person:
        return Person(name=self.name, email=self.email, sis_id=self.sis_id,
                      sis_login=self.sis_login, section=self.section)


def check_ids(ids: list[tuple[int, str]], path: Path | None, what: str = "student") -> None:
    """Refuse `path` (a roster, extensions.csv, overrides.csv) when an id in it (with its
    line number) could not name a student: the same checks a download's ids get, as
    the id names files in OUTDIR (`../../tmp/x` must never)."""
    for line, name in ids:
        problem = id_problem(name)
        if problem:
            raise TableError(f"{path}, line {line}: {what} {inert(name)!r} cannot be an id: "
                             f"{problem}")


def read_roster(path: Path) -> list[RosterRow]:
    rows = read_table(path, RosterRow, ALIASES)
    check_ids([(n, row.id) for n, row in enumerate(rows, 2)], path)
    seen: dict[str, str] = {}
    for row in rows:
        key = collision_key(row.id)
        if key in seen:
            same = "listed twice" if seen[key] == row.id else f"the same id as {seen[key]!r}"
            raise TableError(f"{path}: student {row.id!r} is {same}")
        seen[key] = row.id
    return rows


def roster_digest(rows: list[RosterRow]) -> str:
    """What every shard of one class must agree on about its roster: its rows, in any
    order (shard.json's `roster`)."""
    lines = sorted(row.model_dump_json() for row in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _row_of(student: StudentFolder, rows: list[RosterRow], by_sis_id: bool
            ) -> RosterRow | None:
    """The roster row of a submitter: by the download's id; then by email; then, only
    where the download's id is a SIS id (Gradescope's SID), by SIS id."""
    by_id = {r.id: r for r in rows}
    if student.id in by_id:
        return by_id[student.id]
    email = student.email.casefold()
    return next((r for r in rows if (email and r.email.casefold() == email)
                 or (by_sis_id and r.sis_id and r.sis_id == student.id)), None)


def _claims(students: list[StudentFolder], rows: list[RosterRow], by_sis_id: bool
            ) -> tuple[dict[str, list[StudentFolder]], list[StudentFolder]]:
    """The submitters that claim each roster row, and those on no row."""
    claims: dict[str, list[StudentFolder]] = {}
    strangers = []
    for student in students:
        row = _row_of(student, rows, by_sis_id)
        if row is None:
            strangers.append(student)
        else:
            claims.setdefault(row.id, []).append(student)
    return claims, strangers


def _contested(row: RosterRow, claimants: list[StudentFolder], nowhere: Path,
               exercises: list[str]) -> tuple[StudentFolder, list[Skipped]]:
    """A roster row two submitters claim: neither is graded as that student (a guess
    could put one's grade on the other), and the row's every exercise says why."""
    names = ", ".join(repr(c.id) for c in claimants)
    why = (f"{len(claimants)} submissions claim roster student {row.id!r} ({names}): "
           "neither is graded as them; fix the roster or the download and run again")
    problem = Problem(why, "ambiguous")
    student = StudentFolder(row.id, nowhere / row.id, (f"{row.id}: {why}",),
                            problems=dict.fromkeys(exercises, problem))
    return student, [Skipped(name=c.id, reason=why) for c in claimants]


def join_roster(students: list[StudentFolder], rows: list[RosterRow], nowhere: Path,
                exercises: Sequence[str] = (), by_sis_id: bool = False
                ) -> tuple[list[StudentFolder], dict[str, Person], list[str], list[Skipped]]:
    """The students to grade (submitters under their roster id, then roster students
    with nothing handed in, who live at `nowhere`), who each one is, the ids of
    submitters missing from the roster (graded all the same), and the submitters
    refused because another submitter claims the same roster row (each row gets at
    most one)."""
    people: dict[str, Person] = {}
    joined: dict[str, StudentFolder] = {}
    refused: list[Skipped] = []
    claims, strangers = _claims(students, rows, by_sis_id)
    for student in strangers:
        people[student.id] = Person(name=student.name, email=student.email, on_roster=False)
        joined[student.id] = student
    for row in rows:
        people[row.id] = row.person()
        claimants = claims.get(row.id, [])
        if len(claimants) > 1:
            joined[row.id], more = _contested(row, claimants, nowhere, list(exercises))
            refused += more
        elif claimants:
            joined[row.id] = replace(claimants[0], id=row.id)
        else:
            joined[row.id] = StudentFolder(row.id, nowhere / row.id)
    return (sorted(joined.values(), key=lambda s: s.id), people, [s.id for s in strangers],
            refused)
