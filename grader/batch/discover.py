"""A batch's students: the submitters a layout finds (one folder per student by
default), each with their files sorted out per exercise.

Ids come from a TA's disk or an LMS download, so they are untrusted text: a name that could escape
OUTDIR or be mistaken for something else is rejected; a name that a spreadsheet
could misread is kept and escaped by the CSV exporters, with a note saying so.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from grader.batch.layouts import Found, Layout, read_layout
from grader.course import Exercise
from grader.course.match import Problem, assign
from grader.learner_text import ERROR_CHARS, NAME_CHARS, bounded
from grader.reports.cells import FORMULA_START, spreadsheet_text
from grader.results import NO_SUBMISSION, ErrorKind, Person, Skipped
from grader.runner.source import SubmissionError

MAX_NOTES = 50  # notes kept per student; the last counts the rest
MAX_ID_BYTES = 200  # leaves room for ".md" and friends under NAME_MAX (255)
CSV_SPECIAL = (",", '"')  # what csv.writer quotes
# Bidirectional overrides can make one id render as another in a report.
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


@dataclass(frozen=True)
class StudentFolder:
    """One student: their folder, their file per exercise (or why there is none), what
    the LMS recorded, and what the exporters must say about the id."""

    id: str
    path: Path
    notes: tuple[str, ...] = field(default=())
    files: dict[str, Path] = field(default_factory=dict, compare=False)
    problems: dict[str, Problem] = field(default_factory=dict, compare=False)
    times: dict[str, datetime] = field(default_factory=dict, compare=False)
    late: bool = False  # the LMS marks the submission late but records no time
    name: str = ""
    email: str = ""
    unmatched: tuple[str, ...] = field(default=())

    def submission(self, exercise: Exercise) -> tuple[Path | None, SubmissionError | None]:
        """(the file for `exercise`, None) or (None, why it cannot be graded)."""
        if exercise.id in self.files:
            return self.files[exercise.id], None
        if exercise.id in self.problems:
            message, kind = self.problems[exercise.id]
            return None, SubmissionError(message, ErrorKind(kind))
        return None, SubmissionError(NO_SUBMISSION, ErrorKind.MISSING)


def download_text(text: str, limit: int = ERROR_CHARS) -> str:
    """Text that came from a download (a file, folder or member name, a name or email
    in metadata): capped and made inert like learner text. A name that is not UTF-8
    (surrogate-escaped by Python) is written out as escapes too, and so are newlines
    and tabs, which learner output keeps but a name must not (a forged line)."""
    return bounded(text, limit).replace("\n", "\\n").replace("\t", "\\t")


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


def capped(notes: list[str], limit: int = MAX_NOTES) -> list[str]:
    """At most `limit` notes, the last saying how many more there were (10,000 stray
    files must not make a 1 MB grades.json or a screenful of warnings)."""
    if len(notes) <= limit:
        return notes
    return [*notes[: limit - 1], f"... and {len(notes) - limit + 1:,} more notes like these"]


def _student(found: Found, exercises: Sequence[Exercise]) -> StudentFolder:
    # File names come from the download: neutralised as learner text is (no escape
    # sequence, forged line or reversed text reaches a terminal or a report).
    sorted_out = assign(((p, download_text(found.shown(p))) for p in found.files), exercises)
    times = {e: t for e, p in sorted_out.files.items() if (t := found.time_of(p))}
    notes = [*id_notes(found.id), *lookalike_notes(found.id),
             *(f"{found.id}: {n}" for n in sorted_out.notes),
             *(f"{found.id}: {u}" for u in sorted_out.unmatched)]
    problems = {e: Problem(download_text(p.message), p.kind)
                for e, p in sorted_out.problems.items()}
    return StudentFolder(found.id, found.folder, tuple(map(download_text, capped(notes))),
                         sorted_out.files, problems, times, found.late,
                         download_text(found.name, NAME_CHARS),
                         download_text(found.email, NAME_CHARS),
                         tuple(map(download_text, capped(sorted_out.unmatched))))


def discover(root: Path, exercises: Sequence[Exercise] = (), layout: Layout | None = None
             ) -> tuple[list[StudentFolder], list[Skipped], Layout]:
    """The students under `root` (sorted by id), the entries skipped with why, and the
    layout read (detected unless given). An nbgrader course folder works too: its
    ``submitted/`` holds the students.
    """
    layout, (found, skipped) = read_layout(root, layout)
    students: dict[str, StudentFolder] = {}
    twice = {i for i, n in Counter(f.id for f in found).items() if n > 1}
    for submitter in sorted(found, key=lambda f: f.id):
        problem = id_problem(submitter.id)
        if problem:
            shown = submitter.id if submitter.id.isprintable() else (
                submitter.id.encode("unicode_escape").decode())
            skipped.append(Skipped(name=shown, reason=problem))
        elif submitter.id in twice:  # which one is theirs is not ours to guess
            folders = sorted(f.folder.name for f in found if f.id == submitter.id)
            skipped.append(Skipped(name=submitter.id, reason=(
                f"{len(folders)} submissions name student {submitter.id} ({', '.join(folders)}):"
                " none is graded; keep one and run again")))
        else:
            students[submitter.id] = _student(submitter, exercises)
    kept, refused = refuse_collisions(list(students.values()))
    # a name refused twice (the same id in two submissions) is said once
    said = dict.fromkeys((download_text(s.name, NAME_CHARS), download_text(s.reason))
                         for s in skipped + refused)
    return kept, [Skipped(name=n, reason=r) for n, r in sorted(said)], layout


def people_of(students: list[StudentFolder]) -> dict[str, Person]:
    """Without a roster: who each student is, as far as the download says."""
    return {s.id: Person(name=s.name, email=s.email, on_roster=False) for s in students
            if s.name or s.email}
