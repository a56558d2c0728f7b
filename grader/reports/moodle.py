"""A CSV that Moodle's gradebook import accepts (Grades > Import > CSV file).

Moodle matches students on a column the TA picks at import: `Email address` or
`ID number` (both from the roster, `--roster`); `Full name` is for people. Each
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
from grader.results import ClassResult, ExerciseResult, Person

IDENTITY = ("Full name", "Email address", "ID number")
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


def moodle_rows(result: ClassResult) -> list[MoodleRow]:
    rows = []
    for s in result.students:
        person = result.people.get(s.student, Person())
        rows.append(MoodleRow(full_name=person.name or s.student, email=person.email,
                              id_number=person.sis_id,
                              grades={e.exercise: e.score for e in s.exercises},
                              feedback={e.exercise: _feedback(e) for e in s.exercises}))
    return rows


def moodle_csv(result: ClassResult) -> str:
    columns = [e.id for e in result.exercises]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*IDENTITY, *(h for c in columns for h in (c, c + FEEDBACK))])
    writer.writerows(row.cells(columns) for row in moodle_rows(result))
    return out.getvalue()


def unmatched_in_moodle(result: ClassResult) -> list[str]:
    """Students Moodle cannot match: neither an email nor an ID number."""
    return [s.student for s in result.students
            if not (result.people.get(s.student, Person()).email
                    or result.people.get(s.student, Person()).sis_id)]
