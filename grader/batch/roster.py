"""The class list (`--roster roster.csv`): who should have handed in, and the ids
each export needs (email and ID number for Moodle, SIS ids and section for Canvas).

A submitter is matched to a roster row by the download's id, then by email, then by
SIS id; the roster's id then names the student everywhere.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from pydantic import ConfigDict, Field

from grader.batch.discover import StudentFolder
from grader.batch.tables import TableError, read_table
from grader.models import Model
from grader.results import Person

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


def read_roster(path: Path) -> list[RosterRow]:
    rows = read_table(path, RosterRow, ALIASES)
    seen: set[str] = set()
    for row in rows:
        if row.id in seen:
            raise TableError(f"{path}: student {row.id!r} is listed twice")
        seen.add(row.id)
    return rows


def roster_digest(rows: list[RosterRow]) -> str:
    """What every shard of one class must agree on about its roster: its rows, in any
    order (shard.json's `roster`)."""
    lines = sorted(row.model_dump_json() for row in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _row_of(student: StudentFolder, rows: list[RosterRow]) -> RosterRow | None:
    by_id = {r.id: r for r in rows}
    if student.id in by_id:
        return by_id[student.id]
    email = student.email.casefold()
    return next((r for r in rows if (email and r.email.casefold() == email)
                 or (r.sis_id and r.sis_id == student.id)), None)


def join_roster(students: list[StudentFolder], rows: list[RosterRow], nowhere: Path
                ) -> tuple[list[StudentFolder], dict[str, Person], list[str]]:
    """The students to grade (submitters under their roster id, then roster students
    with nothing handed in, who live at `nowhere`), who each one is, and the ids of
    submitters missing from the roster (graded all the same)."""
    people: dict[str, Person] = {}
    joined: dict[str, StudentFolder] = {}
    strangers = []
    for student in students:
        row = _row_of(student, rows)
        if row is None:
            strangers.append(student.id)
            people[student.id] = Person(name=student.name, email=student.email,
                                        on_roster=False)
            joined[student.id] = student
            continue
        joined[row.id] = replace(student, id=row.id)
        people[row.id] = row.person()
    for row in rows:
        if row.id not in joined:
            joined[row.id] = StudentFolder(row.id, nowhere / row.id)
            people[row.id] = row.person()
    return sorted(joined.values(), key=lambda s: s.id), people, strangers


def people_of(students: list[StudentFolder]) -> dict[str, Person]:
    """Without a roster: who each student is, as far as the download says."""
    return {s.id: Person(name=s.name, email=s.email, on_roster=False) for s in students
            if s.name or s.email}
