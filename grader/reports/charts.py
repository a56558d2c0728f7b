"""The class report's charts, drawn as inline SVG: no plotting library, nothing to import.

A histogram and a bar chart are a few rectangles and labels. Drawing them here costs
microseconds, where importing and running matplotlib cost about a second per report:
more than grading a section of 40 (bench/startup.py). Each chart is an accessible
image (role="img" with a title and description) whose text is escaped, since check
names come from course authors and exercise ids from course.yaml.
"""

from __future__ import annotations

from grader.reports.cells import escape
from grader.reports.classstats import ExerciseSummary
from grader.reports.reteach import CheckFailures

BLUE, RED, GREY, INK = "#3b6ea8", "#c0392b", "#ccc", "#333"
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def _svg(width: int, height: int, title: str, description: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" class="chart">'
            f"<title>{escape(title)}</title><desc>{escape(description)}</desc>"
            + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, anchor: str = "middle", fill: str = INK) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" {FONT}>'
            f"{escape(text)}</text>")


def _histogram(summary: ExerciseSummary, left: int) -> tuple[list[str], str]:
    """One exercise's histogram of whole-point scores, placed `left` pixels in."""
    top = max(0, int(summary.info.max_score))
    counts = [0] * (top + 1)
    for score in summary.scores:
        counts[min(top, max(0, round(score)))] += 1
    tallest = max(counts) or 1
    plot_w, plot_h, base = 220, 110, 140
    bar = plot_w / len(counts)
    body = [_text(left + plot_w / 2, 16, summary.info.id),
            f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="{GREY}"/>']
    for score, count in enumerate(counts):
        height = plot_h * count / tallest
        x = left + score * bar
        body.append(f'<rect x="{x + 1:.1f}" y="{base - height:.1f}" width="{bar - 2:.1f}" '
                    f'height="{height:.1f}" fill="{BLUE}"><title>{count} students scored '
                    f"{score}</title></rect>")
        if count:
            body.append(_text(x + bar / 2, base - height - 3, str(count)))
        if len(counts) <= 12 or score % 2 == 0:
            body.append(_text(x + bar / 2, base + 13, str(score)))
    body.append(_text(left + plot_w / 2, base + 28, f"score (out of {summary.info.max_score:g})"))
    words = ", ".join(f"{count} scored {score}" for score, count in enumerate(counts) if count)
    return body, f"{summary.info.id}: {words or 'no students'}"


def distribution_chart(summaries: list[ExerciseSummary]) -> str:
    """One histogram of scores per exercise, side by side."""
    body: list[str] = []
    descriptions = []
    for index, summary in enumerate(summaries):
        parts, description = _histogram(summary, 10 + 250 * index)
        body += parts
        descriptions.append(description)
    return _svg(250 * len(summaries) + 10, 180, "Score distribution per exercise",
                "; ".join(descriptions), body)


def pass_rate_chart(rates: list[CheckFailures]) -> str:
    """A bar per check: the share of the files that ran which passed it (red under half)."""
    label_w, plot_w, row = 430, 300, 20
    body = []
    for index, rate in enumerate(rates):
        y = 8 + index * row
        label = f"{rate.exercise}: {rate.name}"
        label = label if len(label) <= 70 else label[:69] + "…"
        passing = 1 - rate.rate  # rate: failures among the files that ran
        width = plot_w * passing
        body += [_text(label_w - 8, y + 13, label, anchor="end"),
                 f'<rect x="{label_w}" y="{y + 2}" width="{plot_w}" height="{row - 6}" '
                 f'fill="#f2f2f2"/>',
                 f'<rect x="{label_w}" y="{y + 2}" width="{width:.1f}" height="{row - 6}" '
                 f'fill="{RED if passing < 0.5 else BLUE}"/>',
                 _text(label_w + plot_w + 6, y + 13, f"{100 * passing:.0f}%", anchor="start")]
    description = "; ".join(f"{r.exercise}: {r.name}: {100 * (1 - r.rate):.0f}% of the files "
                            "that ran passed" for r in rates)
    return _svg(label_w + plot_w + 50, 16 + row * len(rates),
                "Pass rate per check, among the files that ran",
                description, body)
