"""Which uploaded file is which exercise, when a platform hands over a folder of uploads.

Learners upload single files, notebooks, whole folders, and names such as
`exercise_1 (1).py` (a second download) or `Exercise1.ipynb`. The exact name wins;
otherwise a file whose name, folded to letters and digits with a copy suffix dropped,
names the exercise's id or file is taken, with a note saying so. Hidden files,
symbolic links and `__MACOSX` folders are never read.

An upload can hold thousands of files (a virtualenv, a dataset): the folder is walked
shallowest first, files with an exercise's exact name are kept wherever they are, other
.py/.ipynb files only up to a cap, and a note says when a cap was reached.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from grader.course import Course, Exercise

SUFFIXES = (".py", ".ipynb")
_COPY = re.compile(r"(?:\s*\(\d+\)|[-_ ]copy|-\d+)$", re.I)  # "x (1)", "x copy", "x-2"
MAX_FILES = 2000  # other .py/.ipynb files considered; past this something else was uploaded
MAX_ENTRIES = 200_000  # entries walked at all: bounds the time one upload can take
MAX_IGNORED_NOTES = 20  # ignored files named one by one; the rest are counted


@dataclass
class Uploads:
    """The file chosen for each exercise, and notes on what was assumed or ignored."""

    files: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _key(text: str) -> str:
    """'Exercise_1 ' -> 'exercise1': letters and digits, case and accents folded."""
    folded = unicodedata.normalize("NFKD", text).casefold()
    return "".join(c for c in folded if c.isascii() and c.isalnum())


def _names(exercise: Exercise, name: str) -> bool:
    """The file called `name` names `exercise` (exercise10 never names exercise 1)."""
    stem = _key(_COPY.sub("", Path(name).stem))
    by_id, by_file = _key(exercise.id), _key(Path(exercise.file).stem)
    if stem in (by_id, by_file) or stem.startswith(by_file):
        return True
    return stem.startswith(by_id) and not stem[len(by_id):][:1].isdigit()


def _expected_names(course: Course) -> set[str]:
    return {n for e in course.exercises
            for n in (e.file, Path(e.file).with_suffix(".ipynb").name)}


@dataclass
class _Walk:
    exact: list[Path] = field(default_factory=list)  # an exercise's expected name
    others: list[Path] = field(default_factory=list)  # other .py/.ipynb files, capped
    skipped: int = 0  # .py/.ipynb files past the cap
    truncated: bool = False  # the walk stopped at MAX_ENTRIES


def _visible(entry: os.DirEntry[str]) -> bool:
    return not entry.name.startswith(".") and entry.name != "__MACOSX" \
        and not entry.is_symlink()


def _walk(folder: Path, expected: set[str]) -> _Walk:
    """Shallowest first: exact names anywhere, other candidates up to MAX_FILES."""
    walk, queue, seen = _Walk(), deque([folder]), 0
    while queue:
        try:
            with os.scandir(queue.popleft()) as listing:
                entries = sorted((e for e in listing if _visible(e)), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > MAX_ENTRIES:
                walk.truncated = True
                return walk
            if entry.is_dir(follow_symlinks=False):
                queue.append(Path(entry.path))
            elif not entry.is_file(follow_symlinks=False) or \
                    Path(entry.name).suffix.lower() not in SUFFIXES:
                continue
            elif entry.name in expected:
                walk.exact.append(Path(entry.path))
            elif len(walk.others) < MAX_FILES:
                walk.others.append(Path(entry.path))
            else:
                walk.skipped += 1
    return walk


def _cap_notes(walk: _Walk) -> list[str]:
    notes = []
    if walk.skipped:
        notes.append(f"looked at only the first {MAX_FILES:,} .py/.ipynb files not named "
                     f"as an exercise; {walk.skipped:,} more were not looked at")
    if walk.truncated:
        notes.append(f"the upload holds more than {MAX_ENTRIES:,} files and folders: "
                     "only the first were looked at")
    return notes


def _rank(exercise: Exercise, path: Path) -> tuple[int, int, str]:
    """Lower is better: the exact name, then the .py, then the shallower path."""
    exact = path.name in (exercise.file, Path(exercise.file).with_suffix(".ipynb").name)
    return (0 if exact else 1, 0 if path.suffix == ".py" else 1, str(path))


def find_uploads(folder: Path, course: Course) -> Uploads:
    """Each exercise's file among the uploads in `folder` (absent when there is none)."""
    uploads = Uploads()
    walk = _walk(folder, _expected_names(course)) if folder.is_dir() else _Walk()
    candidates = walk.exact + walk.others
    taken: set[Path] = set()
    ignored: list[str] = []
    for exercise in course.exercises:
        fits = sorted((p for p in candidates if _names(exercise, p.name)),
                      key=lambda p: _rank(exercise, p))
        if not fits and len(course.exercises) == 1 and len(candidates) == 1:
            fits = candidates  # one exercise, one file: whatever its name
        if not fits:
            continue
        chosen = fits[0]
        taken.add(chosen)
        uploads.files[exercise.id] = chosen
        shown = chosen.relative_to(folder).as_posix()
        if chosen.name not in (exercise.file, Path(exercise.file).with_suffix(".ipynb").name):
            uploads.notes.append(f"graded {shown} as {exercise.id} "
                                 f"(the expected name is {exercise.file})")
        for other in fits[1:]:
            taken.add(other)
            ignored.append(f"ignored {other.relative_to(folder).as_posix()}: "
                           f"{shown} was graded as {exercise.id}")
    ignored += [f"ignored {p.relative_to(folder).as_posix()}: its name matches no exercise"
                for p in candidates if p not in taken]
    uploads.notes += ignored[:MAX_IGNORED_NOTES]
    if len(ignored) > MAX_IGNORED_NOTES:
        uploads.notes.append(f"ignored {len(ignored) - MAX_IGNORED_NOTES:,} more files")
    uploads.notes += _cap_notes(walk)
    return uploads
