"""`grade check`: every problem of a course, each with the file and line to fix.

Static problems first (course.yaml, files, markers, checks files, points), then
grading: the solution must get full marks, the skeleton nothing, and every check
must give the same verdict, and ask and get the same things, when the same file is
graded twice: the solution, and a wrong answer (the skeleton with every ``___``
replaced by the first of `WRONG_ANSWERS` that lets it load, or an outline skeleton
as it is).
"""

from __future__ import annotations

import ast
import traceback
from contextlib import ExitStack
from pathlib import Path

import yaml

from grader.authoring.build import BuildError, outputs, read_text, relative, stale
from grader.authoring.markers import Skeleton, fill_blanks, make_skeleton
from grader.authoring.problems import Problem
from grader.authoring.recording import RecordingGrader, Transcript, first_difference
from grader.checks import Check, load_checks
from grader.course import ConfigError, ConfigProblem, Course, Exercise, load_course
from grader.course.load import _node_line
from grader.models import Model
from grader.results import CheckResult, ExerciseResult
from grader.runner import ChecksError, find_blanks
from grader.sandbox.levels import make_sandbox

WRONG_ANSWERS = ("None", "0", "1", '""')


class CourseReport(Model):
    """What `grade check --json` prints."""

    ok: bool
    course: str | None
    exercises: int
    checks: int
    points: float
    problems: list[Problem]
    release: bool = False  # a learner's release: no solutions to grade, so nothing was graded


def _first_difference(old: str, new: str) -> int:
    """1-based number of the first line where `old` and `new` differ."""
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    for number, (a, b) in enumerate(zip(old_lines, new_lines, strict=False), 1):
        if a != b:
            return number
    return min(len(old_lines), len(new_lines)) + 1


def _import_error_line(exc: BaseException, path: Path) -> int | None:
    """The line of `path` where importing it failed."""
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename) == path:
        return exc.lineno
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == path]
    return frames[-1].lineno if frames else None


def _describe(result: CheckResult, limit: int = 100) -> str:
    if result.passed:
        return "passed"
    message = result.message
    return f"failed ({message if len(message) <= limit else message[: limit - 3] + '...'})"


