"""The author's report of `grade check` and `grade build`: one `file:line: message` each."""

from __future__ import annotations

import click

from grader.authoring.problems import Problem


def render_problems(problems: list[Problem]) -> str:
    """Problems in the `file:line: message` form editors and terminals link to."""
    lines = [click.style(f"{p.file}:{p.line}" if p.line else p.file, bold=True)
             + f": {p.message}" for p in problems]
    files = len({p.file for p in problems})
    noun = "problem" if len(problems) == 1 else "problems"
    lines.append(click.style(f"{len(problems)} {noun} in {files} "
                             f"file{'' if files == 1 else 's'}", fg="red", bold=True))
    return "\n".join(lines)
