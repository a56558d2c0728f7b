"""GitHub Classroom: the template repository (`grade export github-classroom`) and `grade ci`.

The workflow has one step per exercise running `grade ci exercise-N`, which prints the
usual feedback and sets the step output `result` that Classroom's reporter step reads.
The reporter `JSON.parse`s every runner's result and records nothing when one is
missing, so a result always exists: each grading step runs whatever happened before it
(`if: always()`), its script writes an error result worth 0 points when grade could not
grade, and the reporter's input falls back to that error result when the step wrote
nothing at all (it timed out, or never ran).
Everything in the repository is visible to the learner who owns it, checks included:
by default every check ships (hidden ones too, so nothing is secret there); with
`public_only` the repository holds the learners' release and grades public checks.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any

import yaml

from grader.authoring.release import copy_course
from grader.checks import load_checks
from grader.course import Course, Exercise
from grader.platforms.wheels import grade_wheel, wheel_file
from grader.reports.classroom import encoded, error_result
from grader.runner import SubmissionError, find_blanks, read

WORKFLOW = Path(".github/workflows/classroom.yml")
WHEELS = Path(".grade/wheels")
RUNNER = Path(".grade/grade-ci")
# Ubuntu 24.04 runners forbid unprivileged user namespaces (AppArmor); as root the
# sandbox still gets its namespaces, chroot and own uid, so the runner uses sudo when it
# can. Without it grade falls back to a reduced level and says which, in the log.
STEP_MINUTES = 5  # one exercise's step; the reporter still runs when it is cut short
RUNNER_SCRIPT = """#!/usr/bin/env bash
# One grading step of the Classroom workflow: grade ci EXERCISE, as root when sudo allows.
# Usage: grade-ci EXERCISE ERROR_RESULT (base64 of the result worth 0 points, written
# when grade could not grade, since the reporter records nothing when a result is missing).
set -uo pipefail
exercise="$1"
fallback="$2"
output="${GITHUB_OUTPUT:-/dev/null}"
written() { grep -c '^result=' "$output" 2>/dev/null || true; }
before="$(written)"
if grade_bin="$(command -v grade)"; then
    if [ "$(id -u)" != 0 ] && sudo -n true 2>/dev/null; then
        sudo --preserve-env=GITHUB_OUTPUT,GITHUB_STEP_SUMMARY "$grade_bin" ci "$exercise"
    else
        "$grade_bin" ci "$exercise"
    fi
    status=$?
else
    echo "grade is not installed (did the install step fail?), so $exercise was not graded"
    status=127
fi
if [ "$(written)" = "$before" ]; then
    echo "result=$fallback" >> "$output"
    echo "$exercise could not be graded (exit status $status): it is recorded as 0 points"
    exit 1
fi
exit "$status"
"""
README = """\
# {title}

Fill in each `___` in `exercises/` and check your work locally with `grade exercise-1`
(install once, from this repository: `pip install {wheel}`). Every push is graded by
the Autograding workflow; its log shows each check's verdict, and Classroom records
the points.

