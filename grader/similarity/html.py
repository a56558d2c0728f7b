"""The similarity report: a ranked index page and one side-by-side page per pair.

Plain HTML and inline CSS, no script and nothing fetched: it opens offline, and
student ids and code are untrusted text, so every piece of them is escaped.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from grader.atomic import write_atomic
from grader.similarity.compare import ExerciseSimilarity, Pair, Side, SimilarityReport

INDEX = "similarity.html"
PAGES = "similarity"  # folder of the side-by-side pages

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 75em;
       color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; }
table { border-collapse: collapse; margin: .6em 0; }
th, td { border-bottom: 1px solid #ddd; padding: .25em .7em; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.flag td { background: #fdecea; } .note { color: #555; }
.sides { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
.sides > section { min-width: 0; }  /* else a long line widens its column */
@media (max-width: 50em) { .sides { grid-template-columns: 1fr; } }
pre { background: #f7f7f7; padding: .6em; overflow-x: auto; font-size: 13px;
      line-height: 1.35; margin: 0; white-space: pre; }
mark { background: #ffe08a; }
"""


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n"
            f"<body>\n{body}\n</body></html>\n")


def _who(side: Side) -> str:
    return escape(side.student) + (" <span class=note>(past term)</span>"
                                   if side.reference else "")


def _highlighted(side: Side) -> str:
    """The code, escaped, with the shared stretches in <mark>."""
    out, at = [], 0
    for start, end in sorted(side.spans):
        start = max(start, at)
        if end <= start:
            continue
        out += [escape(side.code[at:start]), "<mark>", escape(side.code[start:end]), "</mark>"]
        at = end
    out.append(escape(side.code[at:]))
    return "".join(out)


def _pair_name(exercise: str, rank: int) -> str:
    return f"{PAGES}/{exercise}-{rank}.html"


def pair_page(pair: Pair, rank: int, title: str) -> str:
    columns = "".join(
        f"<section><h2>{_who(side)}: {100 * side.similarity:.0f}% of this file is in the "
        f"other</h2><pre>{_highlighted(side)}</pre></section>" for side in (pair.a, pair.b))
    body = (f'<p><a href="../{INDEX}">all pairs</a></p>'
            f"<h1>{escape(pair.exercise)} ({escape(title)}), pair {rank}</h1>"
            f"<p>{pair.overlap} characters of code in common (names, comments and layout "
            "ignored; code the course hands out is not counted). Highlighted: the shared "
            f"code.</p><div class=sides>{columns}</div>")
    return _page(f"{pair.exercise} pair {rank}: similarity", body)


def _exercise(result: ExerciseSimilarity, threshold: float) -> str:
    rows = []
    for rank, pair in enumerate(result.pairs, 1):
        flag = " class=flag" if pair.similarity >= threshold else ""
        rows.append(f"<tr{flag}><td class=n>{rank}</td><td>{_who(pair.a)}</td>"
                    f"<td>{_who(pair.b)}</td><td class=n>{100 * pair.similarity:.0f}%</td>"
                    f"<td class=n>{100 * pair.a.similarity:.0f}% / "
                    f"{100 * pair.b.similarity:.0f}%</td><td class=n>{pair.overlap}</td>"
                    f'<td><a href="{_pair_name(result.exercise, rank)}">side by side</a></td>'
                    "</tr>")
    flagged = sum(p.similarity >= threshold for p in result.pairs)
    head = (f"<h2>{escape(result.exercise)}: {escape(result.title)}</h2>"
            f"<p>{result.files} files this term, {result.references} from past terms; "
            f"{result.compared} pairs compared; {flagged} at or above "
            f"{100 * threshold:.0f}%.</p>")
    if result.unreadable:
        head += ("<p class=note>Not compared (could not be read): "
                 f"{escape(', '.join(result.unreadable))}</p>")
    if not rows:
        return head + "<p class=note>no pair shares enough code to list</p>"
    table = ("<table><thead><tr><th class=n>rank</th><th>student</th><th>student</th>"
             "<th class=n>similarity</th><th class=n>each file</th>"
             "<th class=n>shared</th><th>view</th></tr></thead><tbody>"
             + "".join(rows) + "</tbody></table>")
    return head + table


def index_page(report: SimilarityReport) -> str:
    body = (f"<h1>Similarity: {escape(report.course)}</h1>"
            f"<p>{report.flagged} pairs at or above {100 * report.threshold:.0f}% (the share "
            "of a file's own code found in the other file, the larger of the two). "
            "Similar code is a reason to look, not proof of copying.</p>"
            "<p class=note>Computed on this machine with copydetect; no code was sent "
            "anywhere. Variable names, comments and layout are ignored; code that any "
            "skeleton of the course hands out does not count. Past terms' files are "
            "compared with this term's, never with each other.</p>"
            + "".join(_exercise(e, report.threshold) for e in report.exercises))
    return _page(f"Similarity: {report.course}", body)


def write_similarity(outdir: Path, report: SimilarityReport) -> list[Path]:
    """OUTDIR/similarity.html, similarity/*.html (one per listed pair), similarity.json."""
    written = [write_atomic(outdir / INDEX, index_page(report)),
               write_atomic(outdir / "similarity.json", report.model_dump_json(indent=1))]
    for result in report.exercises:
        for rank, pair in enumerate(result.pairs, 1):
            written.append(write_atomic(outdir / _pair_name(result.exercise, rank),
                                        pair_page(pair, rank, result.title)))
    return written
