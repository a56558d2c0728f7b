"""Which uploaded file is which exercise, when a platform hands over a folder of uploads.

Learners upload single files, notebooks, whole folders, and names such as
`exercise_1 (1).py` (a second download) or `Exercise1.ipynb`. The exact name wins;
otherwise a file whose name, folded to letters and digits with a copy suffix dropped,
names the exercise's id or file is taken, with a note saying so. Hidden files,
symbolic links and `__MACOSX` folders are never read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from grader.course import Course, Exercise

SUFFIXES = (".py", ".ipynb")
_COPY = re.compile(r"(?:\s*\(\d+\)|[-_ ]copy|-\d+)$", re.I)  # "x (1)", "x copy", "x-2"
MAX_FILES = 2000  # a folder of uploads is small; past this something else was uploaded


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


def _candidates(folder: Path) -> list[Path]:
    found: list[Path] = []
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if any(p.startswith(".") or p == "__MACOSX" for p in parts):
            continue
        if path.is_symlink() or not path.is_file() or path.suffix.lower() not in SUFFIXES:
            continue
        found.append(path)
        if len(found) >= MAX_FILES:
            break
    return found


def _rank(exercise: Exercise, path: Path) -> tuple[int, int, str]:
    """Lower is better: the exact name, then the .py, then the shallower path."""
    exact = path.name in (exercise.file, Path(exercise.file).with_suffix(".ipynb").name)
    return (0 if exact else 1, 0 if path.suffix == ".py" else 1, str(path))


def find_uploads(folder: Path, course: Course) -> Uploads:
    """Each exercise's file among the uploads in `folder` (absent when there is none)."""
    uploads = Uploads()
    candidates = _candidates(folder) if folder.is_dir() else []
    taken: set[Path] = set()
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
            uploads.notes.append(f"ignored {other.relative_to(folder).as_posix()}: "
                                 f"{shown} was graded as {exercise.id}")
    for path in candidates:
        if path not in taken:
            uploads.notes.append(f"ignored {path.relative_to(folder).as_posix()}: "
                                 "its name matches no exercise")
    return uploads
