"""Gradescope: one autograder zip installs offline on every CPython from 3.10 to 3.13.

Gradescope's default image is Ubuntu 22.04 (Python 3.10), other images have 3.12: the
zip's wheels must fit each. The zip is built once; for each CPython this machine has
(pyenv's versions, or python3.N on PATH; the others are skipped), setup.sh makes a venv
with it and installs with pip's index switched off (PIP_NO_INDEX, pip's config cleared),
then run_autograder grades the solutions to full marks.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from grader.course import Course
from tests.test_gradescope import _clean_env

# The first test also builds the zip (pip downloads wheels for four Pythons) and runs
# setup.sh: more than the suite's 120 s on a loaded machine.
pytestmark = pytest.mark.timeout(900)
PYENV = Path("/root/.pyenv/versions")


def _python(minor: str) -> Path | None:
    """A CPython 3.<minor> interpreter on this machine, or None."""
    found = sorted(PYENV.glob(f"3.{minor}.*/bin/python3")) if PYENV.is_dir() else []
    on_path = shutil.which(f"python3.{minor}")
    return found[-1] if found else Path(on_path) if on_path else None


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory,
           gradescope_export: tuple[Path, subprocess.CompletedProcess[str]]) -> Path:
    """The autograder zip, built once and unpacked."""
    zip_path, done = gradescope_export
    work = tmp_path_factory.mktemp("gradescope-pythons")
    assert "installs offline on CPython 3.10, 3.11, 3.12, 3.13" in done.stdout, (
        done.stdout + done.stderr)
    source = work / "source"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(source)
    for name in ("setup.sh", "run_autograder"):
        (source / name).chmod(0o755)
    return source


@pytest.mark.parametrize("minor", ["10", "11", "12", "13"])
def test_the_zip_installs_offline_and_grades_the_solutions_to_full_marks(
        source: Path, tmp_path: Path, course: Course, minor: str) -> None:
    python = _python(minor)
    if python is None:
        pytest.skip(f"no CPython 3.{minor} on this machine")
    root = tmp_path / "autograder"
    shutil.copytree(source, root / "source", symlinks=True)
    offline = _clean_env(GRADE_AUTOGRADER_ROOT=str(root), GRADE_PYTHON=str(python),
                         PIP_NO_INDEX="1", PIP_FIND_LINKS="")
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], cwd=tmp_path,
                           capture_output=True, text=True, timeout=600, env=offline)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert "no wheels for this Python" not in setup.stdout
    version = subprocess.run([str(root / "venv" / "bin" / "python"), "-c",
                              "import sys; print(sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert version == f"(3, {minor})"
    submission = root / "submission"
    submission.mkdir()
    for exercise in course.exercises:
        shutil.copy(course.solution_path(exercise), submission / exercise.file)
    run = subprocess.run([str(root / "source" / "run_autograder")], cwd=root,
                         capture_output=True, text=True, timeout=300,
                         env=_clean_env(GRADE_AUTOGRADER_ROOT=str(root)))
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 30, (results.get("output"), run.stdout[-2000:])
    assert all(t["status"] == "passed" for t in results["tests"])
