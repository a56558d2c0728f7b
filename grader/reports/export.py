"""The registry of everything a batch writes into OUTDIR, each rendered from one ClassResult.

Adding a format is one module in grader/reports/ (a function from the ClassResult to
text) plus one line in `EXPORTS`: `write_exports`, the summary `grade batch` prints
and docs/contracts.md's list all read this registry.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from grader.atomic import (
    TEMPORARY,
    Content,
    Written,
    file_mode,
    temporary_name,
    write_all_atomic,
    write_temporary,
)
from grader.reports.canvas import IdColumn, canvas_csv
from grader.reports.feedback import feedback_markdown
from grader.reports.gradebook import grades_csv, grades_json_parts
from grader.reports.gradescope import gradescope_results
from grader.reports.html import SimilarityLink, report_html
from grader.reports.moodle import Split, moodle_csv, split_rows, unmatched_moodle_csv
from grader.results import ClassResult, ExerciseInfo, Person, StudentResult


@dataclass(frozen=True)
class Options:
    """What the person running the batch chose about the exports."""

    canvas_id: IdColumn = "SIS Login ID"
    draw_charts: bool = True
    similarity: SimilarityLink | None = None
    # student -> their feedback file's text, already rendered (`regrade.Settled.feedback`)
    feedback: Mapping[str, str] = field(default_factory=dict)
    # what more than one file is rendered from, made once per write (`_moodle`)
    made: dict[str, Split] = field(default_factory=dict, compare=False)


# (relative path, how to make its text) per file: every path is known (and checked)
# before any is written, and each text is made as it is written, never all held at once
Render = Callable[[ClassResult, Options], list[tuple[str, Callable[[], Content]]]]


@dataclass(frozen=True)
class Export:
    """One format: the files it writes (as the summary names them) and how to render them."""

    files: str
    render: Render
    per_student: bool = False  # a file of each student's own, which `Ahead` writes early


def per_student(folder: str, name: str, render: Callable[[StudentResult, ClassResult], str]
                ) -> Render:
    """A file per student: folder/ID.md (name "{}.md") or folder/ID/results.json."""
    return lambda result, _: [(f"{folder}/{name.format(s.student)}", partial(render, s, result))
                              for s in result.students]


def feedback_file(student: str) -> str:
    """A student's feedback file, relative to OUTDIR."""
    return f"feedback/{student}.md"


def _feedback(result: ClassResult, options: Options
              ) -> list[tuple[str, Callable[[], Content]]]:
    """feedback/ID.md per student: the text rendered for state.json's hash if given."""
    given = options.feedback
    return [(feedback_file(s.student),
             partial(str, given[s.student]) if s.student in given
             else partial(feedback_markdown, s, result)) for s in result.students]


def _moodle(result: ClassResult, options: Options) -> Split:
    """moodle.csv's rows and unmatched-moodle.csv's: split once for both files."""
    split = options.made.get("moodle")
    if split is None:
        split = options.made["moodle"] = split_rows(result)
    return split


def _gradescope(student: StudentResult, _: ClassResult) -> str:
    results = gradescope_results(student).model_dump(mode="json", exclude_none=True)
    return json.dumps(results, indent=2) + "\n"


EXPORTS: tuple[Export, ...] = (
    Export("grades.csv", lambda r, _: [("grades.csv", partial(grades_csv, r))]),
    Export("grades.json", lambda r, _: [("grades.json", partial(grades_json_parts, r))]),
    Export("canvas.csv", lambda r, o: [("canvas.csv", partial(canvas_csv, r, o.canvas_id))]),
    Export("moodle.csv", lambda r, o: [("moodle.csv",
                                        lambda: moodle_csv(r, _moodle(r, o)))]),
    Export("unmatched-moodle.csv", lambda r, o: [("unmatched-moodle.csv",
                                                  lambda: unmatched_moodle_csv(r, _moodle(r, o)))]),
    Export("report.html", lambda r, o: [("report.html", partial(
        report_html, r, draw_charts=o.draw_charts, similarity=o.similarity))]),
    Export("feedback/*.md", _feedback, per_student=True),
    Export("gradescope/*/results.json", per_student("gradescope", "{}/results.json", _gradescope),
           per_student=True),
)


def text_of(name: str, result: ClassResult, options: Options) -> str:
    """One export file's text (`name`, e.g. "grades.csv"), as write_exports writes it."""
    entry = next(e for e in EXPORTS if e.files == name)
    made = dict(entry.render(result, options))[name]()
    if isinstance(made, bytes):
        return made.decode()
    return made if isinstance(made, str) else "".join(made)


def summary() -> str:
    """The exports' files, as `grade batch` names them after writing."""
    return ", ".join(e.files for e in EXPORTS)


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


