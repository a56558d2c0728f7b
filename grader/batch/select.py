"""Which results a run grades (again): changed files by default, or what the TA asks
for with `--student`, `--only` and `--force`."""

from __future__ import annotations

from grader.batch.journal import Entry
from grader.batch.names import Only as Only  # re-exported: callers import it from here
from grader.results import ErrorKind
from grader.runner.record import Record


class Selection(Record):
    """The TA's choice; `students` empty means everyone. (A frozen record, not a
    dataclass: ~0.5 ms less before the batch hands its workers their first file.)"""

    __slots__ = ("force", "only", "students")
    students: frozenset[str]
    only: Only | None
    force: bool

    def __init__(self, students: frozenset[str] = frozenset(), only: Only | None = None,
                 force: bool = False) -> None:
        self._set(students=students, only=only, force=force)

    def unknown(self, ids: set[str]) -> str | None:
        """Why `--student` cannot run on a class of `ids`: the ids it names that match
        nobody (a typo must not grade nobody and report success), or None."""
        strangers = sorted(self.students - ids)
        if not strangers:
            return None
        return (f"--student {', '.join(map(repr, strangers))}: no such student among the "
                f"class's {len(ids)} (ids as in grades.csv's student column); nothing was "
                "graded or changed")

    def chosen(self, student: str) -> bool:
        return not self.students or student in self.students

    def grades_unseen(self, student: str) -> bool:
        """`grades` of a (student, exercise) the journal has no entry for: its
        fingerprint is then never read (a first run grades a file before hashing the
        course, `run.Bases`)."""
        return self.grades(student, "", None)

    def grades(self, student: str, fingerprint: str, entry: Entry | None) -> bool:
        """Whether this run grades the (student, exercise) whose journal entry is
        `entry` (None: never graded) and whose inputs hash to `fingerprint`."""
        if not self.chosen(student):
            return False
        changed = entry is None or entry.fingerprint != fingerprint
        if self.only is Only.CHANGED:
            return changed
        if self.only is Only.ERRORS:
            return entry is not None and entry.result.error is not None
        if self.only is Only.TIMEOUTS:
            return entry is not None and entry.result.error_kind is ErrorKind.TIMEOUT
        if self.force or self.students:  # naming a student means grading them again
            return True
        return changed or entry.result.grader_fault  # type: ignore[union-attr]
