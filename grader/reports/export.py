"""Every file a batch writes into OUTDIR, each rendered from the same ClassResult."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from grader.reports.canvas import IdColumn, canvas_csv
from grader.reports.feedback import feedback_markdown
from grader.reports.files import TEMPORARY, write_all_atomic
from grader.reports.gradebook import grades_csv, grades_json
from grader.reports.gradescope import gradescope_results
from grader.reports.html import SimilarityLink, report_html
from grader.results import ClassResult


def write_exports(outdir: Path, result: ClassResult, *, canvas_id: IdColumn = "SIS Login ID",
                  draw_charts: bool = True, similarity: SimilarityLink | None = None
                  ) -> list[Path]:
    """Write the gradebook, feedback, Gradescope and Canvas files and the report, all
    or none (a full disk changes nothing), then remove what no student owns any more."""
    files = [
        (outdir / "grades.csv", grades_csv(result)),
        (outdir / "grades.json", grades_json(result)),
        (outdir / "canvas.csv", canvas_csv(result, canvas_id)),
        (outdir / "report.html", report_html(result, draw_charts=draw_charts,
                                                   similarity=similarity)),
    ]
    for student in result.students:
        files.append((outdir / "feedback" / f"{student.student}.md",
                      feedback_markdown(student, result)))
        gradescope = gradescope_results(student).model_dump(mode="json", exclude_none=True)
        files.append((outdir / "gradescope" / student.student / "results.json",
                      json.dumps(gradescope, indent=2) + "\n"))
    written = write_all_atomic(files)
    prune(outdir, written)
    return written


def prune(outdir: Path, written: list[Path]) -> list[Path]:
    """Remove per-student files this run did not write (a student removed or renamed
    since an earlier run: a TA must never upload their stale grade), and temporary
    files a killed run left. OUTDIR then holds what one clean run would write."""
    keep = set(written)
    removed = []
    # only the names this module writes: anything else in OUTDIR is the TA's
    candidates = [*(outdir / "feedback").glob("*.md"),
                  *(outdir / "gradescope").glob("*/results.json"),
                  *outdir.glob(f".*{TEMPORARY}"), *outdir.glob(f"*/.*{TEMPORARY}"),
                  *outdir.glob(f"gradescope/*/.*{TEMPORARY}")]
    for path in candidates:
        if path.is_file() and not path.is_symlink() and path not in keep:
            path.unlink()
            removed.append(path)
    for folder in (outdir / "gradescope").glob("*"):
        if folder.is_dir() and not folder.is_symlink():
            with contextlib.suppress(OSError):  # not empty: something of the TA's
                folder.rmdir()
    return removed