class _Validator:
    """Collects the problems of one course.yaml."""

    def __init__(self, course_file: Path, reserved: frozenset[str]) -> None:
        self.course_file = course_file
        self.reserved = reserved
        self.problems: list[Problem] = []
        self.text = ""
        self.node: yaml.Node | None = None
        self.course: Course | None = None
        self.n_checks = 0
        self.unstable: set[tuple[str, str]] = set()
        self.points = 0.0

    # -- course.yaml ---------------------------------------------------------------

    def add(self, file: str, line: int | None, message: str, exercise: str | None = None) -> None:
        self.problems.append(Problem(file=file, line=line, message=message, exercise=exercise))

    def yaml_line(self, *loc: int | str) -> int | None:
        return _node_line(self.node, loc)

    def load(self) -> Course | None:
        name = self.course_file.name
        try:
            self.text = read_text(self.course_file)
            self.node = yaml.compose(self.text, Loader=yaml.SafeLoader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            pass  # load_course below says what is wrong
        clashes = self.duplicate_ids()
        try:
            self.course = load_course(self.course_file)
        except ConfigError as exc:
            for entry in exc.problems:
                if clashes and entry.duplicate_id:
                    continue  # duplicate_ids reported it with the right line
                self.add(name, entry.line, str(ConfigProblem(entry.message, None, entry.field)))
        return self.course

    def duplicate_ids(self) -> int:
        """Report exercise ids used twice, at the second use; return how many."""
        try:
            data = yaml.safe_load(self.text) if self.text else None
        except yaml.YAMLError:
            return 0
        exercises = data.get("exercises") if isinstance(data, dict) else None
        seen: dict[str, int | None] = {}
        found = 0
        for index, entry in enumerate(exercises if isinstance(exercises, list) else []):
            ident = entry.get("id") if isinstance(entry, dict) else None
            if not isinstance(ident, str):
                continue
            line = self.yaml_line("exercises", index, "id")
            if ident in seen:
                found += 1
                self.add(self.course_file.name, line, f"exercise id {ident!r} is already used "
                         f"on line {seen[ident]}; ids must be unique", ident)
            else:
                seen[ident] = line
        return found

    def course_problems(self, course: Course) -> None:
        """Ids that clash with commands, files two exercises share, files that do not exist."""
        name = self.course_file.name
        first_use: dict[tuple[str, str], int | None] = {}
        for index, exercise in enumerate(course.exercises):
            if exercise.id in self.reserved:
                self.add(name, self.yaml_line("exercises", index, "id"),
                         f"exercise id {exercise.id!r} clashes with the command "
                         f"`grade {exercise.id}`; learners could not grade it", exercise.id)
            for key in ("file", "solution"):
                value = getattr(exercise, key)
                if value is None:  # a learner's release has no solutions
                    continue
                line = self.yaml_line("exercises", index, key)
                if (key, value) in first_use:
                    self.add(name, line, f"{key}: {value} is also used on line "
                             f"{first_use[key, value]}; each exercise needs its own", exercise.id)
                first_use.setdefault((key, value), line)
            paths = [("checks", course.checks_path(exercise))]
            if exercise.solution is not None:
                paths.insert(0, ("solution", course.solution_path(exercise)))
            else:
                paths.append(("file", course.learner_path(exercise)))
            for key, path in paths:
                if not path.is_file():
                    self.add(name, self.yaml_line("exercises", index, key),
                             f"{key}: {relative(course, path)} does not exist", exercise.id)

    # -- one exercise, without running anything --------------------------------------

    def skeleton(self, course: Course, exercise: Exercise) -> tuple[str, Skeleton] | None:
        """The solution's text and skeleton, or None after reporting why there is none."""
        if exercise.solution is None:
            return None  # a learner's release: the skeleton is all there is
        path = course.solution_path(exercise)
        if not path.is_file():
            return None  # reported against course.yaml
        where = relative(course, path)
        try:
            solution = read_text(path)
            compile(solution, str(path), "exec")
        except SyntaxError as exc:
            self.add(where, exc.lineno, f"syntax error: {exc.msg}", exercise.id)
            return None
        except (OSError, UnicodeDecodeError) as exc:
            self.add(where, None, f"cannot read the solution: {exc}", exercise.id)
            return None
        for line in find_blanks(solution):
            self.add(where, line, "the solution still has a ___ blank", exercise.id)
        try:
            built = outputs(course, exercise)
        except BuildError as exc:
            self.problems += exc.problems
            return None
        skeleton = make_skeleton(solution)
        if skeleton.parts == 0:
            self.add(where, None, "nothing is marked for learners to fill in: mark a blank "
                     "with '# BLANK: code' or a region with '# BEGIN SOLUTION' / "
                     "'# END SOLUTION' (docs/authoring.md)", exercise.id)
        for out, text in built.items():
            shown = relative(course, out)
            if not out.is_file():
                self.add(shown, None, f"missing; `grade build` makes it from {where}",
                         exercise.id)
                continue
            if stale(out, text):
                current = out.read_bytes().decode("utf-8", errors="replace")
                self.add(shown, _first_difference(current, text),
                         f"out of date with {where} (first difference here); run `grade build`",
                         exercise.id)
                break  # the .ipynb is built from the .py skeleton: one stale file says it
        return solution, skeleton

    def checks(self, course: Course, exercise: Exercise,
               grader: RecordingGrader | None) -> list[Check] | None:
        """The exercise's checks, or None after reporting why they cannot be used."""
        path = course.checks_path(exercise)
        if not path.is_file():
            return None  # reported against course.yaml
        where = relative(course, path)
        try:
            checks = grader.loaded_checks(exercise) if grader else load_checks(path)
        except Exception as error:  # any error of the author's module, reported with its line
            # the grader wraps it in ChecksError: report what the module itself raised
            cause = error.__cause__ if isinstance(error, ChecksError) else None
            exc = cause if isinstance(cause, Exception) else error
            self.add(where, _import_error_line(exc, path.resolve()) or
                     _import_error_line(exc, path),
                     f"cannot import the checks: {type(exc).__name__}: {exc}", exercise.id)
            return None
        self.check_declarations(course, exercise, checks, where, path)
        return checks

    def check_declarations(self, course: Course, exercise: Exercise, checks: list[Check],
                           where: str, path: Path) -> None:
        ids = {c.id for c in checks}
        for node in ast.parse(read_text(path)).body:
            if (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and node.name.startswith("test_") and node.name not in ids):
                self.add(where, node.lineno, f"{node.name} has no @check(name, points), so it "
                         "is never graded", exercise.id)
        if not checks:
            self.add(where, None, "defines no checks: write test_* functions decorated with "
                     "@check(name, points)", exercise.id)
        names: dict[str, int] = {}
        for c in checks:
            if not c.name.strip():
                self.add(where, c.line, "a check without a name: give @check a name "
                         "learners understand", exercise.id)
            elif c.name in names:
                self.add(where, c.line, f"two checks are named {c.name!r} (also line "
                         f"{names[c.name]}); learners could not tell them apart", exercise.id)
            names.setdefault(c.name, c.line)
            if not c.points > 0:
                self.add(where, c.line, f"the check {c.name!r} has {c.points:g} points; "
                         "give it more than 0", exercise.id)
            if not c.id.startswith("test_"):
                self.add(where, c.line, f"{c.id} should be named test_*, so plain pytest "
                         "runs it too", exercise.id)
        # In a learner's release the hidden checks are left out but still count.
        total = sum(c.points for c in checks) + (exercise.withheld.points
                                                  if exercise.withheld else 0.0)
        self.n_checks += len(checks)
        self.points += total
        if exercise.points is not None and checks and abs(total - exercise.points) > 1e-9:
            index = course.exercises.index(exercise)
            self.add(self.course_file.name, self.yaml_line("exercises", index, "points"),
                     f"points: {exercise.points:g}, but the checks in {where} add up to "
                     f"{total:g}", exercise.id)

    # -- grading ---------------------------------------------------------------------

    def grading(self, course: Course, exercise: Exercise, grader: RecordingGrader,
                checks: list[Check], solution: str, skeleton: Skeleton) -> None:
        checks_file = relative(course, course.checks_path(exercise))
        solution_file = relative(course, course.solution_path(exercise))
        skeleton_file = relative(course, course.learner_path(exercise))

        def grade(text: str, filename: str) -> tuple[ExerciseResult, Transcript]:
            return grader.grade_recorded(exercise, text, filename)

        name = course.solution_path(exercise).name
        first = grade(solution, name)
        result = first[0]
        if result.error:
            self.add(solution_file, result.error_line,
                     f"the solution cannot be graded: {result.error}", exercise.id)
        else:
            for c, outcome in zip(checks, result.checks, strict=True):
                if not outcome.passed:
                    self.add(checks_file, c.line, f"the solution ({solution_file}) fails "
                             f"{c.name!r}: {outcome.message}", exercise.id)
        self.compare(first, grade(solution, name), checks, checks_file,
                     f"the solution ({solution_file})", exercise.id)

        empty = grade(skeleton.text, exercise.file)
        for c, outcome in zip(checks, empty[0].checks, strict=True):
            if outcome.score > 0:
                self.add(checks_file, c.line, f"the skeleton ({skeleton_file}) already passes "
                         f"{c.name!r} ({outcome.score:g} points) before a learner writes "
                         "anything", exercise.id)
        if not skeleton.blanks:
            self.compare(empty, grade(skeleton.text, exercise.file), checks, checks_file,
                         f"the skeleton ({skeleton_file})", exercise.id)
            return
        for answer in WRONG_ANSWERS:  # a wrong answer that loads makes the checks run
            wrong = fill_blanks(skeleton.text, answer)
            runs = grade(wrong, exercise.file)
            if runs[0].error is None:
                break
        self.compare(runs, grade(wrong, exercise.file), checks, checks_file,
                     f"the skeleton with every ___ replaced by {answer}", exercise.id)

    def compare(self, first: tuple[ExerciseResult, Transcript],
                second: tuple[ExerciseResult, Transcript], checks: list[Check],
                checks_file: str, what: str, exercise_id: str) -> None:
        """Report every check that judged, asked or got differently in two gradings."""
        (one, asked), (two, asked_again) = first, second
        if one.error != two.error:
            self.add(checks_file, None, f"grading {what} twice gave two different errors: "
                     f"{one.error!r}, then {two.error!r}", exercise_id)
            return
        for c, a, b in zip(checks, one.checks, two.checks, strict=True):
            if a != b:
                how = (f" gave {_describe(a)}, then {_describe(b)}"
                       if _describe(a) != _describe(b)
                       else " gave the same verdict with a different detail or hint")
                how += "; pass seed= to every random draw and keep no state between submissions"
            elif asked.get(c.id) != asked_again.get(c.id):
                how = ", " + first_difference(asked.get(c.id, []), asked_again.get(c.id, []))
            else:
                continue
            if (exercise_id, c.id) not in self.unstable:  # one report per check is enough
                self.unstable.add((exercise_id, c.id))
                self.add(checks_file, c.line, f"{c.name!r} is not deterministic: grading "
                         f"{what} twice{how}", exercise_id)

    # -- the whole course --------------------------------------------------------------

    def run(self, only: list[str] | None, grade: bool) -> CourseReport:
        course = self.load()
        if course is None:
            return self.report(None, 0)
        self.course_problems(course)
        chosen = [e for e in course.exercises if only is None or e.id in only]
        with ExitStack() as stack:
            grader = RecordingGrader(course, stack.enter_context(make_sandbox())) if grade else None
            for exercise in chosen:
                built = self.skeleton(course, exercise)
                checks = self.checks(course, exercise, grader)
                if grader and built and checks:
                    self.grading(course, exercise, grader, checks, *built)
        return self.report(course, len(chosen))

    def report(self, course: Course | None, exercises: int) -> CourseReport:
        return CourseReport(ok=not self.problems, course=course.title if course else None,
                            exercises=exercises, checks=self.n_checks, points=self.points,
                            problems=self.problems, release=bool(course and course.release))


def validate_course(course_file: Path, *, only: list[str] | None = None, grade: bool = True,
                    reserved: frozenset[str] = frozenset()) -> CourseReport:
    """Every problem of the course at `course_file`. `only` limits per-exercise checks."""
    return _Validator(course_file, reserved).run(only, grade)
