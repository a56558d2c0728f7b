"""The class report's charts, drawn by matplotlib (the optional `report` extra).

Each chart is returned as a PNG data URI, so report.html stays one file.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from grader.reports.classstats import ExerciseSummary
from grader.reports.reteach import CheckFailures


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _data_uri(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display: render to memory
    from matplotlib import pyplot

    return pyplot


def distribution_chart(summaries: list[ExerciseSummary]) -> str:
    """One histogram of scores per exercise."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(summaries), figsize=(3.4 * len(summaries), 2.6),
                                squeeze=False)
    for axis, summary in zip(axes[0], summaries, strict=True):
        top = summary.info.max_score
        axis.hist(summary.scores, bins=[x - 0.5 for x in range(int(top) + 2)],
                  color="#3b6ea8", edgecolor="white")
        axis.set_title(summary.info.id, fontsize=10)
        axis.set_xlabel(f"score (out of {top:g})")
        axis.set_ylabel("students")
    figure.tight_layout()
    uri = _data_uri(figure)
    plt.close(figure)
    return uri


def pass_rate_chart(rates: list[CheckFailures]) -> str:
    """A bar per check: the share of the files that ran which passed it."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(8, 0.32 * len(rates) + 0.8))
    # "$" would start matplotlib's math mode
    labels = [f"{r.exercise}: {r.name}"[:70].replace("$", r"\$") for r in rates]
    values = [100 * (1 - r.rate) for r in rates]
    axis.barh(range(len(rates)), values, color=["#c0392b" if v < 50 else "#3b6ea8"
                                                 for v in values])
    axis.set_yticks(range(len(rates)), labels, fontsize=8)
    axis.invert_yaxis()
    axis.set_xlim(0, 100)
    axis.set_xlabel("% of the files that ran passing")
    figure.tight_layout()
    uri = _data_uri(figure)
    plt.close(figure)
    return uri
