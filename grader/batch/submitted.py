"""`--submitted-at times.csv`: when each file was handed in, from the LMS's own exports.

A Canvas or Moodle download records no submission time, so the late policy needs
them from elsewhere. Accepted, by their headers:

- `student, exercise, submitted_at` (ISO 8601); a blank exercise means every
  exercise of the download (one LMS assignment);
- Canvas's submissions (API or a CSV made from it): `user_id, submitted_at`, the
  user id being the Canvas download's student id;
- Moodle's grading worksheet ("Download grading worksheet"): `Identifier`
  (`Participant 2001`) and `Last modified (submission)` (`Monday, 7 December 2026,
  3:15 PM`, in the course deadline's time zone, since the worksheet names none).

A row without a time (`-`, blank: nothing handed in) is skipped.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from pydantic import ConfigDict, Field, field_validator

from grader.batch.tables import TableError, read_table
from grader.models import Model

# Not "id": a Canvas submissions export's `id` is the submission's, not the student's.
ALIASES = {"user_id": "student", "identifier": "student",
           "last_modified_submission": "submitted_at", "submitted": "submitted_at",
           "assignment": "exercise"}
MOODLE_TIME = "%A, %d %B %Y, %I:%M %p"  # Moodle's strftimedatetime, the worksheet's dates
NO_TIME = ("", "-")


class SubmittedAt(Model):
    """One row: when a student's file (for one exercise, or every one) was handed in."""

    model_config = ConfigDict(extra="forbid")

    student: str = Field(min_length=1)
    exercise: str = Field("", description="blank or * for every exercise of the download")
    submitted_at: str = Field("", description="ISO 8601, or Moodle's worksheet date")

    @field_validator("student")
    @classmethod
    def _participant(cls, value: str) -> str:
        # Moodle's worksheet writes "Participant 2001"; the download's id is 2001.
        return re.sub(r"^participant\s+", "", value.strip(), flags=re.IGNORECASE)

    @field_validator("submitted_at")
    @classmethod
    def _readable(cls, value: str) -> str:
        if value.strip() not in NO_TIME:
            parse_time(value)  # an error names the row now, not at grading
        return value.strip()


def parse_time(text: str) -> datetime:
    """ISO 8601 (a `Z` too) or Moodle's worksheet date; a time without a zone is left
    naive, for the caller to read in the deadline's zone."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = datetime.strptime(text.strip(), MOODLE_TIME)
        except ValueError:
            raise ValueError(f"{text!r} is not a time (ISO 8601 such as "
                             "2026-12-01T23:59:00Z, or Moodle's 'Monday, 7 December 2026, "
                             "3:15 PM')") from None
    return moment


class Times:
    """The times a TA gave, by (student, exercise); a blank exercise stands for all."""

    def __init__(self, rows: list[SubmittedAt]) -> None:
        self.rows = [r for r in rows if r.submitted_at not in NO_TIME]
        self._by: dict[tuple[str, str], str] = {}  # the last row wins, as in a later export
        for row in self.rows:
            self._by[row.student, "" if row.exercise == "*" else row.exercise] = row.submitted_at

    def of(self, student: str, exercise: str) -> datetime | None:
        """The time of `student`'s `exercise`: its own row first, else an all-exercise row."""
        text = self._by.get((student, exercise)) or self._by.get((student, ""))
        return parse_time(text) if text else None

    def strangers(self, known: set[str]) -> list[str]:
        return sorted({r.student for r in self.rows} - known)


def read_times(path: Path) -> list[SubmittedAt]:
    """Every row of `path`; a `TableError` names the file and line of a bad one."""
    rows = read_table(path, SubmittedAt, ALIASES)
    if not rows:
        raise TableError(f"{path}: no rows (expected student, exercise, submitted_at)")
    return rows
