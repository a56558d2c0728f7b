"""The registry of everything a batch writes into OUTDIR, each rendered from one ClassResult.

Adding a format is one module in grader/reports/ (a function from the ClassResult to
text) plus one line in `EXPORTS`: `write_exports`, the summary `grade batch` prints
and docs/contracts.md's list all read this registry.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from grader.atomic import TEMPORARY, Content, write_all_atomic
from grader.reports.canvas import IdColumn, canvas_csv
from grader.reports.feedback import feedback_markdown
from grader.reports.gradebook import grades_csv, grades_json_parts
from grader.reports.gradescope import gradescope_results
from grader.reports.html import SimilarityLink, report_html
from grader.reports.moodle import Split, moodle_csv, split_rows, unmatched_moodle_csv
from grader.results import ClassResult, StudentResult


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


def per_student(folder: str, name: str, render: Callable[[StudentResult, ClassResult], str]
                ) -> Render:
    """A file per student: folder/ID.md (name "{}.md") or folder/ID/results.json."""
    return lambda result, _: [(f"{folder}/{name.format(s.student)}", partial(render, s, result))
                              for s in result.students]


def _feedback(result: ClassResult, options: Options
              ) -> list[tuple[str, Callable[[], Content]]]:
    """feedback/ID.md per student: the text rendered for state.json's hash if given."""
    given = options.feedback
    return [(f"feedback/{s.student}.md",
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
    Export("feedback/*.md", _feedback),
    Export("gradescope/*/results.json", per_student("gradescope", "{}/results.json", _gradescope)),
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


def write_exports(outdir: Path, result: ClassResult, *, canvas_id: IdColumn = "SIS Login ID",
                  draw_charts: bool = True, similarity: SimilarityLink | None = None,
                  feedback: Mapping[str, str] | None = None) -> list[Path]:
    """Write every registered export into `outdir`, all or none (a full disk changes
    nothing), then remove what no student owns any more. `feedback` holds the feedback
    files' texts already rendered from `result` (student -> text), if any."""
    options = Options(canvas_id, draw_charts, similarity, feedback or {})
    files = [(outdir / name, make) for export in EXPORTS
             for name, make in export.render(result, options)]
    outside = _outside(outdir, [path for path, _ in files])
    if outside:  # a student id that slipped past every check must still not escape OUTDIR
        raise ValueError(f"refused to write outside {outdir}: {outside[0]}")
    # An OUTDIR with neither folder held no per-student file of an earlier run: what
    # is in them now, this run wrote (a second batch waits for the journal's lock), so
    # pruning looks at the temporary files a killed run left at the top only.
    earlier = (outdir / "feedback").exists() or (outdir / "gradescope").exists()
    written = write_all_atomic((path, make()) for path, make in files)
    prune(outdir, written, per_student=earlier)
    return written


def _outside(outdir: Path, paths: list[Path]) -> list[Path]:
    """The paths that would land outside `outdir`. Each folder is resolved once, not
    each file (2 realpaths per file cost 2000 at 1000 students); a file's own name
    need not be: the rename that writes it replaces a link there, never follows it."""
    root = outdir.resolve()
    inside: dict[Path, bool] = {outdir: True}

    def within(folder: Path) -> bool:
        # A folder named plainly, not a link, is inside iff its parent is: one lstat
        # each, not the realpath's one per component of the path (10 for /tmp/x/out/y).
        known = inside.get(folder)
        if known is None:
            plain = (folder.name not in ("", ".", "..") and folder.parent != folder
                     and not folder.is_symlink())
            known = within(folder.parent) if plain else folder.resolve().is_relative_to(root)
            inside[folder] = known
        return known

    return [p for p in paths if not within(p.parent) or p.name in ("", ".", "..")]


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
