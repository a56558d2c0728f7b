"""Every `pip install` the project writes names this project so the index cannot answer.

The package index has a stranger's project named `grade` (issue 28), and nothing stops
anyone from registering `grade-exercises` there: so an install line may name this
project's distribution only by a path (`.`, `-e .`, a wheel file) or with `--no-index`.
The lines are read from the README, docs/*.md, the grader's own messages, and the files
each export writes (Gradescope's setup.sh, the Classroom template, PrairieLearn's
Dockerfile); other projects' names (a Jupyter, say) are left alone.
"""

from __future__ import annotations

import re
import shlex
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT

OURS = {"grade", "grade-exercises"}  # the old name (another project's) and ours
TAKES_VALUE = {"-f", "--find-links", "-r", "--requirement", "-c", "--constraint", "-i",
               "--index-url", "--extra-index-url", "-t", "--target", "--prefix", "-e",
               "--editable", "--root", "--platform", "--python-version", "--abi",
               "--implementation", "-d", "--dest"}
_INSTALL = re.compile(r"pip3? install\b(.*)")


def install_lines(text: str, python_source: bool = False) -> list[str]:
    """The argument part of each `pip install` in `text` (shell continuations joined)."""
    text = text.replace("\\\n", " ")
    found = []
    for match in _INSTALL.finditer(text):
        args = match.group(1)
        ends = r'[`)#;|]|&&' + (r'|"' if python_source else "")
        found.append(re.split(ends, args, maxsplit=1)[0].strip())
    return found


def bare_names(args: str) -> list[str]:
    """This project's names that `args` would let the index resolve."""
    try:
        words = shlex.split(args)
    except ValueError:
        words = args.split()
    if "--no-index" in words:
        return []
    bare, skip = [], False
    for word in words:
        if skip:
            skip = False
            continue
        if word in TAKES_VALUE:
            skip = True
            continue
        if word.startswith("-") or "/" in word or word.startswith((".", "$", "{")) \
                or word.endswith((".whl", ".tar.gz", ".zip")):
            continue  # an option, or a path
        try:
            name = canonicalize_name(Requirement(word).name)
        except InvalidRequirement:
            continue
        if name in OURS:
            bare.append(word)
    return bare


def _sources() -> list[tuple[str, str, bool]]:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    texts = [(p.relative_to(ROOT).as_posix(), p.read_text(encoding="utf-8"), False)
             for p in files]
    texts += [(p.relative_to(ROOT).as_posix(), p.read_text(encoding="utf-8"), True)
              for p in sorted((ROOT / "grader").rglob("*.py"))]
    return texts


def _exported(tmp: Path, run_grade) -> list[tuple[str, str, bool]]:
    zip_path = tmp / "autograder.zip"
    assert run_grade("export", "gradescope", str(zip_path), "--no-dependencies"
                     ).returncode == 0
    with zipfile.ZipFile(zip_path) as archive:
        texts = [(f"gradescope:{n}", archive.read(n).decode(), False)
                 for n in ("setup.sh", "run_autograder")]
    assert run_grade("export", "github-classroom", str(tmp / "classroom")).returncode == 0
    assert run_grade("export", "prairielearn", str(tmp / "pl")).returncode == 0
    for folder in (tmp / "classroom", tmp / "pl"):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            if path.suffix in {".yml", ".md", ""} or path.name == "Dockerfile":
                texts.append((path.relative_to(tmp).as_posix(),
                              path.read_text(encoding="utf-8", errors="replace"), False))
    return texts


@pytest.mark.parametrize(("args", "bare"), [
    ("'grade[dask]'", ["grade[dask]"]), ("grade==0.1.0", ["grade==0.1.0"]),
    ("--find-links w grade-exercises==0.1.0", ["grade-exercises==0.1.0"]),
    ("-q --no-index --find-links w grade-exercises", []), ("-e '.[dev]'", []),
    (".grade/wheels/grade_exercises-0.1.0-py3-none-any.whl", []), ("-e . notebook", []),
])
def test_the_reader_tells_a_bare_name_from_a_path_or_an_offline_install(
        args: str, bare: list[str]) -> None:
    assert bare_names(args) == bare


def test_no_install_line_lets_the_index_answer_for_this_project(tmp_path: Path,
                                                                run_grade) -> None:
    texts = _sources() + _exported(tmp_path, run_grade)
    seen = [(where, args) for where, text, py in texts for args in install_lines(text, py)]
    assert any(where.startswith("gradescope:") for where, _ in seen)
    assert any(where.startswith("classroom/") for where, _ in seen)
    assert any(where == "pl/Dockerfile" for where, _ in seen)
    bad = [(where, args) for where, args in seen if bare_names(args)]
    assert bad == [], ("install lines that the index could answer with another project "
                       "(install by path, or with --no-index)", bad)
