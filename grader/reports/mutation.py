"""The author's report of `grade check --mutants`: kill rates, then every survivor's diff."""

from __future__ import annotations

import click

from grader.authoring.mutation import ExerciseMutation, MutantResult, MutantStatus, MutationReport
from grader.reports.problems import render_problems


def _indent(text: str, prefix: str = "      ") -> str:
    return "\n".join(prefix + line for line in text.rstrip("\n").splitlines())


def _survivor(mutant: MutantResult) -> list[str]:
    return [
        click.style(f"  survived {mutant.id}", fg="red", bold=True)
        + f" ({mutant.operator.value}), {mutant.file}:{mutant.source_line}: {mutant.after}",
        f"      passed every check: {'; '.join(mutant.passed)}",
        _indent(mutant.diff),
    ]


def _exercise(result: ExerciseMutation) -> list[str]:
    counted = result.killed + result.survived
    head = (f"{result.exercise}: {len(result.mutants)} mutants, {result.killed} killed, "
            f"{result.survived} survived, {result.equivalent} marked equivalent; kill rate "
            f"{100 * result.kill_rate:.0f}% of {counted}")
    lines = [click.style(head, bold=True, fg="red" if result.survived else None)]
    for mutant in result.mutants:
        if mutant.status == MutantStatus.SURVIVED:
            lines += _survivor(mutant)
        elif mutant.status == MutantStatus.EQUIVALENT:
            lines.append(f"  equivalent {mutant.id}, {mutant.file}:{mutant.source_line}: "
                         f"{mutant.after}"
                         f"  ({mutant.reason})")
    lines += [f"  note: this equivalence mark matches no surviving mutant: {mark}"
              for mark in result.stale_marks]
    return lines


def render_mutation(report: MutationReport) -> str:
    if report.problems:
        return render_problems(report.problems)
    lines = [line for exercise in report.exercises for line in _exercise(exercise)]
    total = sum(len(e.mutants) for e in report.exercises)
    lines.append(f"{total} mutants graded in {report.seconds:.1f} s ({report.workers} workers, "
                 f"time limit {report.time_limit:.1f} s each)")
    return "\n".join(lines)
