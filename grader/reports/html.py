"""report.html: how the class did, in one self-contained file that opens offline.

Inline CSS, charts as inline SVG (reports/charts.py), everything else as tables.
Student ids and messages are untrusted text: every one is escaped.
"""

from __future__ import annotations

from html import escape

from grader.reports import charts
from grader.reports.cells import points
from grader.reports.classstats import (
    CheckRate,
    ExerciseSummary,
    Row,
    check_rates,
    erroring,
    exercise_summaries,
    slowest,
)
from grader.results import ClassResult

MAX_ERROR_ROWS = 500

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 60em;
       color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; margin: .6em 0; }
th, td { border-bottom: 1px solid #ddd; padding: .25em .7em; text-align: left;
         vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.low { color: #b03a2e; font-weight: 600; } .note { color: #666; }
svg.chart { max-width: 100%; height: auto; } figure { margin: .6em 0; }
"""


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    """An HTML table; cells are already-escaped HTML."""
    def cell(tag: str, index: int, value: str) -> str:
        return f"<{tag}{' class=n' if index in numeric else ''}>{value}</{tag}>"

    head = "".join(cell("th", i, escape(h)) for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _summary(summaries: list[ExerciseSummary], students: int) -> str:
    rows = [[escape(s.info.id), escape(s.info.title), f"{s.submitted}/{students}",
             f"{s.mean:.1f}", points(s.median), points(s.info.max_score), str(s.full_marks),
             str(s.errors)] for s in summaries]
    return _table(["exercise", "title", "submitted", "mean", "median", "out of",
                   "full marks", "could not be checked"], rows, {2, 3, 4, 5, 6, 7})


def _rates(rates: list[CheckRate]) -> str:
    rows = [[escape(r.exercise), escape(r.name),
             f"<span class={'low' if r.rate < 0.5 else 'ok'}>{100 * r.rate:.0f}%</span>",
             f"{r.passed}/{r.out_of}", escape(r.common_failure)] for r in rates]
    return _table(["exercise", "check", "pass rate", "passed", "most common failure"],
                  rows, {2, 3})


def _rows(rows: list[Row], with_error: bool) -> str:
    body = [[escape(r.student), escape(r.result.exercise), f"{r.result.seconds:.2f}",
             f"{points(r.result.score)}/{points(r.result.max_score)}",
             *([escape(r.result.error or "")] if with_error else [])] for r in rows]
    return _table(["student", "exercise", "seconds", "score",
                   *(["error"] if with_error else [])], body, {2, 3})


def _warnings(result: ClassResult) -> str:
    items = [f"<li>skipped folder <code>{escape(s.name)}</code>: {escape(s.reason)}</li>"
             for s in result.skipped]
    items += [f"<li>{escape(note)}</li>" for notes in result.notes.values() for note in notes]
    return f"<ul>{''.join(items)}</ul>" if items else "<p class=note>none</p>"


def _workers(result: ClassResult) -> str:
    """Each worker that ran learner code for these results, with its sandbox's isolation."""
    rows = [[escape(u.worker.worker), escape(u.worker.host), escape(u.worker.level),
             escape(", ".join(u.worker.missing) or "nothing"), str(u.graded)]
            for u in result.workers[:MAX_ERROR_ROWS]]
    if not rows:
        return "<p class=note>no learner code ran</p>"
    return _table(["worker", "host", "isolation", "missing measures", "submissions"], rows, {4})


def _charts(summaries: list[ExerciseSummary], rates: list[CheckRate], draw: bool) -> tuple[
        str, str]:
    if not draw:
        return "", ""
    return (f"<figure>{charts.distribution_chart(summaries)}</figure>",
            f"<figure>{charts.pass_rate_chart(rates)}</figure>")


def report_html(result: ClassResult, *, draw_charts: bool = True) -> str:
    """The whole class report as one HTML document."""
    summaries = exercise_summaries(result)
    rates = check_rates(result)
    errors = erroring(result)
    distribution, pass_rates = _charts(summaries, rates, draw_charts) if rates else ("", "")
    students = len(result.students)
    totals = [s.total for s in result.students]
    mean = sum(totals) / students if students else 0.0
    shown = errors[:MAX_ERROR_ROWS]
    more = (f"<p class=note>{len(errors) - len(shown)} more in grades.json</p>"
            if len(errors) > len(shown) else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Class report: {escape(result.course)}</title><style>{STYLE}</style></head>
<body>
<h1>Class report: {escape(result.course)}</h1>
<p>{students} students, mean total {mean:.1f}/{points(result.max_score)}.</p>
<h2>Scores per exercise</h2>
{_summary(summaries, students)}
{distribution}
<h2>Checks, least passed first (what to reteach)</h2>
<p class=note>Among submitted files; a file that could not be checked fails every check.</p>
{pass_rates}
{_rates(rates)}
<h2>Submissions that could not be checked ({len(errors)})</h2>
{_rows(shown, with_error=True) if shown else "<p class=note>none</p>"}{more}
<h2>Slowest submissions</h2>
{_rows(slowest(result), with_error=False)}
<h2>Skipped folders and escaped ids</h2>
{_warnings(result)}
<h2>Where the submissions ran (isolation per worker)</h2>
{_workers(result)}
</body></html>
"""
