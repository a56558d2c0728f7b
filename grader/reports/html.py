"""report.html: how the class did, in one self-contained file that opens offline.

Inline CSS, charts as inline SVG (reports/charts.py), everything else as tables.
Student ids and messages are untrusted text: every one is escaped.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from grader.reports import charts
from grader.reports.adjustments import adjustment_line
from grader.reports.cells import escape, points
from grader.reports.classstats import (
    ExerciseSummary,
    Row,
    erroring,
    exercise_summaries,
    slowest,
)
from grader.reports.reteach import (
    Attempt,
    CheckFailures,
    Drifts,
    ExerciseAttempts,
    check_failures,
    exercise_attempts,
    kind_name,
)
from grader.results import ClassResult, ErrorKind, StudentResult


@dataclass(frozen=True)
class SimilarityLink:
    """The similarity report written beside report.html, and what it found."""

    href: str
    flagged: int
    threshold: float
MAX_ERROR_ROWS = 500
HELP_BELOW = 0.5  # a total under this share of the points puts a student on "who needs help"

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
td { overflow-wrap: anywhere; }
"""


def _table(headers: list[str], rows: list[list[str]],
           numeric: AbstractSet[int] = frozenset()) -> str:
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
    return _table(["exercise", "title", "submitted", "mean final score",
                   "median final score", "out of", "full marks (final score)",
                   "could not be checked"], rows, {2, 3, 4, 5, 6, 7})


def _attempts(found: list[ExerciseAttempts]) -> str:
    rows = []
    for item in found:
        counts = item.attempts
        why = ", ".join(f"{kind_name(k)} {n}" for k, n in item.could_not_run.items())
        rows.append([escape(item.exercise), str(counts[Attempt.NOT_ATTEMPTED]),
                     f"{counts[Attempt.COULD_NOT_RUN]}" + (f" ({escape(why)})" if why else ""),
                     str(counts[Attempt.ANSWERED_WRONG]), str(counts[Attempt.FULL_MARKS]),
                     str(counts[Attempt.MISSING])])
    return _table(["exercise", "not attempted (blanks left)", "could not run",
                   "answered wrong (ran, some check failed)",
                   "all checks passed (before late penalties)", "no file"], rows, {1, 3, 4, 5})


def _drift(drift: Drifts) -> str:
    how = "too often" if drift.overdrawn else "too rarely"
    return (f"{escape(repr(drift.outcome))} drawn {how} in {drift.count} "
            f"file{'s' * (drift.count != 1)} (median {100 * drift.median_observed:.1f}%, "
            f"expected {100 * drift.expected:.1f}%)")


def _wrong(failures: CheckFailures) -> str:
    parts = [_drift(d) for d in failures.drifts[:2]]
    if failures.common:
        answer, count = failures.common
        parts.append(f"{escape(answer)} <span class=note>({count} "
                     f"file{'s' * (count != 1)})</span>")
    if failures.errored:
        parts.append(f"<span class=note>the check itself failed to run on "
                     f"{failures.errored}</span>")
    return "<br>".join(parts)


def _failures(found: list[CheckFailures]) -> str:
    rows = [[escape(f.exercise), escape(f.name),
             f"<span class={'low' if f.rate > 0.5 else 'ok'}>{100 * f.rate:.0f}%</span>",
             f"{f.failed}/{f.ran}", _wrong(f)] for f in found]
    return _table(["exercise", "check", "fail rate", "failed / files that ran",
                   "most common wrong answer"], rows, {2, 3})


def _who(result: ClassResult, student: str) -> str:
    """The roster's (or LMS's) name with the id, escaped; the id alone without a name."""
    person = result.people.get(student)
    name = person.name if person else ""
    return (f"{escape(name)} <span class=note>({escape(student)})</span>" if name
            else escape(student))


def _help_reasons(student: StudentResult, max_score: float) -> list[str]:
    """Why `student` needs help: nothing handed in, files that could not run, a low total."""
    missing = [e.exercise for e in student.exercises if e.error_kind is ErrorKind.MISSING]
    broken = [e.exercise for e in student.exercises if e.submitted and e.error is not None]
    reasons = []
    if missing:
        reasons.append(f"no submission: {', '.join(missing)}")
    if broken:
        reasons.append(f"could not run: {', '.join(broken)}")
    if max_score and student.total < HELP_BELOW * max_score:
        reasons.append(f"below {100 * HELP_BELOW:.0f}% of the points")
    return reasons


def _needs_help(result: ClassResult) -> str:
    rows = [[_who(result, s.student), escape("; ".join(why)),
             f"{points(s.total)}/{points(result.max_score)}"]
            for s in sorted(result.students, key=lambda s: s.total)
            if (why := _help_reasons(s, result.max_score))][:MAX_ERROR_ROWS]
    if not rows:
        return "<p class=note>nobody: every student handed in everything, it ran, and " \
               f"every total is at least {100 * HELP_BELOW:.0f}% of the points</p>"
    return _table(["student", "why", "total score"], rows, {2})