# A per-student file renders from its student's result and person (and the class's title
# and exercises: `Ahead.context`) alone (tests/test_exports_ahead.py holds every one to it)
Owner = tuple[StudentResult, Person | None]


def _owner(student: StudentResult, result: ClassResult) -> Owner:
    return student, result.people.get(student.student)


def _held(outdir: Path) -> bool:
    """Whether OUTDIR holds a per-student folder (an earlier run's, or a killed run's)."""
    return (outdir / "feedback").exists() or (outdir / "gradescope").exists()


class Ahead:
    """Each student's own export files, written while the rest of the class is graded.

    After the last result, a class of 40's 80 such files (and 40 folders) were half of
    the batch's tail, its second core idle. `write` takes a class of one, a student
    whose every file is graded, and writes their files under temporary names, keeping
    each text's digest and the student's result it was rendered from. After the last
    result, a file whose student's final result is that same one (nothing adjusted it)
    is renamed as it is, its text not rendered again (`settle`, `reuse`; state.json
    takes the feedback's digest, `feedback_digest`); any other is rendered and renamed
    if its text is the same, else written as always: the exports are what they would
    be, all renamed at once. `discard` removes what was never renamed (a batch that
    stopped).
    """

    def __init__(self, outdir: Path) -> None:
        self.outdir = outdir
        self.earlier: bool | None = None  # `_held`, before this run's first file
        self.files: dict[Path, tuple[Written, bytes]] = {}  # path -> temporary, digest
        self.owners: dict[Path, Owner] = {}  # path -> the result it shows, and who
        self.context: tuple[str, list[ExerciseInfo]] | None = None  # the class's title, exercises
        self.same: set[Path] = set()  # files whose student's final result is their own
        self.stopped = False
        self._mode = 0
        self.inside = Inside(outdir)  # the folders' verdicts, kept for the whole class

    def write(self, result: ClassResult) -> None:
        """Write the per-student files of `result`'s students under temporary names."""
        if self.stopped:
            return
        if self.earlier is None:  # under the journal's lock: no other batch writes here
            self.earlier, self._mode = _held(self.outdir), file_mode()
            self.context = (result.course, result.exercises)
        files = [(self.outdir / name, make) for export in EXPORTS if export.per_student
                 for name, make in export.render(result, Options())]
        if self.inside.outside([path for path, _ in files]):
            return  # `write_exports` refuses it, and says so
        owner = (_owner(result.students[0], result) if len(result.students) == 1
                 and self.context == (result.course, result.exercises) else None)
        try:
            for path, make in files:
                text = make()
                if not isinstance(text, str) or path in self.files:
                    continue
                digest = _digest(text)
                # its name held before the file is made: a Ctrl-C as it is written leaves
                # `discard` the name to remove (write_temporary removes a half-written one)
                self.files[path] = (Written(temporary_name(path)), digest)
                self.files[path] = (write_temporary(path, text, self._mode), digest)
                if owner is not None:
                    self.owners[path] = owner
        except Exception:  # a full disk, a bug: the exports write (and say) it all as
            self.stopped = True  # always, after the last result
            self.discard()

    def shows(self, path: Path, student: StudentResult | None, result: ClassResult) -> bool:
        """Whether the file at `path` shows `student`'s result (and person) in `result`."""
        owner = self.owners.get(path)
        return (owner is not None and student is not None and path in self.files
                and self.context == (result.course, result.exercises)
                and _owner(student, result) == owner)

    def settle(self, result: ClassResult) -> None:
        """Note which files show their student's final result in `result` as it is."""
        finals = {s.student: s for s in result.students}
        self.same = {path for path, (owner, _) in self.owners.items()
                     if self.shows(path, finals.get(owner.student), result)}

    def feedback_digest(self, student: StudentResult, result: ClassResult) -> str | None:
        """The SHA-256 (hex) of `student`'s feedback text if a file holds it already, as
        rendered from this very result of this class; None otherwise."""
        path = self.outdir / feedback_file(student.student)
        return self.files[path][1].hex() if self.shows(path, student, result) else None

    def reuse(self, path: Path, make: Callable[[], Content]) -> Content:
        """What `make` makes, or the temporary file that holds it already: unmade when
        the file shows its student's final result (`settle`), else compared by digest
        (and removed if it differs)."""
        held = self.files.pop(path, None)
        if held is None:
            return make()
        temporary, digest = held
        if path in self.same:
            return temporary
        data = make()
        if isinstance(data, str) and _digest(data) == digest:
            return temporary
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return data

    def discard(self) -> None:
        """Remove every temporary file no export renamed, and the folders left empty
        (a student's gradescope/ID/, gradescope/ and feedback/ themselves)."""
        folders = set()
        for temporary, _ in self.files.values():
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            folders.add(Path(temporary).parent)
        self.files.clear()
        for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
            while self.outdir in folder.parents:
                try:
                    folder.rmdir()
                except OSError:  # not empty: another file, or the TA's
                    break
                folder = folder.parent


