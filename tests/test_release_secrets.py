"""What a release ships follows what the public checks reach, and `grade check` refuses
exactly what `grade release` refuses: hidden names in code, hidden data anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

COURSE = """\
title: Secrets
exercises:
  - id: ex-1
    title: Double
    file: double.py
    solution: double.py
    checks: checks/double.py
    points: 3
"""
SOLUTION = """\
def double(x):
    return x * 2  # BLANK: x * 2
"""
HELPER = '''\
"""Cases for the checks of ex-1."""

PUBLIC_CASES = [1, 2]
SECRET_CORPUS = {"seventeen": 17, "quartz": 4}
'''
CHECKS = '''\
"""Checks for ex-1."""

import secret_cases as sc

from grader.checks import check, fail


def reshaped(value):
    return [value, value]


@check("doubles the public cases", points=1)
def test_public(submission):
    double = submission.function("double")
    for x in sc.PUBLIC_CASES:
        if double(x) != 2 * x:
            fail(f"double({x}) is {double(x)}", f"{2 * x}", hint="multiply")


@check("doubles two more", points=1)
def test_more(submission):
    double = submission.function("double")
    if double(5) != 10:
        fail(f"double(5) is {double(5)}", "10", hint="multiply")


@check("doubles numbers you never saw", points=1, visibility="hidden")
def test_secret(submission):
    double = submission.function("double")
    for name, x in sc.SECRET_CORPUS.items():
        if double(reshaped(x)[0]) != 2 * x:
            fail(f"double({x}) is wrong", f"{2 * x}", hint="multiply")
'''


def _course(root: Path, run_grade, checks: str = CHECKS, helper: str = HELPER) -> Path:
    (root / "solutions").mkdir(parents=True)
    (root / "exercises").mkdir()
    (root / "checks").mkdir()
    (root / "course.yaml").write_text(COURSE)
    (root / "solutions" / "double.py").write_text(SOLUTION)
    (root / "checks" / "double.py").write_text(checks)
    (root / "checks" / "secret_cases.py").write_text(helper)
    built = run_grade("build", cwd=root)
    assert built.returncode == 0, built.stdout + built.stderr
    return root


def _problems(run_grade, root: Path, *args: str) -> list[str]:
    done = run_grade("check", "--json", *args, cwd=root)
    report = json.loads(done.stdout)
    assert done.returncode == (0 if report["ok"] else 1), done.stderr
    return [f"{p['file']}:{p['line']}: {p['message']}" for p in report["problems"]]


def test_a_helper_the_public_checks_import_ships_only_with_what_they_reach(
        tmp_path: Path, run_grade) -> None:
    root = _course(tmp_path / "course", run_grade)
    problems = _problems(run_grade, root, "--static")
    assert problems == [
        "checks/secret_cases.py:4: `SECRET_CORPUS` ships in checks/secret_cases.py because "
        "the public checks of ex-1 import secret_cases, but only hidden checks use it "
        "(checks/double.py:30); move it into a module only hidden checks import"], problems
    done = run_grade("release", str(tmp_path / "out"), cwd=root)
    assert done.returncode == 1 and not (tmp_path / "out").exists()
    assert problems[0] in done.stdout


def test_a_helper_only_hidden_checks_import_stays_home(tmp_path: Path, run_grade) -> None:
    checks = CHECKS.replace("sc.PUBLIC_CASES", "[1, 2]")
    root = _course(tmp_path / "course", run_grade, checks=checks)
    assert _problems(run_grade, root) == []
    done = run_grade("release", str(tmp_path / "out"), cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    shipped = {p.name for p in (tmp_path / "out" / "checks").iterdir()}
    assert shipped == {"double.py"}  # secret_cases.py was shipped whole before
    text = (tmp_path / "out" / "checks" / "double.py").read_text()
    assert "reshaped" not in text and "secret" not in text


def test_a_hidden_helper_named_with_a_common_word_releases_cleanly(tmp_path: Path,
                                                                    run_grade) -> None:
    # `reshaped` is cut with the hidden check; the word in prose and in a public
    # check's name is English, not the helper.
    checks = CHECKS.replace("sc.PUBLIC_CASES", "[1, 2]").replace(
        '"""Checks for ex-1."""', '"""Checks for ex-1: a reshaped answer still counts."""'
    ).replace('"doubles two more"', '"doubles two more, reshaped or not"')
    root = _course(tmp_path / "course", run_grade, checks=checks)
    assert _problems(run_grade, root, "--static") == []
    done = run_grade("release", str(tmp_path / "out"), cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr


def test_hidden_data_quoted_in_a_shipped_docstring_or_comment_is_caught(
        tmp_path: Path, run_grade) -> None:
    checks = CHECKS.replace("sc.PUBLIC_CASES", "[1, 2]").replace(
        '"""Checks for ex-1."""',
        '"""Checks for ex-1; the hidden check doubles "quartz" too."""').replace(
        "import check, fail", "import check, fail  # (seventeen: 17 as well)")
    root = _course(tmp_path / "course", run_grade, checks=checks)
    problems = _problems(run_grade, root, "--static")
    origin = "from checks/secret_cases.py, which only hidden checks import"
    assert problems == [f"checks/double.py:1: 'quartz' is in the release: {origin}",
                        f"checks/double.py:4: 'seventeen' is in the release: {origin}"], \
        problems
    done = run_grade("release", str(tmp_path / "out"), cwd=root)
    assert done.returncode == 1 and all(p in done.stdout for p in problems)


@pytest.mark.parametrize("static", [True, False])
def test_grade_check_refuses_a_solution_line_in_a_public_checks_helper(
        tmp_path: Path, run_grade, static: bool) -> None:
    helper = HELPER + "\n\ndef reference(x):\n    return x * 2\n"
    root = _course(tmp_path / "course", run_grade, helper=helper,
                   checks=CHECKS.replace("sc.SECRET_CORPUS", '{"abc": 3}'))
    problems = _problems(run_grade, root, *(["--static"] if static else []))
    assert problems == ["checks/secret_cases.py:8: a line of the solution of ex-1 is in the "
                        "release (solutions/double.py: return x * 2)"], problems
