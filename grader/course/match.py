"""Which exercise a submitted file is for, when learners (and LMSs) name files loosely.

`exercise_1_weighted_sampling.py` is exact; `exercise_1 (1).py` (a browser's second
download), `exercise_1_weighted_sampling-2.py` (Canvas's resubmission suffix),
`Exercise1.py` or a notebook instead of the `.py` are matched with a note the TA
sees. A file that matches no exercise, or more than one, is listed, never dropped.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePath
from typing import Literal, NamedTuple

from grader.course.model import Exercise

SOURCE_SUFFIXES = (".py", ".ipynb")
# " (1)": a browser or OS saving a second copy; "-1": Canvas renaming a resubmission.
_COPY_SUFFIX = re.compile(r"(?:\s*\(\d+\)|-\d+)$")


# FileMatch and Assignment are plain classes, not dataclasses: a batch imports this
# module after its workers are forked and before it hands them their first file, and
# each dataclass costs ~0.5 ms to make.
class FileMatch:
    """The exercise one file is for (None when it is for none), and a note when the
    name was not the expected one."""

    __slots__ = ("exact", "exercise", "note")

    def __init__(self, exercise: Exercise | None, exact: bool, note: str | None = None
                 ) -> None:
        self.exercise = exercise
        self.exact = exact
        self.note = note

    def __repr__(self) -> str:
        return f"FileMatch(exercise={self.exercise!r}, exact={self.exact!r}, note={self.note!r})"


class Problem(NamedTuple):
    """Why an exercise has no gradable file: the sentence, and its kind (the values of
    grader.results.ErrorKind, which this layer below the results cannot import)."""

    message: str
    kind: Literal["ambiguous", "unreadable"]


class Assignment:
    """One student's files sorted out: the file per exercise, or why there is none."""

    __slots__ = ("files", "notes", "problems", "unmatched")

    def __init__(self) -> None:
        self.files: dict[str, Path] = {}
        self.problems: dict[str, Problem] = {}
        self.notes: list[str] = []
        self.unmatched: list[str] = []


def notebook_name(exercise: Exercise) -> str:
    return Path(exercise.file).with_suffix(".ipynb").name


def _key(text: str) -> str:
    """Letters and digits only, case and accents folded: 'Exercise_1 ' -> 'exercise1'."""
    folded = unicodedata.normalize("NFKD", text).casefold()
    return "".join(c for c in folded if c.isascii() and c.isalnum())


def _names(exercise: Exercise) -> tuple[str, str]:
    return _key(exercise.id), _key(Path(exercise.file).stem)


def _fits(key: str, exercise: Exercise) -> bool:
    """`key` names `exercise`: its id or file stem, or starts with its id where the id's
    number ends (so 'exercise10' is not exercise 1)."""
    by_id, by_file = _names(exercise)
    if key in (by_id, by_file):
        return True
    rest = key[len(by_id):] if key.startswith(by_id) else None
    return rest is not None and not rest[:1].isdigit()


def match_file(name: str, exercises: Sequence[Exercise]) -> FileMatch:
    """The exercise that the file called `name` is for; the note says why not, or
    what was assumed."""
    path = PurePath(name)
    if path.suffix.lower() not in SOURCE_SUFFIXES:
        return FileMatch(None, False, "not a .py or .ipynb file")
    for exercise in exercises:
        if name in (exercise.file, notebook_name(exercise), f"{exercise.id}.ipynb"):
            return FileMatch(exercise, True)  # the last: nbgrader's notebook name
    stems = dict.fromkeys([path.stem, _COPY_SUFFIX.sub("", path.stem)])
    for stem in stems:
        found = [e for e in exercises if _fits(_key(stem), e)]
        if len(found) > 1:
            ids = ", ".join(e.id for e in found)
            return FileMatch(None, False, f"could be any of {ids}; rename it")
        if found:
            expected = found[0].file if path.suffix.lower() == ".py" else notebook_name(found[0])
            return FileMatch(found[0], False,
                             f"{name} graded as {found[0].id} (expected the name {expected})")
    return FileMatch(None, False, f"matches no exercise (expected names like "
                     f"{exercises[0].file})")


def _preferred(shown: str, match: FileMatch) -> tuple[bool, int, bool]:
    """Exact names first, then the shallowest, then a .py before a notebook."""
    return match.exact, -len(PurePath(shown).parts), shown.lower().endswith(".py")


def _unreadable(path: Path) -> Problem | None:
    """Why `path` cannot be graded as a file (a link, a folder, a pipe), or None."""
    try:
        mode = os.lstat(path).st_mode  # one call for both questions (Path asks twice)
    except (OSError, ValueError):
        mode = 0  # gone, or unreadable: not a regular file, as Path.is_file() says
    if stat.S_ISLNK(mode):
        return Problem("the submission is a symbolic link; submit the file itself",
                       "unreadable")
    if not stat.S_ISREG(mode):  # a folder, a pipe, a device: nothing to read
        return Problem(f"{path.name} is not a regular file; submit the file itself",
                       "unreadable")
    return None


def assign(files: Iterable[tuple[Path, str]], exercises: Sequence[Exercise]) -> Assignment:
    """Sort out one student's `files` ((path, the name the student gave it)): one per
    exercise, the rest listed with why.

    Two files for one exercise that are equally good (two loose names, say) are an
    error for that exercise: the grader never guesses which one the student meant.
    """
    result = Assignment()
    candidates: dict[str, list[tuple[Path, str, FileMatch]]] = {}
    for path, shown in sorted(files, key=lambda f: f[1]):
        match = match_file(PurePath(shown).name, exercises)
        if match.exercise is None:
            result.unmatched.append(f"{shown}: {match.note}")
            continue
        candidates.setdefault(match.exercise.id, []).append((path, shown, match))
    for exercise_id, found in candidates.items():
        found.sort(key=lambda f: _preferred(f[1], f[2]), reverse=True)
        top = _preferred(found[0][1], found[0][2])
        best = [f for f in found if _preferred(f[1], f[2]) == top]
        if len(best) > 1:
            names = " and ".join(shown for _, shown, _ in best)
            result.problems[exercise_id] = Problem(
                f"two files for {exercise_id} ({names}); keep one", "ambiguous")
            continue
        path, shown, match = found[0]
        problem = _unreadable(path)
        if problem:
            result.problems[exercise_id] = problem
            continue
        result.files[exercise_id] = path
        if match.note:
            result.notes.append(match.note.replace(PurePath(shown).name, shown, 1))
        for _, other, _ in found[1:]:
            result.unmatched.append(f"{other}: not graded ({shown} was graded for "
                                    f"{exercise_id})")
    return result
