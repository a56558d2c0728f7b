"""The learner's plan: what `grade exercise-N` knows of an exercise before the models load.

One named tuple, written to the course cache (course/load.py, on validation) and read
back from it (cli/exercise.py) here, in one place: no pydantic, no YAML, and no
dataclasses either (importing them brings `inspect`, `ast` and `dis`: a fifth of a
skeleton's report).
"""

# No `from __future__ import annotations`: a NamedTuple's field annotations given as text
# are each compiled by typing (17 compile() calls, 1.5-2 ms of every learner's command).
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from grader.course.model import Course, Exercise


class Hidden(NamedTuple):
    """The hidden checks a learner's release leaves out (the course's `withheld`)."""

    checks: int
    points: float


class PlannedLimits(NamedTuple):
    """An exercise's limits (course.Limits, the course's with the exercise's own over
    them), as the box and the reader apply them."""

    time_limit: float
    memory_mb: int
    file_size_kb: int
    output_chars: int
    max_source_kb: int
    disk_kb: int
    disk_files: int

    @classmethod
    def of(cls, limits: Any) -> "PlannedLimits":
        """From course.Limits, or from their cached JSON (a dict): ValueError, TypeError
        or KeyError when it is not that."""
        given = limits if isinstance(limits, dict) else vars(limits)
        return cls(float(given["time_limit"]), int(given["memory_mb"]),
                   int(given["file_size_kb"]), int(given["output_chars"]),
                   int(given["max_source_kb"]), int(given["disk_kb"]), int(given["disk_files"]))


class Planned(NamedTuple):
    """An exercise as a learner's command knows it: its title, the learner file and
    checks file (relative to the course folder `root`), its limits, the hidden checks
    a release leaves out, and what it taught (`learned`)."""

    id: str
    title: str
    file: str
    checks: str
    limits: PlannedLimits
    withheld: Hidden | None
    learned: str | None
    root: Path

    @property
    def max_source_kb(self) -> int:
        return self.limits.max_source_kb

    @property
    def learner_file(self) -> Path:
        return self.root / self.file

    @property
    def checks_file(self) -> Path:
        return self.root / self.checks

    @classmethod
    def of(cls, course: "Course", exercise: "Exercise", root: Path | None = None
           ) -> "Planned":
        """The exercise of a validated course, in the course folder `root` (its own)."""
        withheld = exercise.withheld
        limits = course.limits_for(exercise)
        return cls(exercise.id, exercise.title, f"{course.exercises_dir}/{exercise.file}",
                   exercise.checks,
                   PlannedLimits.of(limits),
                   Hidden(withheld.checks, withheld.points) if withheld else None,
                   exercise.learned, course.root if root is None else root)

    def entry(self) -> dict[str, Any]:
        """The plan as the cache keeps it (JSON): everything but the id and the root."""
        hidden = self.withheld
        return {"title": self.title, "file": self.file, "checks": self.checks,
                "limits": self.limits._asdict(), "learned": self.learned,
                "withheld": {"checks": hidden.checks, "points": hidden.points}
                if hidden else None}

    @classmethod
    def parse(cls, exercise_id: str, entry: object, root: Path) -> "Planned | None":
        """The plan from its cached `entry`; None when `entry` is not one (a corrupt or
        hand-edited cache)."""
        if not isinstance(entry, dict):
            return None
        try:
            hidden, limits, learned = entry["withheld"], entry["limits"], entry["learned"]
            # Path() refuses what is not text, as the cache's reader must
            return cls(exercise_id, str(entry["title"]), str(Path(entry["file"])),
                       str(Path(entry["checks"])),
                       PlannedLimits.of(limits),
                       Hidden(int(hidden["checks"]), float(hidden["points"])) if hidden else None,
                       None if learned is None else str(learned), root)
        except (TypeError, KeyError, ValueError, AttributeError):
            return None


def learner_plan(course: "Course") -> dict[str, dict[str, Any]]:
    """Per exercise, its plan's cache entry: what the cache keeps for `grade exercise-N`."""
    return {e.id: Planned.of(course, e, Path()).entry() for e in course.exercises}
