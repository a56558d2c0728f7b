"""The `grade` click group: every command, imported when used.

Each command lives in its own module and only parses, calls the runner, and hands
results to a renderer. A learner's `grade exercise-1` never pays for the batch
engine's imports. Exercise ids are commands too: `CourseGroup` turns any id in
course.yaml into a grading command.
"""

from __future__ import annotations

import click

from grader.cli.group import CourseGroup
from grader.version import __version__

# name -> ("module:attribute", summary): a command is imported when it runs, and
# `grade --help` lists every command from these summaries without importing any.
COMMANDS = {
    "batch": ("grader.cli.batch:batch", "Grade a whole class of submissions, resumably."),
    "build": ("grader.cli.build:build", "Make the learners' skeletons from the marked solutions."),
    "check": ("grader.cli.check:check", "List every problem of the course; exit 0 only if none."),
    "ci": ("grader.cli.platforms:ci", "Grade an exercise in a CI step (GitHub Classroom)."),
    "export": ("grader.cli.export:export", "Export the course or its grades to other tools."),
    "gradescope": ("grader.cli.platforms:gradescope",
                   "Grade the upload inside Gradescope's autograder."),
    "hint": ("grader.cli.hint:hint", "Show the next, deeper hint for your first failing check."),
    "login": ("grader.cli.submit:login", "Remember your course server and token (grade submit)."),
    "list": ("grader.cli.info:list_exercises", "List the exercises, their files and points."),
    "merge": ("grader.cli.merge:merge", "Join the outputs of batch shards into one gradebook."),
    "new": ("grader.cli.new:new", "Add an exercise that passes grade check at once."),
    "prairielearn": ("grader.cli.platforms:prairielearn",
                     "Grade an exercise inside PrairieLearn's grading container."),
    "release": ("grader.cli.release:release", "Write the learners' copy of the course, verified."),
    "schema": ("grader.cli.schema:schema", "Print the JSON Schema of course.yaml."),
    "serve": ("grader.cli.serve:serve", "Run the course server learners submit to (serve extra)."),
    "similarity": ("grader.cli.similarity:similarity",
                   "Find submissions that share code, offline, side by side."),
    "status": ("grader.cli.status:status", "Show your progress: best and last score per exercise."),
    "submissions": ("grader.cli.submit:submissions", "List your submissions to the course server."),
    "submit": ("grader.cli.submit:submit",
               "Hand in an exercise to the course server; print the report."),
    "watch": ("grader.cli.watch:watch", "Grade your file every time you save it (Ctrl-C stops)."),
}


@click.group(cls=CourseGroup, lazy_commands=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="grade")
@click.option("--course", "course_path", type=click.Path(path_type=str), default=None,
              help="course.yaml or its folder (default: found from the current folder).")
@click.pass_context
def cli(ctx: click.Context, course_path: str | None) -> None:
    """Grade exercises of a course: `grade exercise-1` grades your exercise 1.

    \b
    Exit status: 0 full marks, 1 graded without full marks, 2 usage or course error.
    """
    ctx.ensure_object(dict)
    ctx.obj["course_path"] = course_path
