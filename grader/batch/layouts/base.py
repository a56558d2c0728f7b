"""What every download layout yields: one submitter, their files, and what the LMS
recorded about them (id, name, email, when, late)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from grader.course.match import SOURCE_SUFFIXES
from grader.results import Skipped

# Written by operating systems and zip tools, never by a learner on purpose.
JUNK = {"__MACOSX", "__pycache__", ".DS_Store", "Thumbs.db", "desktop.ini"}


@dataclass(frozen=True)
class Found:
    """One submitter as a download names them. `times` holds the submission time of
    each file where the LMS recorded one per file (nbgrader: per assignment)."""

    id: str
    folder: Path
    files: tuple[Path, ...]
    submitted_at: datetime | None = None
    late: bool = False  # the LMS marks the submission late (Canvas's _LATE_)
    name: str = ""
    email: str = ""
    times: dict[Path, datetime] = field(default_factory=dict)
    original: dict[Path, str] = field(default_factory=dict)  # a file's name before the LMS
    # renamed it (Canvas prefixes every file with the student's name and ids)

    def time_of(self, path: Path) -> datetime | None:
        return self.times.get(path, self.submitted_at)

    def shown(self, path: Path) -> str:
        """The name the student gave `path`, relative to their folder."""
        if path in self.original:
            return self.original[path]
        try:
            return str(path.relative_to(self.folder))
        except ValueError:
            return path.name


Read = tuple[list[Found], list[Skipped]]  # what a layout's reader returns


def skip(name: str, reason: str) -> Skipped:
    """An entry that is not a submission, shown with unprintable characters escaped."""
    shown = name if name.isprintable() else name.encode("unicode_escape").decode()
    return Skipped(name=shown, reason=reason)


class LayoutError(Exception):
    """The download is not what its layout promises; the message says what is wrong."""


def files_under(folder: Path, depth: int = 2, skip: frozenset[str] = frozenset()
                ) -> Iterator[Path]:
    """Every entry under `folder` that could be a submission, `depth` levels deep.

    Symbolic links and other non-files are yielded too (the matcher refuses them with
    a reason); folders are entered only if they are real folders not named like a
    submission (a folder `exercise_1.py` is refused as one, not searched).
    """
    for entry in sorted(folder.iterdir()):
        if entry.name in JUNK or entry.name.startswith(".") or entry.name in skip:
            continue
        looks_like_a_file = entry.suffix.lower() in SOURCE_SUFFIXES
        if entry.is_dir() and not entry.is_symlink() and not looks_like_a_file:
            if depth > 1:
                yield from files_under(entry, depth - 1, skip)
            continue
        yield entry


def as_utc(moment: datetime) -> datetime:
    """`moment` with a time zone: a naive time is taken as UTC (and says so nowhere
    else, so every layout that can give a zone gives one)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