def write_exports(outdir: Path, result: ClassResult, *, canvas_id: IdColumn = "SIS Login ID",
                  draw_charts: bool = True, similarity: SimilarityLink | None = None,
                  feedback: Mapping[str, str] | None = None, ahead: Ahead | None = None
                  ) -> list[Path]:
    """Write every registered export into `outdir`, all or none (a full disk changes
    nothing), then remove what no student owns any more. `feedback` holds the feedback
    files' texts already rendered from `result` (student -> text), if any; `ahead`, the
    per-student files written while the class was graded."""
    options = Options(canvas_id, draw_charts, similarity, feedback or {})
    files = [(outdir / name, make) for export in EXPORTS
             for name, make in export.render(result, options)]
    outside = Inside(outdir).outside([path for path, _ in files])
    if outside:  # a student id that slipped past every check must still not escape OUTDIR
        raise ValueError(f"refused to write outside {outdir}: {outside[0]}")
    # An OUTDIR with neither folder held no per-student file of an earlier run: what
    # is in them now, this run wrote (no second batch can take the journal's lock), so
    # pruning looks at the temporary files a killed run left at the top only.
    earlier = ahead.earlier if ahead is not None and ahead.earlier is not None else _held(
        outdir)
    if ahead is not None:
        ahead.settle(result)
    try:
        reuse = ahead.reuse if ahead is not None else _as_made
        written = write_all_atomic((path, reuse(path, make)) for path, make in files)
    finally:
        if ahead is not None:
            ahead.discard()
    prune(outdir, written, per_student=earlier)
    return written


def _as_made(path: Path, make: Callable[[], Content]) -> Content:
    return make()


class Inside:
    """Which paths would land outside `outdir`. Each folder is resolved once, not each
    file (2 realpaths per file cost 2000 at 1000 students), and `outdir` itself once
    per run: an `Ahead` asks for every student's files as they are graded; a file's own
    name need not be: the rename that writes it replaces a link there, never follows it."""

    def __init__(self, outdir: Path) -> None:
        self.outdir = outdir
        self.root: Path | None = None  # outdir resolved, when a folder first needs it
        self.inside: dict[Path, bool] = {outdir: True}

    def outside(self, paths: list[Path]) -> list[Path]:
        """The paths of `paths` that would land outside `outdir`."""
        return [p for p in paths if not self.within(p.parent) or p.name in ("", ".", "..")]

    def within(self, folder: Path) -> bool:
        # A folder named plainly, not a link, is inside iff its parent is: one lstat
        # each, not the realpath's one per component of the path (10 for /tmp/x/out/y).
        known = self.inside.get(folder)
        if known is None:
            plain = (folder.name not in ("", ".", "..") and folder.parent != folder
                     and not folder.is_symlink())
            if plain:
                known = self.within(folder.parent)
            else:
                if self.root is None:
                    self.root = self.outdir.resolve()
                known = folder.resolve().is_relative_to(self.root)
            self.inside[folder] = known
        return known


def prune(outdir: Path, written: list[Path], *, per_student: bool = True) -> list[Path]:
    """Remove per-student files this run did not write (a student removed or renamed
    since an earlier run: a TA must never upload their stale grade), and temporary
    files a killed run left. OUTDIR then holds what one clean run would write.
    `per_student`: whether feedback/ and gradescope/ may hold an earlier run's files
    (False: this run made them, and only OUTDIR's own temporary files are looked for)."""
    keep = set(written)
    removed = []
    # only the names this module writes: anything else in OUTDIR is the TA's
    candidates = [*outdir.glob(f".*{TEMPORARY}"), *outdir.glob(f"*/.*{TEMPORARY}")]
    if per_student:
        candidates += [*(outdir / "feedback").glob("*.md"),
                       *(outdir / "gradescope").glob("*/results.json"),
                       *outdir.glob(f"gradescope/*/.*{TEMPORARY}")]
    for path in candidates:  # a file just written is kept without a look at it
        if path not in keep and path.is_file() and not path.is_symlink():
            path.unlink()
            removed.append(path)
    holding = {path.parent for path in written}  # not empty: no rmdir to try
    for folder in (outdir / "gradescope").glob("*") if per_student else ():
        if folder not in holding and folder.is_dir() and not folder.is_symlink():
            with contextlib.suppress(OSError):  # not empty: something of the TA's
                folder.rmdir()
    return removed
