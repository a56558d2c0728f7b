"""One problem found in a course: which file, which line, what is wrong."""

from __future__ import annotations

from pydantic import Field

from grader.models import Model


class Problem(Model):
    """A problem an author must fix. `file` is relative to the course folder."""

    file: str
    line: int | None = Field(None, description="1-based; None when the whole file is meant")
    message: str
    exercise: str | None = Field(None, description="the exercise id, when it concerns one")

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"
