"""What every download layout yields: one submitter, their files, and what the LMS
recorded about them (id, name, email, when, late)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from grader.course.match import SOURCE_SUFFIXES
from grader.results import Skipped
from grader.runner.record import Record

# Written by operating systems and zip tools, never by a learner on purpose.
JUNK = {"__MACOSX", "__pycache__", ".DS_Store", "Thumbs.db", "desktop.ini"}


class Found(Record):
    """One submitter as a download names them. `times` holds the submission time of
    each file where the LMS recorded one per file (nbgrader: per assignment).

    A frozen record, not a dataclass: the batch reads the class after its workers are
    forked and before it hands them their first file (a dataclass costs ~0.5 ms to make).
    """

    __slots__ = ("email", "files", "folder", "id", "late", "name", "original", "submitted_at",
                 "times")
    id: str
    folder: Path
    files: tuple[Path, ...]
    submitted_at: datetime | None
    late: bool  # the LMS marks the submission late (Canvas's _LATE_)
    name: str
    email: str
    times: dict[Path, datetime]
    original: dict[Path, str]  # a file's name before the LMS renamed it (Canvas prefixes
    # every file with the student's name and ids)

    def __init__(self, id: str, folder: Path, files: tuple[Path, ...],
                 submitted_at: datetime | None = None, late: bool = False, name: str = "",
                 email: str = "", times: dict[Path, datetime] | None = None,
                 original: dict[Path, str] | None = None) -> None:
        self._set(id=id, folder=folder, files=files, submitted_at=submitted_at, late=late,
                  name=name, email=email, times={} if times is None else times,
                  original={} if original is None else original)

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
    # os.scandir, not Path.iterdir: each entry's type comes with the listing (no stat
    # per file), on the batch's path from its workers' fork to their first file.
    for entry in entries(folder):
        name = entry.name
        if name in JUNK or name.startswith(".") or name in skip:
            continue
        path = folder / name
        # a name not starting with a dot ends with ".py" exactly when its suffix is .py
        looks_like_a_file = name.lower().endswith(SOURCE_SUFFIXES)
        if real_folder(entry) and not looks_like_a_file:
            if depth > 1:
                yield from files_under(path, depth - 1, skip)
            continue
        yield path


def entries(folder: Path) -> list[os.DirEntry[str]]:
    """`folder`'s entries, sorted by name (as sorting their paths sorts them)."""
    with os.scandir(folder) as scan:
        return sorted(scan, key=lambda entry: entry.name)


def real_folder(entry: os.DirEntry[str]) -> bool:
    """A folder, not a symbolic link to one (Path's is_dir() and not is_symlink())."""
    return not entry.is_symlink() and entry.is_dir(follow_symlinks=False)


def folder_names(root: Path) -> list[str]:
    """The names of `root`'s folders, symbolic links to folders included (Path.is_dir)."""
    found = []
    for entry in entries(root):
        try:
            if entry.is_dir():
                found.append(entry.name)
        except OSError:  # a link Path.is_dir() takes for no folder (a loop, say)
            continue
    return found


def as_utc(moment: datetime) -> datetime:
    """`moment` with a time zone: a naive time is taken as UTC (and says so nowhere
    else, so every layout that can give a zone gives one)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