def _adjusted(result: ClassResult) -> str:
    """Every score a late penalty, an override or an extension touched, with why."""
    rows = []
    for student in result.students:
        for exercise in student.exercises:
            line = adjustment_line(exercise)
            if line is None or exercise.adjustment is None:
                continue
            a = exercise.adjustment
            rows.append([_who(result, student.student), escape(exercise.exercise),
                         points(a.raw), f"-{points(a.penalty)}" if a.penalty else "",
                         f"{a.override:+g}" if a.override else "", points(a.final),
                         escape("; ".join(a.reasons))])
    if not rows:
        return "<p class=note>none: no late penalty, override or extension applied</p>"
    return _table(["student", "exercise", "checks' score", "late penalty", "override",
                   "final score", "why"], rows[:MAX_ERROR_ROWS], {2, 3, 4, 5})


def _rows(result: ClassResult, rows: list[Row], with_error: bool) -> str:
    body = [[_who(result, r.student), escape(r.result.exercise), f"{r.result.seconds:.2f}",
             f"{points(r.result.score)}/{points(r.result.max_score)}",
             *([escape(r.result.error or "")] if with_error else [])] for r in rows]
    return _table(["student", "exercise", "seconds", "score",
                   *(["error"] if with_error else [])], body, {2, 3})


def _skipped(result: ClassResult) -> str:
    items = [f"<li><code>{escape(s.name)}</code>: {escape(s.reason)}</li>"
             for s in result.skipped]
    return f"<ul>{''.join(items)}</ul>" if items else "<p class=note>none</p>"


def _notes(result: ClassResult) -> str:
    items = [f"<li>{escape(note)}</li>" for notes in result.notes.values() for note in notes]
    return f"<ul>{''.join(items)}</ul>" if items else "<p class=note>none</p>"


def _workers(result: ClassResult) -> str:
    """Each worker that ran learner code for these results, with its sandbox's isolation."""
    rows = [[escape(u.worker.worker), escape(u.worker.host), escape(u.worker.level),
             escape(", ".join(u.worker.missing) or "nothing"), str(u.graded)]
            for u in result.workers[:MAX_ERROR_ROWS]]
    if not rows:
        return "<p class=note>no learner code ran</p>"
    return _table(["worker", "host", "isolation", "missing measures", "submissions"], rows, {4})


def _charts(summaries: list[ExerciseSummary], rates: list[CheckFailures], draw: bool) -> tuple[
        str, str]:
    if not draw:
        return "", ""
    return (f"<figure>{charts.distribution_chart(summaries)}</figure>",
            f"<figure>{charts.pass_rate_chart(rates)}<figcaption class=note>Pass rates: "
            "each bar is the share of the files that ran which passed the check (red: "
            "under half passed).</figcaption></figure>")


def _similarity(link: SimilarityLink | None) -> str:
    if link is None:
        return ""
    return (f'<p><a href="{escape(link.href)}">Similarity report</a>: {link.flagged} pairs '
            f"of submissions share {100 * link.threshold:.0f}% of their code or more.</p>")


def report_html(result: ClassResult, *, draw_charts: bool = True,
                similarity: SimilarityLink | None = None) -> str:
    """The whole class report as one HTML document."""
    summaries = exercise_summaries(result)
    rates = check_failures(result)
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
<p>{students} students, mean final total {mean:.1f}/{points(result.max_score)}.</p>
{_similarity(similarity)}
<h2>Who needs help</h2>
<p class=note>Students with an exercise not handed in, a file that could not run, or a
final total below {100 * HELP_BELOW:.0f}% of the points; lowest total first.</p>
{_needs_help(result)}
<h2>Scores per exercise</h2>
{_summary(summaries, students)}
{distribution}
<h2>What to reteach</h2>
<p class=note>How far each submission got: blanks left empty (not attempted), a file that
could not run (a syntax error, a crash, the time limit), or a file that ran.</p>
{_attempts(exercise_attempts(result))}
<p class=note>Checks ranked by failures among the files that ran (a file that never ran
says nothing about a check), each with its most common wrong answer.</p>
{pass_rates}
{_failures(rates)}
<h2>Submissions that could not be checked ({len(errors)})</h2>
{_rows(result, shown, with_error=True) if shown else "<p class=note>none</p>"}{more}
<h2>Late and adjusted scores</h2>
{_adjusted(result)}
<h2>Slowest submissions</h2>
{_rows(result, slowest(result), with_error=False)}
<h2>Skipped folders (not graded)</h2>
{_skipped(result)}
<h2>Notes on student ids and file names (graded all the same)</h2>
{_notes(result)}
<h2>Where the submissions ran (isolation per worker)</h2>
{_workers(result)}
</body></html>
"""
