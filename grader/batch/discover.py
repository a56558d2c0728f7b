"""A batch's students: one folder per student, the folder name is the student id.

Ids come from a TA's disk, so they are untrusted text: a name that could escape
OUTDIR or be mistaken for something else is rejected; a name that a spreadsheet
could misread is kept and escaped by the CSV exporters, with a note saying so.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from grader.course import Exercise
from grader.reports.cells import FORMULA_START, spreadsheet_text
from grader.results import NO_SUBMISSION, ErrorKind, Skipped
from grader.runner.source import SubmissionError

MAX_ID_BYTES = 200  # leaves room for ".md" and friends under NAME_MAX (255)
CSV_SPECIAL = (",", '"')  # what csv.writer quotes
# Bidirectional overrides can make one id render as another in a report.
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


@dataclass(frozen=True)
class StudentFolder:
    """One student's folder and what the exporters must say about its id."""

    id: str
    path: Path
    notes: tuple[str, ...] = field(default=())


def id_problem(name: str) -> str | None:
    """Why `name` cannot be a student id, or None when it can."""
    if not name.strip():
        return "the name is blank"
    if name.startswith("."):
        return "it starts with a dot (a hidden folder, or a path like '..')"
    if "/" in name or "\\" in name:
        return "it contains a path separator"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") or c in _BIDI for c in name):
        return ("it contains control or invisible characters (newlines, tabs, zero-width "
                "spaces or text-direction marks)")
    if len(name.encode("utf-8", "surrogateescape")) > MAX_ID_BYTES:
        return f"it is longer than {MAX_ID_BYTES} bytes"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "it is not valid UTF-8"
    return None


def id_notes(name: str) -> tuple[str, ...]:
    """What the CSV exports do to `name` to keep it a plain cell of text."""
    notes = []
    if name.startswith(FORMULA_START):
        notes.append(f"student id {name!r} starts with {name[0]!r}: the CSV files write it as "
                     f"{spreadsheet_text(name)!r} so a spreadsheet shows it as text, not a formula")
    if any(c in name for c in CSV_SPECIAL):
        notes.append(f"student id {name!r} contains a comma or quote: the CSV files quote it")
    return tuple(notes)


def collision_key(name: str) -> str:
    """What two ids share when some disk, archive or person would take them for one:
    Unicode form (NFC/NFD, and compatibility forms), case, surrounding spaces."""
    return unicodedata.normalize("NFKC", name).casefold().strip()


def scripts(name: str) -> list[str]:
    """The writing systems of `name`'s letters (LATIN, CYRILLIC, GREEK, ...)."""
    found = {unicodedata.name(c, "?").split(" ")[0] for c in name if c.isalpha()}
    return sorted(found)


def lookalike_notes(name: str) -> tuple[str, ...]:
    """Why `name` may look like another id, though it collides with none here."""
    notes = []
    if name != name.strip():
        notes.append(f"student id {name!r} begins or ends with a space: it looks like "
                     f"{name.strip()!r}")
    if unicodedata.normalize("NFC", name) != name:
        notes.append(f"student id {name!r} is not in Unicode's usual (NFC) form: macOS and "
                     "some archives would write it differently")
    if len(mixed := scripts(name)) > 1:
        notes.append(f"student id {name!r} mixes {' and '.join(s.title() for s in mixed)} "
                     "letters: it may look like another id")
    return tuple(notes)


def refuse_collisions(students: list[StudentFolder]) -> tuple[list[StudentFolder],
                                                              list[Skipped]]:
    """Students whose ids collide (`collision_key`) are all refused: their feedback files
    would overwrite each other on a case-insensitive disk, and no one can tell them
    apart in a gradebook. Each refusal names the other ids."""
    groups: dict[str, list[StudentFolder]] = {}
    for student in students:
        groups.setdefault(collision_key(student.id), []).append(student)
    kept, refused = [], []
    for student in students:
        others = [o.id for o in groups[collision_key(student.id)] if o is not student]
        if not others:
            kept.append(student)
            continue
        shown = ", ".join(repr(o) for o in others)
        refused.append(Skipped(
            name=student.id,
            reason=f"its id looks the same as {shown} (they differ only in case, Unicode "
                   "form or spaces, and would overwrite each other's files on some disks); "
                   "rename the folders so that each id is clearly different"))
    return kept, refused


def discover(root: Path) -> tuple[list[StudentFolder], list[Skipped]]:
    """The student folders under `root` (sorted by id) and the entries skipped, with why.

    An nbgrader course folder works too: its ``submitted/`` holds the students.
    """
    if (root / "submitted").is_dir():
        root = root / "submitted"
    students: list[StudentFolder] = []
    skipped: list[Skipped] = []
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        name = entry.name
        problem = id_problem(name)
        if problem is None and entry.is_symlink():
            problem = "it is a symbolic link; copy the student's folder itself"
        elif problem is None and not entry.is_dir():
            problem = "it is not a folder (each student needs a folder of their own)"
        if problem:
            shown = name if name.isprintable() else name.encode("unicode_escape").decode()
            skipped.append(Skipped(name=shown, reason=problem))
            continue
        students.append(StudentFolder(name, entry, id_notes(name) + lookalike_notes(name)))
    students, refused = refuse_collisions(students)
    return students, sorted(skipped + refused, key=lambda s: s.name)


def submission_file(folder: Path, exercise: Exercise
                    ) -> tuple[Path | None, SubmissionError | None]:
    """(the student's file for `exercise`, None) or (None, why it cannot be graded).

    The file is named as in exercises/, or has the same stem with `.ipynb`; in
    nbgrader's layout (``<student>/<assignment>/``) it is a notebook named by that
    stem or by the exercise id, in one assignment folder.
    """
    notebook = Path(exercise.file).with_suffix(".ipynb").name
    candidates = [folder / exercise.file, folder / notebook]
    for path in candidates:
        if path.is_symlink():
            return None, SubmissionError("the submission is a symbolic link; submit the file "
                                         "itself", ErrorKind.UNREADABLE)
        if path.is_file():
            return path, None
        if path.exists():  # a folder, a pipe, a device: nothing to read
            return None, SubmissionError(f"{path.name} is not a regular file; submit the file "
                                         "itself", ErrorKind.UNREADABLE)
    nested = [path for sub in sorted(folder.iterdir()) if sub.is_dir() and not sub.is_symlink()
              for path in (sub / notebook, sub / f"{exercise.id}.ipynb")
              if path.is_file() and not path.is_symlink()]
    if len(nested) > 1:
        shown = " and ".join(str(p.relative_to(folder)) for p in nested)
        return None, SubmissionError(f"two notebooks for {exercise.id} ({shown}); keep one",
                                     ErrorKind.AMBIGUOUS)
    return (nested[0], None) if nested else (
        None, SubmissionError(NO_SUBMISSION, ErrorKind.MISSING))
