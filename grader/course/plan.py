"""The learner's plan: what `grade exercise-N` knows of an exercise before the models load.

One frozen dataclass, written to the course cache (course/load.py, on validation) and
read back from it (cli/exercise.py) here, in one place: no pydantic, no YAML.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.course.model import Course, Exercise


@dataclass(frozen=True)
class Hidden:
    """The hidden checks a learner's release leaves out (the course's `withheld`)."""

    checks: int
    points: float


@dataclass(frozen=True)
class Planned:
    """An exercise as a learner's command knows it: its title, the learner file and
    checks file (relative to the course folder `root`), the largest file accepted,
    and the hidden checks a release leaves out."""

    id: str
    title: str
    file: str
    checks: str
    max_source_kb: int
    withheld: Hidden | None
    root: Path

    @property
    def learner_file(self) -> Path:
        return self.root / self.file

    @property
    def checks_file(self) -> Path:
        return self.root / self.checks

    @classmethod
    def of(cls, course: Course, exercise: Exercise, root: Path | None = None) -> Planned:
        """The exercise of a validated course, in the course folder `root` (its own)."""
        withheld = exercise.withheld
        return cls(exercise.id, exercise.title, f"{course.exercises_dir}/{exercise.file}",
                   exercise.checks, course.limits_for(exercise).max_source_kb,
                   Hidden(withheld.checks, withheld.points) if withheld else None,
                   course.root if root is None else root)

    def entry(self) -> dict[str, Any]:
        """The plan as the cache keeps it (JSON): everything but the id and the root."""
        hidden = self.withheld
        return {"title": self.title, "file": self.file, "checks": self.checks,
                "max_source_kb": self.max_source_kb,
                "withheld": {"checks": hidden.checks, "points": hidden.points}
                if hidden else None}

    @classmethod
    def parse(cls, exercise_id: str, entry: object, root: Path) -> Planned | None:
        """The plan from its cached `entry`; None when `entry` is not one (a corrupt or
        hand-edited cache)."""
        if not isinstance(entry, dict):
            return None
        try:
            hidden = entry["withheld"]
            # Path() refuses what is not text, as the cache's reader must
            return cls(exercise_id, str(entry["title"]), str(Path(entry["file"])),
                       str(Path(entry["checks"])), int(entry["max_source_kb"]),
                       Hidden(int(hidden["checks"]), float(hidden["points"])) if hidden else None,
                       root)
        except (TypeError, KeyError, ValueError):
            return None


def learner_plan(course: Course) -> dict[str, dict[str, Any]]:
    """Per exercise, its plan's cache entry: what the cache keeps for `grade exercise-N`."""
    return {e.id: Planned.of(course, e, Path()).entry() for e in course.exercises}
