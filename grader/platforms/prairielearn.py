"""PrairieLearn: question folders and a grader image (`grade export prairielearn`), and the
entrypoint that runs in the grading container (`grade prairielearn`).

Each exercise becomes questions/<id>/ with info.json (`gradingMethod: External`), a
question.html with a code editor holding the skeleton, and tests/ holding a one-exercise
course with every check. The container has networking off, so the image built from
the Dockerfile already holds `grade`. In the container PrairieLearn puts the learner's
files in /grade/student and the question's tests/ in /grade/tests; we write
/grade/results/results.json, whatever happens.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import math
import time
import traceback
import uuid
from pathlib import Path

from grader.atomic import write_atomic
from grader.authoring.release import copy_course
from grader.checks import load_checks
from grader.course import Course, Exercise
from grader.platforms.grading import grade_uploads
from grader.platforms.wheels import grade_wheel, wheel_file
from grader.reports.prairielearn import (
    PrairieLearnResults,
    not_gradable,
    prairielearn_results,
)
from grader.results import ErrorKind
from grader.sandbox.client import Sandbox
from grader.version import __version__

ROOT = Path("/grade")
IMAGE = f"grade-prairielearn:{__version__}"
GRADING_OVERHEAD = 20  # seconds for starting Python and the sandbox, on top of the limit
DOCKERFILE = """\
# The image PrairieLearn grades in (networking is off there, so grade is installed here).
# Build it where PrairieLearn's graders can pull it:  docker build -t {image} .
# grade is installed from its wheel file, never by name: the index's `grade` is another
# project. Its dependencies come from the index while the image is built.
FROM python:3.12-slim
COPY wheels/ /tmp/wheels/
RUN python -m pip install --no-cache-dir /tmp/wheels/{wheel} && rm -rf /tmp/wheels
"""
QUESTION = """\
<pl-question-panel>
  <p><strong>{title}</strong></p>
  <p>Fill in each <code>___</code>. Submitting grades your code with {count} checks;
  a file with blanks still empty, or that Python cannot read, costs you no attempt.</p>
</pl-question-panel>
<pl-file-editor file-name="{file}" ace-mode="ace/mode/python" source-file-name="{file}">
</pl-file-editor>
<pl-submission-panel>
  <pl-external-grader-results></pl-external-grader-results>
  <pl-file-preview></pl-file-preview>
</pl-submission-panel>
"""


def _info(course: Course, exercise: Exercise, image: str) -> dict[str, object]:
    timeout = min(600, math.ceil(course.limits_for(exercise).time_limit) + GRADING_OVERHEAD)
    return {
        "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"grade:{course.title}:{exercise.id}")),
        "title": exercise.title, "topic": course.title, "tags": ["grade"], "type": "v3",
        "singleVariant": True, "gradingMethod": "External",
        "externalGradingOptions": {
            "enabled": True, "image": image,
            "entrypoint": ["grade", "--course", "/grade/tests", "prairielearn",
                           exercise.id],
            "timeout": timeout},
    }


def export_prairielearn(course: Course, outdir: Path, image: str = IMAGE) -> list[Path]:
    """Write questions/<id>/ per exercise and the grader image's Dockerfile into `outdir`."""
    written: list[Path] = []
    for exercise in course.exercises:
        question = outdir / "questions" / exercise.id
        one = course.model_copy(update={"exercises": [exercise]}).located(course.root)
        copied = copy_course(one, question / "tests", release=False)
        written += copied.files
        skeleton = course.learner_path(exercise).read_text(encoding="utf-8")
        checks = len(load_checks(course.checks_path(exercise)))
        files = {
            "info.json": json.dumps(_info(course, exercise, image), indent=2) + "\n",
            "question.html": QUESTION.format(title=html.escape(exercise.title),
                                             count=checks, file=html.escape(exercise.file)),
            exercise.file: skeleton,
        }
        for name, text in files.items():
            written.append(write_atomic(question / name, text))
    written.append(write_atomic(outdir / "Dockerfile",
                                DOCKERFILE.format(image=IMAGE, wheel=wheel_file())))
    written.append(grade_wheel(outdir / "wheels"))
    return written


def _student_files(root: Path) -> Path:
    """The learner's files: /grade/student, or the files data.json carries when it is empty."""
    student = root / "student"
    if student.is_dir() and any(student.iterdir()):
        return student
    try:
        data = json.loads((root / "data" / "data.json").read_text(encoding="utf-8"))
        files = data.get("submitted_answers", {}).get("_files", [])
    except (OSError, ValueError, AttributeError):
        return student
    for entry in files if isinstance(files, list) else []:
        name = Path(str(entry.get("name", ""))).name
        if name and not name.startswith("."):
            try:
                content = base64.b64decode(str(entry.get("contents", "")), validate=True)
            except (binascii.Error, ValueError):
                continue
            student.mkdir(parents=True, exist_ok=True)
            (student / name).write_bytes(content)
    return student


# Kinds of error that mean "not an answer yet": PrairieLearn then counts no attempt.
NOT_AN_ANSWER = frozenset({
    ErrorKind.MISSING, ErrorKind.UNREADABLE, ErrorKind.AMBIGUOUS, ErrorKind.TOO_LARGE,
    ErrorKind.ENCODING, ErrorKind.EMPTY, ErrorKind.BINARY, ErrorKind.NOT_NOTEBOOK,
    ErrorKind.BLANKS, ErrorKind.SYNTAX, ErrorKind.GRADER_FAULT,
})


def run_prairielearn(course: Course, exercise: Exercise, root: Path = ROOT
                     ) -> PrairieLearnResults:
    """Grade the submission in `root` and write results/results.json; never raises."""
    started = time.monotonic()
    try:
        with Sandbox() as sandbox:
            student, uploads = grade_uploads(course, _student_files(root), sandbox,
                                             exercises=[exercise])
        result = student.exercises[0]
        if result.error is not None and result.error_kind in NOT_AN_ANSWER:
            results = not_gradable(result.error, uploads.notes)
        else:
            results = prairielearn_results(result, uploads.notes)
    except Exception as exc:  # the grader's fault: the learner loses no attempt
        traceback.print_exc()
        results = not_gradable(f"the grader failed ({type(exc).__name__}); this submission "
                               "was not counted. Please tell your instructor.", [])
    results.output = (results.output + f"\n(graded in {time.monotonic() - started:.1f} s)"
                      ).lstrip("\n")
    write_atomic(root / "results" / "results.json",
                 json.dumps(results.model_dump(mode="json"), indent=2) + "\n")
    return results
