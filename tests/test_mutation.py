"""`grade check --mutants`: mutants of each solution, graded by the batch engine.

The shipped checks kill every mutant that is not marked equivalent; weakened
checks let named mutants survive; marks come from solution comments or course.yaml.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
import pytest

from grader.authoring.markers import equivalent_marks, make_skeleton
from grader.authoring.mutants import Operator, make_mutants
from grader.authoring.mutation import MutantStatus, MutationReport, run_mutants
from grader.batch.pool import WorkerPool
from grader.course import Course, load_course
from grader.reports.mutation import render_mutation
from tests.conftest import ROOT
from tests.test_authoring import copy_course, edit

SNIPPET = '''"""A module docstring."""
import random

table = {"a": 1, "b": 2}


def pick(items, limit):
    """Docstring."""
    if len(items) < limit:
        return random.choice(items)
    return items[limit - 1]


if __name__ == "__main__":
    print(pick([1, 2], 3) > 0)
'''

# The equivalent mutants of the shipped solutions (the closing note says why, and so
# does the # EQUIVALENT MUTANT comment above each line in solutions/).
EQUIVALENT = {
    "exercise-1": {"12:0:drop", "12:12:constant", "12:12:constant/2", "12:12:constant/3",
                   "33:11:compare"},
    "exercise-2": {"14:0:drop", "14:12:constant", "14:12:constant/2", "14:12:constant/3"},
    "exercise-3": {"22:0:drop", "22:12:constant", "22:12:constant/2", "46:22:constant",
                   "46:22:constant/2"},
}


def _afters(source: str) -> dict[Operator, set[str]]:
    found: dict[Operator, set[str]] = {}
    for mutant in make_mutants(source):
        found.setdefault(mutant.operator, set()).add(mutant.after)
    return found


def test_each_operator_makes_the_mutants_it_names() -> None:
    afters = _afters(SNIPPET)
    assert afters[Operator.COMPARE] == {"if len(items) <= limit:", "if len(items) >= limit:",
                                        "if len(items) > limit:"}
    assert {"return items[limit - 2]", "return items[limit - 0]"} <= afters[Operator.CONSTANT]
    assert afters[Operator.SWAP] == {"return items[1 - limit]"}
    assert afters[Operator.RETURN] == {"return None"}
    assert afters[Operator.DICT] == {'table = {"a": 2, "b": 1}'}
    assert afters[Operator.RANDOM] == {"return items[0]"}
    assert "pass" in afters[Operator.DROP]


def test_mutants_leave_docstrings_and_the_main_block_alone() -> None:
    mutants = make_mutants(SNIPPET)
    assert all(m.line < 14 for m in mutants), [m.id for m in mutants if m.line >= 14]
    dropped = [m.before for m in mutants if m.operator == Operator.DROP]
    assert '"""Docstring."""' not in dropped and '"""A module docstring."""' not in dropped
    for mutant in mutants:
        compile(mutant.source, mutant.id, "exec")
        assert mutant.diff(SNIPPET).count("\n+") >= 1


def test_equivalent_marks_name_the_next_code_line_and_stay_out_of_the_skeleton() -> None:
    solution = ("x = 1\n# EQUIVALENT MUTANT (constant): any x works\n\n"
                "y = x + 2  # BLANK: 2 | two\n")
    (mark,) = equivalent_marks(solution)
    assert (mark.code, mark.which, mark.reason) == ("y = x + 2", "constant", "any x works")
    skeleton = make_skeleton(solution)
    assert "EQUIVALENT" not in skeleton.text and "EQUIVALENT" not in skeleton.solution


@pytest.fixture(scope="module")
def shipped(course: Course) -> MutationReport:
    return run_mutants(course, list(course.exercises), jobs=2, pool=WorkerPool.for_course)


def test_shipped_checks_kill_every_mutant_not_marked_equivalent(shipped: MutationReport
                                                                 ) -> None:
    assert shipped.ok and not shipped.problems
    for exercise in shipped.exercises:
        survivors = [f"{m.id}: {m.after}" for m in exercise.mutants
                     if m.status == MutantStatus.SURVIVED]
        assert survivors == [], (exercise.exercise, survivors)
        assert exercise.kill_rate == 1.0
        assert exercise.killed >= 17, exercise.exercise
        equivalent = {m.id for m in exercise.mutants if m.status == MutantStatus.EQUIVALENT}
        assert equivalent == EQUIVALENT[exercise.exercise]
        assert exercise.stale_marks == []
    every = {m.operator for e in shipped.exercises for m in e.mutants}
    assert every == set(Operator)


def test_a_killed_mutant_names_the_checks_that_failed(shipped: MutationReport) -> None:
    first = shipped.exercises[0]
    flipped = next(m for m in first.mutants if m.after.startswith("if r >= cumulative"))
    assert flipped.status == MutantStatus.KILLED
    assert "Draws from weather follow its weights" in flipped.failed
    looping = next(m for m in shipped.exercises[2].mutants
                   if m.operator == Operator.DROP and m.before == "out.append(word)")
    assert looping.status == MutantStatus.KILLED and "time limit" in (looping.error or "")


def test_weak_checks_let_a_named_mutant_survive(tmp_path: Path, run_grade) -> None:
    """Drop exercise 1's frequency checks: the flipped comparison gets full marks."""
    course = copy_course(ROOT, tmp_path / "course")
    checks = course / "checks" / "exercise_1.py"
    text = checks.read_text()
    checks.write_text(re.sub(r'@check\("Draws from weather.*?(?=@check\("The same seed)', "",
                             text, flags=re.S))
    yaml = course / "course.yaml"
    yaml.write_text(yaml.read_text().replace("points: 10", "points: 6", 1))
    edit(yaml, "checks: checks/exercise_1.py\n", "checks: checks/exercise_1.py\n"
         "    equivalent_mutants:\n"
         "      - code: r = random.random()\n"
         "        mutant: random\n"
         "        reason: planted to test course.yaml marks\n")
    done = run_grade("--course", str(course), "check", "--mutants", "exercise-1", "--json",
                     "--jobs", "2")
    assert done.returncode == 1, done.stderr
    report = MutationReport.model_validate_json(done.stdout)
    (exercise,) = report.exercises
    survivors = [m for m in exercise.mutants if m.status == MutantStatus.SURVIVED]
    flipped = next(m for m in survivors if m.after.startswith("if r >= cumulative"))
    assert flipped.passed == ["weather holds three non-negative numbers",
                              "The weights add up to 1",
                              "sample returns an outcome of the distribution it is given",
                              "The same seed gives the same draws"]
    assert "-        if r < cumulative:" in flipped.diff
    assert "+        if r >= cumulative:" in flipped.diff
    assert exercise.kill_rate < 1.0
    planted = next(m for m in exercise.mutants if m.after.startswith("r = 0.5"))
    assert (planted.status, planted.reason) == (MutantStatus.EQUIVALENT,
                                                "planted to test course.yaml marks")
    shown = render_mutation(report)
    assert f"survived {flipped.id}" in shown and "if r >= cumulative" in shown
    assert json.loads(done.stdout)["exercises"][0]["survived"] == len(survivors)


def test_mutants_refuse_a_solution_without_full_marks(tmp_path: Path) -> None:
    root = copy_course(ROOT, tmp_path / "course")
    edit(root / "solutions" / "exercise_2_generator.py", "range(length - 1)",
         "range(length - 2)")
    course = load_course(root / "course.yaml")
    report = run_mutants(course, [course.exercises[1]], jobs=1, pool=WorkerPool.for_course)
    (problem,) = report.problems
    assert not report.ok and report.exercises == []
    assert problem.exercise == "exercise-2" and "does not get full marks" in problem.message
    assert click.unstyle(render_mutation(report)).startswith(problem.file)
