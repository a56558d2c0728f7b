"""The `grade` commands by name, without click: the group imports each when it runs, and
a skeleton's report (cli/skeleton.py) knows an exercise id from a command by them."""

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
    "regrade": ("grader.cli.regrade:regrade",
                "Ask the staff to look again at a check (course server)."),
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
