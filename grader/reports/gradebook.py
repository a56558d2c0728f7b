"""grades.csv and grades.json: the class's scores, one row/object per student.

grades.json leaves out wall-clock times so that grading the same class twice
(or resuming a killed batch) writes the same bytes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from pydantic import Field

from grader.models import Model, Root
from grader.reports.cells import points, spreadsheet_text
from grader.results import ClassResult, ExerciseResult


class GradebookEntry(Model):
    """One student in grades.json; `exercises` follow the `grade ... --json` contract."""

    student: str
    total: float
    max_score: float
    exercises: list[ExerciseResult]
    notes: list[str] = Field(default_factory=list, description="about the id, e.g. escaping")


class Gradebook(Root[list[GradebookEntry]]):
    """The whole of grades.json."""


def gradebook(result: ClassResult) -> Gradebook:
    return Gradebook([
        GradebookEntry(student=s.student, total=s.total, max_score=result.max_score,
                       exercises=s.exercises, notes=result.notes.get(s.student, []))
        for s in result.students])


def adjusted(result: ClassResult) -> bool:
    """Deadlines or overrides were applied: the exports show raw, penalty, override."""
    return any(e.adjustment for s in result.students for e in s.exercises)


def grades_json(result: ClassResult) -> str:
    return "".join(grades_json_parts(result))


def grades_json_parts(result: ClassResult) -> Iterator[str]:
    """grades.json, one student at a time: the bytes `Gradebook.model_dump_json(indent=2)`
    writes, without the whole text (9 MB at 1000 students x 3, and pydantic's buffer
    and its encoded copy, at once) ever in memory."""
    volatile = {"seconds"} if adjusted(result) else {"seconds", "adjustment"}
    exclude = {"exercises": {"__all__": volatile}}
    if not result.students:
        yield "[]\n"
        return
    for index, entry in enumerate(gradebook(result).root):
        text = entry.model_dump_json(indent=2, exclude=exclude)
        # one level deeper inside the list; JSON strings hold no raw newline
        yield ("[\n  " if index == 0 else ",\n  ") + text.replace("\n", "\n  ")
    yield "\n]\n"


def _adjustment_cells(result: ExerciseResult) -> list[str]:
    a = result.adjustment
    return [points(a.raw), points(a.override), points(a.penalty)] if a else ["", "", ""]


def grades_csv(result: ClassResult) -> str:
    """`student,<exercise ids in course order>,total`, one row per student (final
    scores). With deadlines or overrides, then `<id> raw`, `<id> override`,
    `<id> penalty` per exercise and the `reasons`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    extra = adjusted(result)
    header = ["student", *(e.id for e in result.exercises), "total"]
    if extra:
        header += [f"{e.id} {part}" for e in result.exercises
                   for part in ("raw", "override", "penalty")] + ["reasons"]
    writer.writerow(header)
    for student in result.students:
        row = [spreadsheet_text(student.student),
               *(points(e.score) for e in student.exercises), points(student.total)]
        if extra:
            row += [cell for e in student.exercises for cell in _adjustment_cells(e)]
            row.append(spreadsheet_text(" | ".join(
                f"{e.exercise}: {reason}" for e in student.exercises
                for reason in (e.adjustment.reasons if e.adjustment else []))))
        writer.writerow(row)
    return out.getvalue()
