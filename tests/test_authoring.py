"""Course authoring with the real `grade` CLI on a temporary copy of the course.

`grade new` scaffolds exercise 4, the authors' guide (docs/authoring.md) fills it,
`grade check` passes; then the course is broken in each way `grade check` knows,
and each problem must be reported at the right file and line.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml
from conftest import ROOT, grade_command

from grader.authoring.build import outputs, read_text
from grader.authoring.markers import make_skeleton, strip_markers
from grader.course import Course, load_course

COURSE_PARTS = ("course.yaml", "exercises", "solutions", "checks")
GUIDE = ROOT / "docs" / "authoring.md"
NEW = ("new", "exercise-4", "--title", "Temperature", "--file", "exercise_4_temperature.py")
SOLUTION = "solutions/exercise_4_temperature.py"
SKELETON = "exercises/exercise_4_temperature.py"
CHECKS = "checks/exercise_4.py"
OUT_OF_DATE = f"out of date with {SOLUTION} (first difference here); run `grade build`"

Found = list[tuple[str, int | None, str]]


def copy_course(source: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for part in COURSE_PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part)
        else:
            shutil.copy2(source / part, target / part)
    return target


def guide_files() -> dict[str, str]:
    """The files the guide shows, from its ```python file=PATH blocks."""
    text = GUIDE.read_text(encoding="utf-8")
    return dict(re.findall(r"```python file=(\S+)\n(.*?)```", text, re.S))


def line_of(path: Path, text: str) -> int:
    """1-based number of the one line of `path` that contains `text`."""
    found = [n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    assert len(found) == 1, (text, found)
    return found[0]


def check_line(course: Path) -> int:
    """The line of the scaffolded exercise's one check."""
    return line_of(course / CHECKS, '@check("double')


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} must occur once in {path}"
    path.write_text(text.replace(old, new))


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shipped course after `grade new exercise-4` (shared: do not change it)."""
    root = copy_course(ROOT, tmp_path_factory.mktemp("scaffolded"))
    done = subprocess.run([*grade_command(), *NEW], cwd=root, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return root


@pytest.fixture
def course4(scaffolded: Path, tmp_path: Path) -> Path:
    """A private copy of the scaffolded course, to break."""
    return copy_course(scaffolded, tmp_path / "course")


@pytest.fixture
def check(run_grade):
    """Run `grade check --json ARGS` in `cwd`; returns (file, line, message) of each problem."""

    def run(cwd: Path, *args: str) -> Found:
        done = run_grade("check", "--json", *args, cwd=cwd)
        report = json.loads(done.stdout)
        assert done.returncode == (0 if report["ok"] else 1), done.stderr
        assert report["ok"] == (not report["problems"])
        return [(p["file"], p["line"], p["message"]) for p in report["problems"]]

    return run


# -- the shipped course ---------------------------------------------------------------


def test_build_reproduces_the_committed_skeletons_byte_for_byte(course: Course) -> None:
    for exercise in course.exercises:
        built = outputs(course, exercise)
        skeleton = course.learner_path(exercise)
        notebook = skeleton.with_suffix(".ipynb")
        assert built == {skeleton: read_text(skeleton), notebook: read_text(notebook)}


def test_build_check_on_the_shipped_course(run_grade) -> None:
    done = run_grade("build", "--check")
    assert (done.returncode, done.stdout) == (0, "exercises/ is up to date\n")


def test_build_rewrites_a_stale_skeleton_and_check_only_reports_it(run_grade,
                                                                   tmp_path: Path) -> None:
    root = copy_course(ROOT, tmp_path)
    skeleton = root / "exercises/exercise_2_generator.py"
    original = skeleton.read_bytes()
    skeleton.write_text("print('edited by hand')\n")
    done = run_grade("build", "--check", cwd=root)
    assert (done.returncode, done.stdout) == (1, "out of date: exercises/exercise_2_generator.py\n")
    assert skeleton.read_text() == "print('edited by hand')\n"
    done = run_grade("build", cwd=root)
    assert (done.returncode, done.stdout) == (0, "wrote exercises/exercise_2_generator.py\n")
    assert skeleton.read_bytes() == original


def test_schema_file_is_up_to_date_and_validates_course_yaml(run_grade) -> None:
    done = run_grade("schema")
    assert done.returncode == 0
    assert done.stdout == (ROOT / "course.schema.json").read_text(encoding="utf-8")
    schema = json.loads(done.stdout)
    data = yaml.safe_load((ROOT / "course.yaml").read_text())
    jsonschema.validate(data, schema)
    data["exercises"][0]["points"] = -1
    with pytest.raises(jsonschema.ValidationError, match="-1"):
        jsonschema.validate(data, schema)


def test_course_yaml_points_editors_at_the_schema() -> None:
    lines = (ROOT / "course.yaml").read_text().splitlines()
    assert lines[1].startswith("# yaml-language-server: $schema=course.schema.json ")


def test_guide_marker_examples_build_as_shown() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    pairs = re.findall(r"```python\n(.*?)```\n\nbecomes\n\n```python\n(.*?)```", text, re.S)
    assert len(pairs) == 3
    for marked, shown in pairs:
        assert make_skeleton(textwrap.dedent(marked)).text == textwrap.dedent(shown)


# -- scaffolding and the guide --------------------------------------------------------


def test_new_exercise_passes_check_at_once(scaffolded: Path, check, run_grade) -> None:
    original = (ROOT / "course.yaml").read_text()
    assert (scaffolded / "course.yaml").read_text() == original + (
        "  - id: exercise-4\n"
        "    title: Temperature\n"
        "    file: exercise_4_temperature.py\n"
        "    solution: exercise_4_temperature.py\n"
        "    checks: checks/exercise_4.py\n"
        "    points: 2\n")
    assert "return ___  # return twice x" in (scaffolded / SKELETON).read_text()
    assert check(scaffolded) == []  # the whole course, four exercises, graded
    done = run_grade("check", cwd=scaffolded)
    assert (done.returncode, done.stdout) == (
        0, "course OK: 4 exercises, 21 checks, 32 points; solutions get full marks, "
           "skeletons 0, verdicts repeat\n")
    learner = run_grade("exercise-4", cwd=scaffolded)
    assert learner.returncode == 1
    blank = line_of(scaffolded / SKELETON, "return ___")
    assert f"the blank on line {blank} is still empty" in learner.stdout


def test_new_refuses_clashing_or_invalid_ids(scaffolded: Path, run_grade) -> None:
    for args, message in [
        (("exercise-4", "--title", "T"), "the course already has an exercise 'exercise-4'"),
        (("check", "--title", "T"), "'check' is a grade command; choose another id"),
        (("Exercise_5", "--title", "T"), "invalid ID 'Exercise_5': use lowercase letters"),
    ]:
        done = run_grade("new", *args, cwd=scaffolded)
        assert done.returncode == 2
        assert message in done.stderr


def test_the_guide_fills_exercise_4_and_check_passes(course4: Path, check, run_grade) -> None:
    files = guide_files()
    assert sorted(files) == [CHECKS, SKELETON, SOLUTION]
    (course4 / SOLUTION).write_text(files[SOLUTION])
    (course4 / CHECKS).write_text(files[CHECKS])
    points = line_of(course4 / "course.yaml", "points: 2")
    assert check(course4, "exercise-4") == [
        (SKELETON, 3, OUT_OF_DATE),
        ("course.yaml", points, f"points: 2, but the checks in {CHECKS} add up to 8"),
    ]
    edit(course4 / "course.yaml", "points: 2", "points: 8")
    done = run_grade("build", "exercise-4", cwd=course4)
    notebook = SKELETON.replace(".py", ".ipynb")
    assert (done.returncode, done.stdout) == (0, f"wrote {SKELETON}\nwrote {notebook}\n")
    assert (course4 / SKELETON).read_text() == files[SKELETON]
    assert check(course4) == []


def test_the_guide_shows_the_example_course_byte_for_byte() -> None:
    example = ROOT / "examples" / "temperature"
    for path, text in guide_files().items():
        assert (example / path).read_text(encoding="utf-8") == text, path
    lesson = load_course(ROOT / "course.yaml")
    assert [e.id for e in lesson.exercises] == ["exercise-1", "exercise-2", "exercise-3"]


def test_the_guide_exercise_checks_kills_its_mutants_releases_and_grades_inside_the_release(
        tmp_path: Path, run_grade) -> None:
    """The whole guide on its example course: check, --mutants, release, then a learner's
    grading inside the release: the skeleton, the solution and two wrong answers."""
    course = tmp_path / "temperature"
    shutil.copytree(ROOT / "examples" / "temperature", course)
    done = run_grade("build", "--check", cwd=course)
    assert done.returncode == 0, done.stdout + done.stderr
    done = run_grade("check", cwd=course)
    assert done.returncode == 0 and done.stdout.startswith("course OK: 1 exercise, 5 checks, "
                                                           "8 points"), done.stdout
    done = run_grade("check", "--mutants", "--jobs", "1", cwd=course, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 survived, 3 marked equivalent" in done.stdout
    # file:line of the marked solution, the one the author edits (30 without markers)
    assert f"equivalent 30:11:compare, {SOLUTION}:35: if r <= cumulative:" in done.stdout
    out = tmp_path / "learners"
    done = run_grade("release", str(out), cwd=course)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (out / "solutions").exists()
    solution = strip_markers((course / SOLUTION).read_text())
    answers = {
        "skeleton.py": ((out / SKELETON).read_text(), 1, "the blank on line 18 is still empty"),
        "solution.py": (solution, 0, "Score: 8/8"),
        # forgets the power: T = 1, the refusal and the copy right; cases and draws wrong
        "no_power.py": (solution.replace("w ** (1 / temperature) for", "w for"), 1,
                        "Score: 3/8"),
        # reshapes the argument in place: right values, but the caller's weights change
        "in_place.py": (solution.replace(
            "    total = sum(powered.values())\n",
            "    total = sum(powered.values())\n    dist.update(powered)\n"), 1,
            "Score: 7/8"),
    }
    for name, (text, status, expected) in answers.items():
        (tmp_path / name).write_text(text)
        done = run_grade("exercise-4", str(tmp_path / name), cwd=out)
        assert done.returncode == status and expected in done.stdout, (name, done.stdout)
    report = run_grade("exercise-4", str(tmp_path / "in_place.py"), cwd=out).stdout
    assert "changed its argument 1 to" in " ".join(report.split())


# -- each way to break a course, reported at its file and line --------------------------


def test_course_yaml_schema_error(course4: Path, check) -> None:
    line = line_of(course4 / "course.yaml", "points: 2")
    edit(course4 / "course.yaml", "points: 2", "points: -1")
    assert check(course4) == [
        ("course.yaml", line, "exercises[3].points: Input should be greater than 0")]


def test_files_that_do_not_exist(course4: Path, check) -> None:
    yaml_file = course4 / "course.yaml"
    edit(yaml_file, "    solution: exercise_4_temperature.py", "    solution: nope.py")
    edit(yaml_file, "checks: checks/exercise_4.py", "checks: checks/nope.py")
    assert check(course4, "exercise-4") == [
        ("course.yaml", line_of(yaml_file, "solution: nope.py"),
         "solution: solutions/nope.py does not exist"),
        ("course.yaml", line_of(yaml_file, "checks: checks/nope.py"),
         "checks: checks/nope.py does not exist"),
    ]


def test_ids_that_clash(course4: Path, check) -> None:
    yaml_file = course4 / "course.yaml"
    edit(yaml_file, "id: exercise-4", "id: exercise-2")
    first, second = (n for n, line in enumerate(yaml_file.read_text().splitlines(), 1)
                     if "id: exercise-2" in line)
    assert check(course4) == [("course.yaml", second, f"exercise id 'exercise-2' is already "
                                                      f"used on line {first}; ids must be unique")]
    edit(yaml_file, "id: exercise-2\n    title: Temperature", "id: list\n    title: T")
    assert check(course4, "--static")[0] == (
        "course.yaml", second, "exercise id 'list' clashes with the command `grade list`; "
                               "learners could not grade it")


def test_exercises_that_share_a_file(course4: Path, check) -> None:
    yaml_file = course4 / "course.yaml"
    edit(yaml_file, "    file: exercise_4_temperature.py", "    file: exercise_2_generator.py")
    lines = [n for n, line in enumerate(yaml_file.read_text().splitlines(), 1)
             if line == "    file: exercise_2_generator.py"]
    assert check(course4, "--static", "exercise-2") == [
        ("course.yaml", lines[1], f"file: exercise_2_generator.py is also used on line "
                                  f"{lines[0]}; each exercise needs its own")]


def test_skeleton_out_of_date(course4: Path, check) -> None:
    edit(course4 / SOLUTION, "return twice x", "return two times x")
    assert check(course4, "exercise-4") == [
        (SKELETON, line_of(course4 / SKELETON, "return ___"), OUT_OF_DATE)]


def test_solution_without_full_marks(course4: Path, check) -> None:
    edit(course4 / SOLUTION, "return 2 * x  # BLANK: 2 * x", "return 3 * x  # BLANK: 3 * x")
    assert check(course4, "exercise-4") == [
        (CHECKS, check_line(course4),
         f"the solution ({SOLUTION}) fails 'double returns twice its argument': "
         "double(1) returned 3; expected 2.")]


def test_skeleton_that_scores(course4: Path, check, run_grade) -> None:
    edit(course4 / SOLUTION, "    return 2 * x  # BLANK: 2 * x | return twice x\n",
         "    return 2 * x\n\n\n# BEGIN SOLUTION\nunused = 1\n# END SOLUTION\n")
    assert run_grade("build", cwd=course4).returncode == 0
    assert check(course4, "exercise-4") == [
        (CHECKS, check_line(course4),
         f"the skeleton ({SKELETON}) already passes 'double returns twice its argument' "
         "(2 points) before a learner writes anything")]


def test_nothing_marked_for_learners(course4: Path, check, run_grade) -> None:
    edit(course4 / SOLUTION, "  # BLANK: 2 * x | return twice x", "")
    assert run_grade("build", cwd=course4).returncode == 0
    assert check(course4, "exercise-4") == [
        (SOLUTION, None, "nothing is marked for learners to fill in: mark a blank with "
                         "'# BLANK: code' or a region with '# BEGIN SOLUTION' / "
                         "'# END SOLUTION' (docs/authoring.md)"),
        (CHECKS, check_line(course4),
         f"the skeleton ({SKELETON}) already passes 'double returns twice its argument' "
         "(2 points) before a learner writes anything")]


def test_broken_markers(course4: Path, check, run_grade) -> None:
    with (course4 / SOLUTION).open("a") as solution:
        solution.write("\n\n# BEGIN SOLUTION\nprint(double(2))\n")
    line = line_of(course4 / SOLUTION, "# BEGIN SOLUTION")
    message = "BEGIN SOLUTION is never closed by an END SOLUTION"
    assert check(course4, "exercise-4") == [(SOLUTION, line, message)]
    done = run_grade("build", cwd=course4)
    assert (done.returncode, done.stderr.splitlines()[0]) == (2, f"{SOLUTION}:{line}: {message}")


def test_checks_without_name_or_points(course4: Path, check) -> None:
    with (course4 / CHECKS).open("a") as checks:
        checks.write('\n\n@check("", points=0)\ndef test_nameless(submission):\n    pass\n'
                     '\n\ndef test_forgotten(submission):\n    pass\n')
    nameless = line_of(course4 / CHECKS, '@check("", points=0)')
    assert check(course4, "exercise-4") == [
        (CHECKS, line_of(course4 / CHECKS, "def test_forgotten"),
         "test_forgotten has no @check(name, points), so it is never graded"),
        (CHECKS, nameless, "a check without a name: give @check a name learners understand"),
        (CHECKS, nameless, "the check '' has 0 points; give it more than 0"),
    ]


def test_check_that_keeps_state_between_submissions(course4: Path, check) -> None:
    with (course4 / CHECKS).open("a") as checks:
        checks.write('\n\nRUNS = []\n\n\n@check("remembers submissions", points=1)\n'
                     'def test_stateful(submission):\n    RUNS.append(1)\n'
                     '    if len(RUNS) % 2 == 0:\n        fail(f"run {len(RUNS)}")\n')
    edit(course4 / "course.yaml", "points: 2", "points: 3")
    assert check(course4, "exercise-4") == [
        (CHECKS, line_of(course4 / CHECKS, '@check("remembers'),
         f"'remembers submissions' is not deterministic: grading the solution ({SOLUTION}) "
         "twice gave passed, then failed (run 2.); pass seed= to every random draw and keep "
         "no state between submissions")]


def test_check_with_unseeded_test_inputs(course4: Path, check) -> None:
    edit(course4 / CHECKS, "from __future__ import annotations\n",
         "from __future__ import annotations\n\nimport random\n")
    edit(course4 / CHECKS, "for x in [0, 1, -3, 2.5]:", "for x in [random.random()]:")
    problems = check(course4, "exercise-4")
    assert [(f, n) for f, n, _ in problems] == [(CHECKS, check_line(course4))]
    assert re.fullmatch(
        rf"'double returns twice its argument' is not deterministic: grading the solution "
        rf"\({SOLUTION}\) twice, it asked different things: double\(0\.\d+\), seed=None, then "
        r"double\(0\.\d+\), seed=None; draw test inputs from a seeded random.Random\(seed\), "
        r"not from the global random", problems[0][2])


@pytest.mark.parametrize(("code", "error"), [
    ("import no_such_module\n", "ModuleNotFoundError: No module named 'no_such_module'"),
    ("def broken(:\n    pass\n", "SyntaxError: "),
    ("SCALE = 1 / 0\n", "ZeroDivisionError: division by zero"),
])
def test_checks_file_that_cannot_be_imported(course4: Path, check, code: str,
                                             error: str) -> None:
    edit(course4 / CHECKS, "\n\n@check(", f"\n{code}\n\n@check(")
    line = line_of(course4 / CHECKS, code.splitlines()[0])
    problems = check(course4, "exercise-4")
    assert [(f, n) for f, n, _ in problems] == [(CHECKS, line)]
    assert problems[0][2].startswith(f"cannot import the checks: {error}")


def test_points_that_do_not_match_the_checks(course4: Path, check) -> None:
    line = line_of(course4 / "course.yaml", "points: 2")
    edit(course4 / "course.yaml", "points: 2", "points: 5")
    assert check(course4, "exercise-4", "--static") == [
        ("course.yaml", line, f"points: 5, but the checks in {CHECKS} add up to 2")]


def test_every_problem_is_listed_at_once(course4: Path, run_grade) -> None:
    edit(course4 / "course.yaml", "points: 2", "points: 5")
    edit(course4 / SOLUTION, "return twice x", "return double x")
    with (course4 / CHECKS).open("a") as checks:
        checks.write("\n\ndef test_forgotten(submission):\n    pass\n")
    done = run_grade("check", cwd=course4)
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{SKELETON}:{line_of(course4 / SKELETON, 'return ___')}: {OUT_OF_DATE}",
        f"{CHECKS}:{line_of(course4 / CHECKS, 'def test_forgotten')}: test_forgotten has no "
        "@check(name, points), so it is never graded",
        f"course.yaml:{line_of(course4 / 'course.yaml', 'points: 5')}: points: 5, but the "
        f"checks in {CHECKS} add up to 2",
        "3 problems in 3 files",
    ]


def test_check_usage_errors_exit_2(course4: Path, run_grade, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run_grade("check", cwd=empty)
    assert done.returncode == 2
    assert "no course.yaml here or in any parent folder" in done.stderr
    done = run_grade("check", "exercise-9", cwd=course4)
    assert done.returncode == 2
    assert "no exercise named 'exercise-9'" in done.stderr


def test_a_skeleton_that_is_not_utf8_is_reported_not_crashed_on(course4: Path, check) -> None:
    skeleton = course4 / SKELETON
    lines = skeleton.read_bytes().count(b"\n")
    skeleton.write_bytes(skeleton.read_bytes() + b"\xff\n")
    assert check(course4, "--static", "exercise-4") == [(SKELETON, lines + 1, OUT_OF_DATE)]


def test_a_title_with_backslashes_and_quotes_still_passes(tmp_path: Path, check,
                                                         run_grade) -> None:
    root = copy_course(ROOT, tmp_path / "course")
    title = 'Escapes like \\N and \\x, and """quotes"""'
    done = run_grade("new", "exercise-4", "--title", title, cwd=root)
    assert done.returncode == 0, done.stderr
    assert check(root, "exercise-4") == []
    assert load_course(root / "course.yaml").exercise("exercise-4").title == title