Note: the checks in `checks/` are the ones that grade you, and you can read them.
"""


def fallback_result(course: Course, exercise: Exercise) -> str:
    """The step output recorded when `exercise` could not be graded: 0 of its points."""
    max_score = sum(c.points for c in load_checks(course.checks_path(exercise)))
    return encoded(error_result(exercise.id, max_score))


def _step(exercise: Exercise, fallback: str) -> dict[str, Any]:
    return {"name": f"{exercise.id}: {exercise.title}", "id": exercise.id, "if": "always()",
            "timeout-minutes": STEP_MINUTES,
            "run": f"bash {RUNNER.as_posix()} {exercise.id} {fallback}"}


def _reporter_input(exercise_id: str, fallback: str) -> str:
    # `||` gives the fallback when the step set no result (timed out, cancelled, skipped).
    return f"${{{{ steps.{exercise_id}.outputs.result || '{fallback}' }}}}"


def workflow(course: Course) -> dict[str, Any]:
    """The workflow: named and shaped as Classroom's reporter requires."""
    ids = [e.id for e in course.exercises]
    fallbacks = {e.id: fallback_result(course, e) for e in course.exercises}
    steps: list[dict[str, Any]] = [
        {"name": "Check out the repository", "uses": "actions/checkout@v4"},
        {"name": "Set up Python", "uses": "actions/setup-python@v5",
         "with": {"python-version": "3.12"}},
        # By the wheel's path, never by name: the index's `grade` is another project.
        {"name": "Install grade",
         "run": f"python -m pip install {(WHEELS / wheel_file()).as_posix()}"},
        *(_step(e, fallbacks[e.id]) for e in course.exercises),
        {"name": "Autograding Reporter", "if": "always()",
         "uses": "classroom-resources/autograding-grading-reporter@v1",
         "env": {f"{i.upper()}_RESULTS": _reporter_input(i, fallbacks[i]) for i in ids},
         "with": {"runners": ",".join(ids)}},
    ]
    return {
        "name": "Autograding Tests",
        "on": ["push", "repository_dispatch", "workflow_dispatch"],
        "permissions": {"checks": "write", "actions": "read", "contents": "read"},
        "jobs": {"run-autograding-tests": {
            "runs-on": "ubuntu-latest", "if": "github.actor != 'github-classroom[bot]'",
            # room for every step's own limit and the install, so the reporter still runs
            "timeout-minutes": 10 + STEP_MINUTES * len(ids), "steps": steps}},
    }


def export_classroom(course: Course, outdir: Path, *, public_only: bool = False) -> list[Path]:
    """Write the template repository into `outdir`; return the files written."""
    copied = copy_course(course, outdir, release=public_only)
    written = list(copied.files)
    path = outdir / WORKFLOW
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Written by grade export github-classroom: one step per exercise.\n"
                    + yaml.safe_dump(workflow(course), sort_keys=False, width=100),
                    encoding="utf-8", newline="\n")
    runner = outdir / RUNNER
    runner.parent.mkdir(parents=True, exist_ok=True)
    runner.write_text(RUNNER_SCRIPT, encoding="utf-8", newline="\n")
    runner.chmod(0o755)
    wheel = grade_wheel(outdir / WHEELS)
    readme = outdir / "README.md"
    readme.write_text(README.format(title=course.title, wheel=wheel.relative_to(outdir)),
                      encoding="utf-8")
    return [*written, path, runner, wheel, readme]


def file_to_grade(course: Course, exercise: Exercise) -> tuple[Path, str | None]:
    """The learner's file: the .py, or the notebook when only the notebook was filled in."""
    script = course.learner_path(exercise)
    notebook = script.with_suffix(".ipynb")
    try:
        untouched = bool(find_blanks(read(script).text))
        if untouched and notebook.is_file() and not find_blanks(read(notebook).text):
            return notebook, f"graded {notebook.name}: {script.name} still has blanks"
    except SubmissionError:
        pass  # the .py is graded, and its error explains itself
    return script, None


# Workflow commands: `::name::` at a line's start (after spaces), `##[name]` anywhere.
_COMMAND_START = re.compile(r"^(\s*):(?=:)")
_COMMAND_V1 = re.compile(r"##(?=\[)")


def without_commands(text: str) -> str:
    """`text` with no line that the Actions runner would read as a workflow command.

    A learner's exception message such as `::add-mask::` or `::error::` would otherwise
    be obeyed by the runner (masking the log, forging annotations): each such line
    keeps its words but loses its command form (`: :error::`, `# #[error]`).
    """
    lines = [_COMMAND_V1.sub("# #", _COMMAND_START.sub(r"\1: ", line))
             for line in text.split("\n")]
    return "\n".join(lines)


def command_free(text: str) -> tuple[str, str, str]:
    """`text` made command-free, between GitHub's documented stop-commands lines.

    Belt and braces: while commands are stopped the runner obeys none until the
    fresh token, which learner code (finished before this is printed) cannot know.
    """
    token = secrets.token_hex(16)
    return f"::stop-commands::{token}", without_commands(text), f"::{token}::"


def write_step_output(name: str, value: str) -> bool:
    """Append `name=value` to $GITHUB_OUTPUT; False when not inside a workflow step."""
    target = os.environ.get("GITHUB_OUTPUT")
    if not target:
        return False
    with open(target, "a", encoding="utf-8") as out:
        out.write(f"{name}={value}\n")
    return True

