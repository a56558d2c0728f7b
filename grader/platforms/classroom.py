"""GitHub Classroom: the template repository (`grade export github-classroom`) and `grade ci`.

The workflow has one step per exercise running `grade ci exercise-N`, which prints the
usual feedback and sets the step output `result` that Classroom's reporter step reads.
Everything in the repository is visible to the learner who owns it, checks included:
by default every check ships (hidden ones too, so nothing is secret there); with
`public_only` the repository holds the learners' release and grades public checks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from grader import __version__
from grader.authoring.release import copy_course
from grader.course import Course, Exercise
from grader.platforms.wheels import grade_wheel
from grader.runner.source import SubmissionError, find_blanks, read_source

WORKFLOW = Path(".github/workflows/classroom.yml")
WHEELS = Path(".grade/wheels")
RUNNER = Path(".grade/grade-ci")
# Ubuntu 24.04 runners forbid unprivileged user namespaces (AppArmor); as root the
# sandbox still gets its namespaces, chroot and own uid, so the runner uses sudo when it
# can. Without it grade falls back to a reduced level and says which, in the log.
RUNNER_SCRIPT = """#!/usr/bin/env bash
# One grading step of the Classroom workflow: grade ci EXERCISE, as root when sudo allows.
set -uo pipefail
grade_bin="$(command -v grade)"
if [ "$(id -u)" != 0 ] && sudo -n true 2>/dev/null; then
    exec sudo --preserve-env=GITHUB_OUTPUT,GITHUB_STEP_SUMMARY "$grade_bin" ci "$@"
fi
exec "$grade_bin" ci "$@"
"""
README = """\
# {title}

Fill in each `___` in `exercises/` and check your work locally with `grade exercise-1`
(install once: `pip install {wheel}`). Every push is graded by the Autograding workflow;
its log shows each check's verdict, and Classroom records the points.

Note: the checks in `checks/` are the ones that grade you, and you can read them.
"""


def _step(exercise: Exercise) -> dict[str, Any]:
    return {"name": f"{exercise.id}: {exercise.title}", "id": exercise.id,
            "run": f"bash {RUNNER.as_posix()} {exercise.id}"}


def workflow(course: Course) -> dict[str, Any]:
    """The workflow: named and shaped as Classroom's reporter requires."""
    ids = [e.id for e in course.exercises]
    steps: list[dict[str, Any]] = [
        {"name": "Check out the repository", "uses": "actions/checkout@v4"},
        {"name": "Set up Python", "uses": "actions/setup-python@v5",
         "with": {"python-version": "3.12"}},
        {"name": "Install grade",
         "run": f"python -m pip install --find-links {WHEELS.as_posix()} "
                f"grade=={__version__}"},
        *(_step(e) for e in course.exercises),
        {"name": "Autograding Reporter", "if": "always()",
         "uses": "classroom-resources/autograding-grading-reporter@v1",
         "env": {f"{i.upper()}_RESULTS": f"${{{{steps.{i}.outputs.result}}}}" for i in ids},
         "with": {"runners": ",".join(ids)}},
    ]
    return {
        "name": "Autograding Tests",
        "on": ["push", "repository_dispatch", "workflow_dispatch"],
        "permissions": {"checks": "write", "actions": "read", "contents": "read"},
        "jobs": {"run-autograding-tests": {
            "runs-on": "ubuntu-latest", "if": "github.actor != 'github-classroom[bot]'",
            "timeout-minutes": 15, "steps": steps}},
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
        untouched = bool(find_blanks(read_source(script)))
        if untouched and notebook.is_file() and not find_blanks(read_source(notebook)):
            return notebook, f"graded {notebook.name}: {script.name} still has blanks"
    except SubmissionError:
        pass  # the .py is graded, and its error explains itself
    return script, None


def write_step_output(name: str, value: str) -> bool:
    """Append `name=value` to $GITHUB_OUTPUT; False when not inside a workflow step."""
    target = os.environ.get("GITHUB_OUTPUT")
    if not target:
        return False
    with open(target, "a", encoding="utf-8") as out:
        out.write(f"{name}={value}\n")
    return True

