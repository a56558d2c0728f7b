"""Downloads as each LMS writes them, built from the naming rules they document
(see grader/batch/layouts/*), with the ids, names and times each must yield.

Every student hands in exercise 1: the solution (10 points) or a mutant (6), under
the names learners really use. `EXPECTED[layout]` maps each id to (score, time).
"""

from __future__ import annotations

import os
import subprocess
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from synthetic import FILES, notebook, source

SOLUTION = source("solution", "exercise-1")
MUTANT = source("mutant", "exercise-1")  # scores 6
NOTEBOOK = notebook(SOLUTION)
UTC = timezone.utc
CET = timezone(timedelta(hours=1))


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def zipped(folder: Path, target: Path, inside: str = "") -> Path:
    """`folder`'s files in a zip, under `inside/` when given."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, str(Path(inside) / path.relative_to(folder)))
    return target


def canvas(root: Path) -> Path:
    """Flat files `<name>[_LATE]_<user id>_<submission id>_<file>`; `-N` marks a
    resubmitted file."""
    write(root / f"leeann_1001_5001_{FILES['exercise-1']}", SOLUTION)
    write(root / "nunezjose_LATE_1002_5002_exercise_1 (1).py", SOLUTION)
    write(root / "obrienzoe_1003_5003_Exercise1-2.py", MUTANT)
    write(root / "obrienzoe_1003_5003_notes.txt", "my notes")
    return root


def moodle(root: Path) -> Path:
    """`<Full Name>_<participant id>_assignsubmission_file_/` folders."""
    write(root / "José Núñez_2001_assignsubmission_file_" / FILES["exercise-1"], SOLUTION)
    write(root / "Ann Lee_2002_assignsubmission_file_" / "exercise_1.ipynb", NOTEBOOK)
    write(root / "Zoë O'Brien_2003_assignsubmission_file_" /
          "exercise_1_weighted_sampling (1).py", MUTANT)
    write(root / "Zoë O'Brien_2003_assignsubmission_onlinetext_" / "onlinetext.html",
          "<p>see my file</p>")
    return root


GRADESCOPE_METADATA = """\
submission_9001:
  :submitters:
  - :name: José Núñez
    :sid: '3001'
    :email: jose@example.edu
  :created_at: 2026-11-30 10:00:00.000000000 +01:00
  :score: 0.0
  :history: []
submission_9002:
  :submitters:
  - :name: Ann Lee
    :sid: '3002'
    :email: ann@example.edu
  - :name: Zoë O'Brien
    :sid: ''
    :email: zoe@example.edu
  :created_at: 2026-12-01 23:59:01.250000000 +00:00
  :score: 0.0
  :history: []
"""


def gradescope(root: Path) -> Path:
    """`submission_metadata.yml` beside `submission_<id>/` folders (a group of two
    in one of them)."""
    write(root / "submission_metadata.yml", GRADESCOPE_METADATA)
    write(root / "submission_9001" / FILES["exercise-1"], SOLUTION)
    write(root / "submission_9002" / "Exercise_1.py", MUTANT)
    return root


def _commit(repo: Path, when: datetime) -> None:
    stamp = when.isoformat()
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp,
           "GIT_AUTHOR_NAME": "s", "GIT_AUTHOR_EMAIL": "s@example.edu",
           "GIT_COMMITTER_NAME": "s", "GIT_COMMITTER_EMAIL": "s@example.edu"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "done"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def classroom(root: Path) -> Path:
    """Cloned `<assignment>-<login>` repositories (logins may hold hyphens); a course
    release has exercises/ and checks/ (whose exercise_1.py is no submission)."""
    for login, text, when in (("ann-lee", SOLUTION, datetime(2026, 11, 30, 9, 0, tzinfo=UTC)),
                              ("jnunez", MUTANT, datetime(2026, 12, 2, 8, 30, tzinfo=CET))):
        repo = root / f"lesson-23-sampling-{login}"
        write(repo / "exercises" / FILES["exercise-1"], text)
        write(repo / "checks" / "exercise_1.py", "# the public checks")
        write(repo / "README.md", "# my work")
        _commit(repo, when)
    return root


def nbgrader(root: Path) -> Path:
    """`submitted/<student>/<assignment>/` with nbgrader's timestamp.txt."""
    write(root / "submitted" / "ann" / "ps1" / "exercise-1.ipynb", NOTEBOOK)
    write(root / "submitted" / "ann" / "ps1" / "timestamp.txt",
          "2026-11-30 12:00:00.000000 UTC")
    write(root / "submitted" / "Zoë" / "ps1" / "exercise_1_weighted_sampling.ipynb",
          notebook(MUTANT))
    write(root / "submitted" / "Zoë" / "ps1" / "timestamp.txt",
          "2026-12-01 23:59:59.500000 UTC")
    return root


def folders(root: Path) -> Path:
    """One folder per student, files named loosely."""
    write(root / "ann" / "exercise_1 (1).py", SOLUTION)
    write(root / "José Núñez" / "Exercise1.py", MUTANT)
    write(root / "José Núñez" / "scratch.py", "print('trying things')")
    return root


BUILDERS = {"canvas": canvas, "moodle": moodle, "gradescope": gradescope,
            "classroom": classroom, "nbgrader": nbgrader, "folders": folders}

# layout -> {student id: (exercise-1 score, submission time or None)}
EXPECTED: dict[str, dict[str, tuple[float, datetime | None]]] = {
    "canvas": {"1001": (10, None), "1002": (10, None), "1003": (6, None)},
    "moodle": {"2001": (10, None), "2002": (10, None), "2003": (6, None)},
    "gradescope": {"3001": (10, datetime(2026, 11, 30, 9, 0, tzinfo=UTC)),
                   "3002": (6, datetime(2026, 12, 1, 23, 59, 1, 250000, tzinfo=UTC)),
                   "zoe@example.edu": (6, datetime(2026, 12, 1, 23, 59, 1, 250000, tzinfo=UTC))},
    "classroom": {"ann-lee": (10, datetime(2026, 11, 30, 9, 0, tzinfo=UTC)),
                  "jnunez": (6, datetime(2026, 12, 2, 7, 30, tzinfo=UTC))},
    "nbgrader": {"ann": (10, datetime(2026, 11, 30, 12, 0, tzinfo=UTC)),
                 "Zoë": (6, datetime(2026, 12, 1, 23, 59, 59, 500000, tzinfo=UTC))},
    "folders": {"ann": (10, None), "José Núñez": (6, None)},
}
NAMES = {"canvas": {"1001": "leeann", "1002": "nunezjose", "1003": "obrienzoe"},
         "moodle": {"2001": "José Núñez", "2002": "Ann Lee", "2003": "Zoë O'Brien"},
         "gradescope": {"3001": "José Núñez", "3002": "Ann Lee",
                        "zoe@example.edu": "Zoë O'Brien"}}
