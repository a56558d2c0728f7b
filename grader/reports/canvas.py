"""A CSV that Canvas's gradebook import accepts (Grades > Import).

Columns, in order: `Student`, `ID`, `SIS User ID`, `SIS Login ID`, `Section`, then
one column per exercise named by its id. The second row is Canvas's own
`Points Possible` row. The student id goes in the one id column chosen (`SIS Login
ID` by default, `ID` for a Canvas download, whose ids are Canvas user ids) unless
the roster (`--roster`) fills that column: it fills `Student` (the name), `SIS User
ID`, `SIS Login ID` and `Section`, and its values are never replaced.
Without one they stay empty, which Canvas accepts as long as one id matches.
Scores are final (after late penalties and overrides): Canvas would read any extra
column as a new assignment, so the reasons live in the feedback files.
"""

from __future__ import annotations

import csv
import io
from typing import Literal

from pydantic import ConfigDict

from grader.models import Model
from grader.reports.cells import points, spreadsheet_text
from grader.results import ClassResult, Person

IdColumn = Literal["ID", "SIS User ID", "SIS Login ID"]
IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_POSSIBLE = "Points Possible"


class CanvasRow(Model):
    """One row of the import: who, and a score per assignment column."""

    model_config = ConfigDict(extra="forbid")

    student: str
    id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    scores: dict[str, float]

    def cells(self, columns: list[str]) -> list[str]:
        who = [self.student, self.id, self.sis_user_id, self.sis_login_id, self.section]
        return [*map(spreadsheet_text, who), *(points(self.scores[c]) for c in columns)]


def canvas_rows(result: ClassResult, id_column: IdColumn = "SIS Login ID") -> list[CanvasRow]:
    field = {"ID": "id", "SIS User ID": "sis_user_id", "SIS Login ID": "sis_login_id"}
    rows = []
    for s in result.students:
        person = result.people.get(s.student, Person())
        who = {"student": person.name or s.student, "sis_user_id": person.sis_id,
               "sis_login_id": person.sis_login, "section": person.section}
        # The roster's fields are the roster's: the id goes in the chosen column only
        # where the roster leaves it empty (Canvas matches a row by any of its id
        # columns, so a download id in place of the roster's login could name another user).
        who[field[id_column]] = who.get(field[id_column]) or s.student
        rows.append(CanvasRow.model_validate({
            **who, "scores": {e.exercise: e.score for e in s.exercises}}))
    return rows


def canvas_csv(result: ClassResult, id_column: IdColumn = "SIS Login ID") -> str:
    columns = [e.id for e in result.exercises]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*IDENTITY, *columns])
    writer.writerow([POINTS_POSSIBLE, "", "", "", "", *(points(e.max_score)
                                                          for e in result.exercises)])
    writer.writerows(row.cells(columns) for row in canvas_rows(result, id_column))
    return out.getvalue()
