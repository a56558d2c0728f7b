"""Every file a batch writes into OUTDIR, each rendered from the same ClassResult."""

from __future__ import annotations

import json
from pathlib import Path

from grader.reports.canvas import IdColumn, canvas_csv
from grader.reports.feedback import feedback_markdown
from grader.reports.files import write_atomic
from grader.reports.gradebook import grades_csv, grades_json
from grader.reports.gradescope import gradescope_results
from grader.reports.html import report_html
from grader.reports.moodle import moodle_csv
from grader.results import ClassResult


def write_exports(outdir: Path, result: ClassResult, *, canvas_id: IdColumn = "SIS Login ID",
                  draw_charts: bool = True) -> list[Path]:
    """Write the gradebook, feedback, Gradescope and Canvas files and the report."""
    written = [
        write_atomic(outdir / "grades.csv", grades_csv(result)),
        write_atomic(outdir / "grades.json", grades_json(result)),
        write_atomic(outdir / "canvas.csv", canvas_csv(result, canvas_id)),
        write_atomic(outdir / "moodle.csv", moodle_csv(result)),
        write_atomic(outdir / "report.html", report_html(result, draw_charts=draw_charts)),
    ]
    for student in result.students:
        written.append(write_atomic(outdir / "feedback" / f"{student.student}.md",
                                    feedback_markdown(student, result)))
        gradescope = gradescope_results(student).model_dump(mode="json")
        written.append(write_atomic(outdir / "gradescope" / student.student / "results.json",
                                    json.dumps(gradescope, indent=2) + "\n"))
    return written
