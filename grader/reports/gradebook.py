"""grades.csv and grades.json: the class's scores, one row/object per student.

grades.json leaves out wall-clock times so that grading the same class twice
(or resuming a killed batch) writes the same bytes.
"""

from __future__ import annotations

import csv
import io

from pydantic import BaseModel, Field, RootModel

from grader.reports.cells import points, spreadsheet_text
from grader.results import ClassResult, ExerciseResult


class GradebookEntry(BaseModel):
    """One student in grades.json; `exercises` follow the `grade ... --json` contract."""

    student: str
    total: float
    max_score: float
    exercises: list[ExerciseResult]
    notes: list[str] = Field(default_factory=list, description="about the id, e.g. escaping")


class Gradebook(RootModel[list[GradebookEntry]]):
    """The whole of grades.json."""


def gradebook(result: ClassResult) -> Gradebook:
    return Gradebook([
        GradebookEntry(student=s.student, total=s.total, max_score=result.max_score,
                       exercises=s.exercises, notes=result.notes.get(s.student, []))
        for s in result.students])


def grades_json(result: ClassResult) -> str:
    return gradebook(result).model_dump_json(
        indent=2, exclude={"__all__": {"exercises": {"__all__": {"seconds"}}}}) + "\n"


def grades_csv(result: ClassResult) -> str:
    """`student,<exercise ids in course order>,total`, one row per student."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", *(e.id for e in result.exercises), "total"])
    for student in result.students:
        writer.writerow([spreadsheet_text(student.student),
                         *(points(e.score) for e in student.exercises),
                         points(student.total)])
    return out.getvalue()
