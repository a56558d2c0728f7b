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

from grader import __version__
from grader.authoring.release import copy_course
from grader.checks import load_checks
from grader.course import Course, Exercise
from grader.platforms.files import find_uploads
from grader.platforms.wheels import grade_wheel
from grader.reports.files import write_atomic
from grader.reports.prairielearn import (
    PrairieLearnResults,
    not_gradable,
    prairielearn_results,
)
from grader.runner import Grader
from grader.runner.source import SubmissionError, describe_blanks, find_blanks, read_source
from grader.sandbox.client import Sandbox

ROOT = Path("/grade")
IMAGE = f"grade-prairielearn:{__version__}"
GRADING_OVERHEAD = 20  # seconds for starting Python and the sandbox, on top of the limit
DOCKERFILE = f"""\
# The image PrairieLearn grades in (networking is off there, so grade is installed here).
# Build it where PrairieLearn's graders can pull it:  docker build -t {IMAGE} .
FROM python:3.12-slim
COPY wheels/ /tmp/wheels/
RUN python -m pip install --no-cache-dir --find-links /tmp/wheels "grade=={__version__}" \\
    && rm -rf /tmp/wheels
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
        one = course.model_copy(update={"exercises": [exercise]})
        one._root = course.root
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
    written.append(write_atomic(outdir / "Dockerfile", DOCKERFILE))
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


def _why_not_gradable(path: Path | None, exercise: Exercise, max_kb: int) -> str | None:
    """Why the file is not an answer yet (PrairieLearn then counts no attempt), or None."""
    if path is None:
        return f"no file for {exercise.id} was submitted (name it {exercise.file})"
    try:
        source = read_source(path, max_kb)
    except SubmissionError as exc:
        return str(exc)
    if blanks := find_blanks(source):
        return describe_blanks(blanks) + ": replace each ___ with your answer"
    try:
        compile(source, path.name, "exec")
    except SyntaxError as exc:
        return f"your file has a syntax error: {exc.msg} (line {exc.lineno})"
    except ValueError as exc:
        return f"Python cannot read your file: {exc}"
    return None


def run_prairielearn(course: Course, exercise: Exercise, root: Path = ROOT
                     ) -> PrairieLearnResults:
    """Grade the submission in `root` and write results/results.json; never raises."""
    started = time.monotonic()
    try:
        folder = _student_files(root)
        uploads = find_uploads(folder, course)
        path = uploads.files.get(exercise.id)
        reason = _why_not_gradable(path, exercise, course.limits_for(exercise).max_source_kb)
        if reason or path is None:
            results = not_gradable(reason or "no file", uploads.notes)
        else:
            with Sandbox() as sandbox:
                result = Grader(course, sandbox).grade(exercise, path)
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
