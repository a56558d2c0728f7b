"""A CSV that Moodle's gradebook import accepts (Grades > Import > CSV file).

Moodle matches students on a column the TA picks at import: `Email address` or
`ID number` (both from the roster, `--roster`); `Full name` is for people. Moodle's
import keeps the last matched user from row to row (grade/import/csv/classes/
load_data.php), so a row with an empty id cell would land on the student above: every
row written fills every id column that any row fills, and the students who cannot
are in unmatched-moodle.csv, with why. Each
exercise has a grade column named by its id and a `<id> feedback` column, which the
import maps to that grade item's feedback: the reasons for the final score (late
penalty, override) and whether the work could be checked.
"""

from __future__ import annotations

import csv
import io

from pydantic import ConfigDict

from grader.models import Model
from grader.reports.adjustments import adjustment_line
from grader.reports.cells import points, spreadsheet_text
from grader.results import ClassResult, ExerciseResult, Person, StudentResult

IDENTITY = ("Full name", "Email address", "ID number")
FIELDS = {"Email address": "email", "ID number": "id_number"}
UNMATCHED_HEADER = ("student", "Full name", "Email address", "ID number", "why")
FEEDBACK = " feedback"


class MoodleRow(Model):
    """One student: who (as Moodle matches them) and a grade and feedback per item."""

    model_config = ConfigDict(extra="forbid")

    full_name: str
    email: str = ""
    id_number: str = ""
    grades: dict[str, float]
    feedback: dict[str, str]

    def cells(self, columns: list[str]) -> list[str]:
        who = [self.full_name, self.email, self.id_number]
        return [*map(spreadsheet_text, who),
                *(cell for c in columns
                  for cell in (points(self.grades[c]), spreadsheet_text(self.feedback[c])))]


def _feedback(result: ExerciseResult) -> str:
    parts = [f"{points(result.score)}/{points(result.max_score)}"]
    if result.error:
        parts.append(result.error)
    line = adjustment_line(result)
    if line:
        parts.append(line)
    return "; ".join(parts)


class Unmatched(Model):
    """A student left out of moodle.csv: who, and why Moodle could not match the row."""

    model_config = ConfigDict(extra="forbid")

    student: str
    full_name: str
    email: str = ""
    id_number: str = ""
    why: str


def _row(result: ClassResult, s: StudentResult) -> MoodleRow:
    person = result.people.get(s.student, Person())
    return MoodleRow(full_name=person.name or s.student, email=person.email,
                     id_number=person.sis_id,
                     grades={e.exercise: e.score for e in s.exercises},
                     feedback={e.exercise: _feedback(e) for e in s.exercises})


def carried(rows: list[MoodleRow]) -> list[str]:
    """The id columns a TA may map to the user: those some row fills (an empty column
    is no choice). Every row in moodle.csv fills every one of them."""
    return [c for c, filled in (("Email address", any(r.email for r in rows)),
                                ("ID number", any(r.id_number for r in rows))) if filled]


def _why(row: MoodleRow, columns: list[str]) -> str:
    if not columns:
        return ("no student has an email or ID number (give --roster with email and "
                "sis_id): Moodle matches rows by one of them")
    empty = [c for c, v in (("Email address", row.email), ("ID number", row.id_number))
             if c in columns and not v]
    return (f"no {' or '.join(empty)}: Moodle's import would give this row's grades to the "
            "student on the row above (it keeps the last matched user), so it is left out")


def split_rows(result: ClassResult) -> tuple[list[MoodleRow], list[Unmatched]]:
    """moodle.csv's rows (each filling every id column a TA may match by) and the
    students left out, with why."""
    rows = [(s.student, _row(result, s)) for s in result.students]
    columns = carried([r for _, r in rows])
    kept, left = [], []
    for student, row in rows:
        if columns and all(getattr(row, FIELDS[c]) for c in columns):
            kept.append(row)
        else:
            left.append(Unmatched(student=student, full_name=row.full_name, email=row.email,
                                  id_number=row.id_number, why=_why(row, columns)))
    return kept, left


Split = tuple[list[MoodleRow], list[Unmatched]]  # what `split_rows` returns


def moodle_rows(result: ClassResult) -> list[MoodleRow]:
    return split_rows(result)[0]


def moodle_csv(result: ClassResult, split: Split | None = None) -> str:
    """moodle.csv; `split` is `split_rows(result)` if already made (the exports make
    it once for both moodle files)."""
    columns = [e.id for e in result.exercises]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*IDENTITY, *(h for c in columns for h in (c, c + FEEDBACK))])
    writer.writerows(row.cells(columns) for row in (split or split_rows(result))[0])
    return out.getvalue()


def unmatched_moodle_csv(result: ClassResult, split: Split | None = None) -> str:
    """unmatched-moodle.csv: the students moodle.csv leaves out, with why (enter their
    grades by hand, or fill the roster and run again). `split` as for `moodle_csv`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(UNMATCHED_HEADER)
    writer.writerows([spreadsheet_text(u.student), spreadsheet_text(u.full_name),
                      spreadsheet_text(u.email), spreadsheet_text(u.id_number), u.why]
                     for u in (split or split_rows(result))[1])
    return out.getvalue()


def unmatched_in_moodle(result: ClassResult) -> list[Unmatched]:
    """The students moodle.csv leaves out, with why."""
    return split_rows(result)[1]
