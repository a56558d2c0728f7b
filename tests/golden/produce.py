"""Every contract output of `grade`, produced by the real commands from tests/golden/inputs.

`produce(work)` copies the course into `work`, then runs the installed `grade`:
`grade exercise-1 FILE --json` and `grade exercise-1 FILE` for every input (and
for a file that is missing), `grade batch` over a class made of the inputs (one
student per input), and `grade export nbgrader`. It returns {relative name: bytes}
with the volatile parts (wall-clock times) normalised. `regenerate.py` writes that
to expected/; `tests/test_golden.py` compares it byte for byte.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
INPUTS = HERE / "inputs"
EXPECTED = HERE / "expected"
TIME_LIMIT = 3  # seconds: the timeout input waits this out three times
EXERCISE_FILE = "exercise_1_weighted_sampling"
MISSING = "missing"  # an input name with no file: the student or learner has none

# Wall-clock times, the only volatile fields: what they become in the golden files.
_VOLATILE = [
    (re.compile(rb'"seconds":\s*[0-9.e+-]+'), b'"seconds":0.0'),
    (re.compile(rb'"execution_time":\s*[0-9.e+-]+'), b'"execution_time": 0.0'),
    (re.compile(rb"exercises in [0-9.]+ s:"), b"exercises in 0.0 s:"),
]


def normalise(data: bytes) -> bytes:
    for pattern, fixed in _VOLATILE:
        data = pattern.sub(fixed, data)
    return data


def grade_command() -> list[str]:
    script = Path(sys.executable).with_name("grade")
    return [str(script)] if script.exists() else [sys.executable, "-m", "grader"]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("GRADE_COURSE", "GRADE_DEBUG")}
    env["PYTHONIOENCODING"] = "utf-8"
    # Parallel runs share one course copy: no learner progress, so no run deepens the
    # hints another run sees (each failure shows its check's first hint).
    env["GRADE_PROGRESS"] = "off"
    return subprocess.run([*grade_command(), *args], cwd=cwd, capture_output=True,
                          timeout=120, env=env)


def course_copy(folder: Path) -> Path:
    """The shipped course, with a short time limit, in `folder`."""
    for part in ("checks", "exercises", "solutions"):
        shutil.copytree(ROOT / part, folder / part)
    text = (ROOT / "course.yaml").read_text(encoding="utf-8")
    old = "  time_limit: 10 "
    assert text.count(old) == 1, "course.yaml's time_limit line changed: update produce.py"
    (folder / "course.yaml").write_text(text.replace(old, f"  time_limit: {TIME_LIMIT} "),
                                        encoding="utf-8")
    return folder


def input_names() -> list[str]:
    return sorted([p.name for p in INPUTS.iterdir()] + [f"{MISSING}.py"])


def _class_folder(course: Path) -> Path:
    """One student per input, named by the input, holding it as their exercise-1 file;
    the student `solution` also hands in the solutions of exercises 2 and 3."""
    folder = course / "class"
    for name in input_names():
        student, suffix = name.rsplit(".", 1)
        (folder / student).mkdir(parents=True)
        if (INPUTS / name).exists():
            shutil.copy(INPUTS / name, folder / student / f"{EXERCISE_FILE}.{suffix}")
    for solution in (course / "solutions").glob("exercise_[23]_*.py"):
        shutil.copy(solution, folder / "solution" / solution.name)
    return folder


def _collect(folder: Path, prefix: str, out: dict[str, bytes]) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            out[f"{prefix}/{path.relative_to(folder).as_posix()}"] = normalise(path.read_bytes())


def produce(work: Path) -> dict[str, bytes]:
    """Run every command on the inputs in `work` (an empty folder); the outputs by name."""
    course = course_copy(work / "course")
    given = course / "given"
    shutil.copytree(INPUTS, given)
    out: dict[str, bytes] = {}
    exits: dict[str, int] = {}

    def one(name: str, as_json: bool) -> tuple[str, subprocess.CompletedProcess[bytes]]:
        args = ["exercise-1", f"given/{name}", *(["--json"] if as_json else [])]
        stem = name.rsplit(".", 1)[0]
        return f"exercise-1/{stem}.{'json' if as_json else 'txt'}", _run(args, course)

    jobs = [(name, as_json) for name in input_names() for as_json in (True, False)]
    _class_folder(course)
    with ThreadPoolExecutor(3) as pool:
        batch = pool.submit(_run, ["batch", "class", "--out", "out", "--jobs", "2"], course)
        exported = pool.submit(_run, ["export", "nbgrader", "nbcourse"], course)
        for key, done in pool.map(lambda job: one(*job), jobs):
            out[key] = normalise(done.stdout)
            exits[key] = done.returncode
        finished = batch.result()
        exits["batch"] = finished.returncode
        out["batch/stdout.txt"] = normalise(finished.stdout)
        exits["export nbgrader"] = exported.result().returncode
    _collect(course / "out", "batch", out)
    for volatile in ("batch/journal.jsonl", "batch/journal.lock", "batch/report.html",
                     "batch/state.json"):
        # the journal's order follows the workers; html: times; state.json: hashes of
        # the grader version and checks (bookkeeping for changes.csv, not a contract)
        out.pop(volatile, None)
    _collect(course / "nbcourse", "nbgrader-export", out)
    out["exit_codes.json"] = (json.dumps(exits, indent=2, sort_keys=True) + "\n").encode()
    return out
