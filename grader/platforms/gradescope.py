"""Gradescope: the autograder zip (`grade export gradescope`) and what runs inside it.

Gradescope unpacks the zip to /autograder/source, runs `setup.sh` once when it builds
the image, then `run_autograder` for each submission, with the learner's files in
/autograder/submission; it reads /autograder/results/results.json. Our zip holds the
course with every check (no solution), `grade`'s wheel and its dependencies' wheels
for CPython 3.10 to 3.13, so setup needs no network; `grade` itself is installed from
its wheel file, never by name (the index's `grade` is another project).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path

from grader.atomic import write_atomic
from grader.authoring.release import copy_course
from grader.course import Course
from grader.platforms.grading import grade_uploads, isolation_note
from grader.platforms.wheels import Wheelhouse, wheel_file, wheelhouse
from grader.reports.gradescope import GradescopeResults, autograder_results
from grader.sandbox.client import Sandbox

ROOT = Path("/autograder")
ROOT_VARIABLE = "GRADE_AUTOGRADER_ROOT"  # tests run the zip in a temporary tree

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image: install grade.
# GRADE_AUTOGRADER_ROOT, GRADE_PYTHON and GRADE_PIP_OPTIONS exist for testing the zip.
set -euo pipefail
ROOT="${{{root}:-/autograder}}"
PYTHON="${{GRADE_PYTHON:-python3}}"
if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
    apt-get update -qq && apt-get install -y -qq python3 python3-venv
fi
"$PYTHON" -m venv "$ROOT/venv"
# grade from its wheel file (never by name: the index's `grade` is another project), and
# its dependencies from the zip's wheels, offline ({pythons}); for another Python,
# the dependencies alone come from the index.
WHEELS="$ROOT/source/wheels"
if ! "$ROOT/venv/bin/python" -m pip install -q ${{GRADE_PIP_OPTIONS:-}} --no-index \\
        --find-links "$WHEELS" "$WHEELS/{wheel}"; then
    echo "setup.sh: the zip has no wheels for this Python; dependencies come from the index"
    "$ROOT/venv/bin/python" -m pip install -q --find-links "$WHEELS" "$WHEELS/{wheel}"
fi
"""

RUN = f"""#!/usr/bin/env bash
# Gradescope runs this for each submission. results.json is always written: by grade,
# or below when grade itself could not run.
ROOT="${{{ROOT_VARIABLE}:-/autograder}}"
mkdir -p "$ROOT/results"
rm -f "$ROOT/results/results.json"
"$ROOT/venv/bin/grade" --course "$ROOT/source/course" gradescope --root "$ROOT"
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
    printf '{{"score": 0, "output": "%s", "stdout_visibility": "hidden", "tests": []}}\\n' \\
        "The autograder could not run (exit status $status), so this submission was not \\
graded. Please tell your teaching assistant." > "$ROOT/results/results.json"
fi
exit 0
"""


def _add(archive: zipfile.ZipFile, name: str, data: bytes, mode: int) -> None:
    info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
    info.external_attr = (0o100000 | mode) << 16  # a regular file with these permissions
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def setup_script(house: Wheelhouse) -> str:
    """setup.sh for a zip holding `house`."""
    pythons = ("complete for CPython " + ", ".join(house.complete_for)
               if house.complete_for else "dependencies left out at export")
    return SETUP.format(root=ROOT_VARIABLE, wheel=wheel_file(), pythons=pythons)


def export_gradescope(course: Course, zip_path: Path, *, dependencies: bool = True
                      ) -> tuple[list[str], Wheelhouse]:
    """Write the autograder zip; return the names it holds and what its wheels cover."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        copy_course(course, folder / "course", release=False)
        house = wheelhouse(folder / "wheels", dependencies=dependencies)
        zip_path.parent.mkdir(parents=True, exist_ok=True)
        names = ["setup.sh", "run_autograder"]
        partial = zip_path.with_name(zip_path.name + ".partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            _add(archive, "setup.sh", setup_script(house).encode(), 0o755)
            _add(archive, "run_autograder", RUN.encode(), 0o755)
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                name = path.relative_to(folder).as_posix()
                _add(archive, name, path.read_bytes(), 0o644)
                names.append(name)
        partial.replace(zip_path)
    return names, house


def _crash_results(exc: BaseException, started: float) -> GradescopeResults:
    return GradescopeResults(
        score=0.0, execution_time=round(time.monotonic() - started, 3),
        output=("The autograder failed on this submission, so it was not graded "
                f"({type(exc).__name__}). Please tell your teaching assistant."),
        stdout_visibility="hidden", tests=[])


def run_autograder(course: Course, root: Path = ROOT) -> GradescopeResults:
    """Grade /autograder/submission and write results.json; never raises.

    Prints the learner's output (and any grader traceback) to stdout, which Gradescope
    keeps for instructors.
    """
    started = time.monotonic()
    try:
        with Sandbox() as sandbox:
            print(isolation_note(sandbox))
            student, uploads = grade_uploads(course, root / "submission", sandbox)
        for exercise in student.exercises:
            if exercise.output.strip():
                print(f"--- what the submission printed in {exercise.exercise} ---")
                print(exercise.output.rstrip("\n"))
        results = autograder_results(student, uploads.notes, time.monotonic() - started)
    except Exception as exc:  # anything: Gradescope must still get a results.json
        traceback.print_exc(file=sys.stdout)  # stdout: instructors see it, learners not
        results = _crash_results(exc, started)
    write_atomic(root / "results" / "results.json",
                 json.dumps(results.model_dump(mode="json", exclude_none=True), indent=2) + "\n")
    return results
