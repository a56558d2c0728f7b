"""`grade check --release DIR`: a learner's release leaks nothing and judges as the course does.

Three things are checked against the author's course:
- no line of a solution that its skeleton does not have appears in any file of the
  release (comments aside), so no answer ships;
- no hidden check ships (grader.authoring.secrets): not its name or function, no
  name cut with it in the release's code, none of its data (the corpus "you never
  saw") anywhere, docstrings and comments included; and no helper module ships with
  a name only hidden checks use;
- the release's public checks give the same verdict and message as the course's on
  the solution, on a wrong answer and on the skeleton, and the release withholds
  exactly the hidden checks' count and points.
"""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from contextlib import suppress
from pathlib import Path

from grader.authoring.build import relative
from grader.authoring.markers import fill_blanks, make_skeleton
from grader.authoring.problems import Problem
from grader.authoring.secrets import Secret, hidden_secrets
from grader.authoring.validate import WRONG_ANSWERS
from grader.checks import load_checks
from grader.course import ConfigError, Course, Exercise, load_course
from grader.results import ExerciseResult
from grader.runner import Grader
from grader.sandbox.client import SandboxBackend

MIN_NEEDLE = 5  # shorter code lines (`else:`, `)`) say nothing about a leak
_COMMENT = re.compile(r"\s+#.*$")
SHINGLE = 5  # this many words of a hidden phrase in a row are a quotation, not chance
GENERATED = {"course.schema.json"}  # written by `grade schema`, the same for every course


def _code(line: str) -> str:
    """A line's code, without indentation or a trailing comment."""
    return _COMMENT.sub("", line.strip()) if not line.lstrip().startswith("#") else ""


def _texts(root: Path) -> dict[Path, list[str]]:
    """Every file of the release as lines of text (a notebook: its cells' lines)."""
    found: dict[Path, list[str]] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        text = path.read_bytes().decode("utf-8", errors="replace")
        if path.suffix == ".ipynb":
            try:
                cells = json.loads(text).get("cells", [])
                text = "\n".join("".join(c.get("source", "")) for c in cells)
            except (ValueError, AttributeError):
                pass  # not a notebook after all: searched as text
        found[path] = text.splitlines()
    return found


def _given(course: Course) -> set[str]:
    """Code lines learners get by design: those of every skeleton of the course."""
    return {_code(line) for e in course.exercises if e.solution is not None
            for line in make_skeleton(course.solution_path(e).read_text(encoding="utf-8"))
            .text.splitlines()}


def _answer_lines(course: Course, exercise: Exercise, given: set[str]) -> set[str]:
    """Code lines of the solution that no skeleton has: the answers."""
    skeleton = make_skeleton(course.solution_path(exercise).read_text(encoding="utf-8"))
    return {code for line in skeleton.solution.splitlines()
            if len(code := _code(line)) >= MIN_NEEDLE and code not in given}


def _prose_lines(text: str) -> set[int]:
    """Lines of docstrings (string statements) in Python `text`: prose, not code."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def _code_words(lines: list[str]) -> dict[int, set[str]]:
    """Per line, the identifiers of Python code: names, and strings that are one name.

    Comments, docstrings and sentences in strings are left out: an English word there
    is not a name (`getattr(m, "SECRET")` or `["test_secret"]` still are). Text that is
    not Python has no code.
    """
    text = "\n".join(lines) + "\n"
    try:
        prose = _prose_lines(text)
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (SyntaxError, tokenize.TokenError, ValueError):
        return {}
    words: dict[int, set[str]] = {}
    for token in tokens:
        if token.type == tokenize.NAME:
            words.setdefault(token.start[0], set()).add(token.string)
        elif token.type == tokenize.STRING and token.start[0] not in prose:
            with suppress(ValueError, SyntaxError):  # an f-string has no single value
                if isinstance(value := ast.literal_eval(token.string), str) \
                        and value.isidentifier():
                    words.setdefault(token.start[0], set()).add(value)
    return words


def _data_pattern(text: str) -> re.Pattern[str]:
    """Where data shows: a word quoted or with its number ("'apple'", "apple: 0.5"),
    a phrase whole or any SHINGLE words of it in a row (a corpus quoted in part)."""
    words = text.split()
    if len(words) == 1:
        word = re.escape(words[0])
        return re.compile(rf"([\"'`]){word}\1|(?<!\w){word}(?!\w)\W{{0,3}}\d")
    runs = [words[i:i + SHINGLE] for i in range(max(len(words) - SHINGLE + 1, 1))]
    return re.compile("|".join(r"(?<!\w)" + r"\s+".join(map(re.escape, run)) + r"(?!\w)"
                               for run in runs))


def _found(secret: Secret, lines: list[str], code: dict[int, set[str]]) -> list[int]:
    """Lines where `secret` is: a name among the code's words, data anywhere."""
    if secret.identifier:
        return [number for number, words in sorted(code.items()) if secret.text in words]
    text = "\n".join(lines)
    return sorted({text.count("\n", 0, m.start()) + 1
                   for m in _data_pattern(secret.text).finditer(text)})


def _hidden_leaks(course: Course, texts: dict[Path, list[str]], release: Path) -> list[Problem]:
    problems: list[Problem] = []
    code = {path: _code_words(lines) if path.suffix in (".py", ".ipynb") else {}
            for path, lines in texts.items()}
    for exercise in course.exercises:
        hidden = [c for c in load_checks(course.checks_path(exercise))
                  if c.visibility == "hidden"]
        if not hidden:
            continue
        secrets, refused = hidden_secrets(course, exercise, hidden)
        problems += refused
        for secret in secrets:
            for path, lines in texts.items():
                if path.name in GENERATED:
                    continue
                problems += [Problem(file=str(path.relative_to(release)), line=number,
                                     exercise=exercise.id,
                                     message=f"{secret.shown} is in the release: "
                                     f"{secret.origin}")
                             for number in _found(secret, lines, code[path])]
    return problems


def _leaks(course: Course, release: Path) -> list[Problem]:
    texts = _texts(release)
    problems: list[Problem] = []
    given = _given(course)
    for exercise in course.exercises:
        if exercise.solution is None:
            continue
        answers = _answer_lines(course, exercise, given)
        where = relative(course, course.solution_path(exercise))
        for path, lines in texts.items():
            problems += [Problem(file=str(path.relative_to(release)), line=number,
                                 message=f"a line of the solution of {exercise.id} is in the "
                                 f"release ({where}: {_code(line)})", exercise=exercise.id)
                         for number, line in enumerate(lines, 1) if _code(line) in answers]
    return problems + _hidden_leaks(course, texts, release)


def _same(course: Course, ours: ExerciseResult, theirs: ExerciseResult, what: str,
          exercise: Exercise) -> list[Problem]:
    """Problems where the release's public verdicts differ from the course's."""
    checks_file = relative(course, course.checks_path(exercise))
    public = [c for c in ours.checks if c.visibility == "public"]
    if [c.name for c in public] != [c.name for c in theirs.checks]:
        return [Problem(file=checks_file, message=f"the release's checks of {exercise.id} are "
                        f"{[c.name for c in theirs.checks]}, not the public ones "
                        f"{[c.name for c in public]}", exercise=exercise.id)]
    problems = []
    if (ours.error is None) != (theirs.error is None):
        problems.append(Problem(file=checks_file, message=f"{what}: the course says "
                                f"{ours.error or 'graded'}, the release {theirs.error or 'graded'}",
                                exercise=exercise.id))
    for a, b in zip(public, theirs.checks, strict=True):
        if (a.passed, a.score, a.message, a.hint) != (b.passed, b.score, b.message, b.hint):
            problems.append(Problem(file=checks_file, message=f"{what}: {a.name!r} "
                                    f"{'passes' if a.passed else 'fails'} in the course "
                                    f"({a.message} {a.hint or ''}) but "
                                    f"{'passes' if b.passed else 'fails'} in the release "
                                    f"({b.message} {b.hint or ''})", exercise=exercise.id))
    return problems


def _verdicts(course: Course, release: Course, sandbox: SandboxBackend) -> list[Problem]:
    ours, theirs = Grader(course, sandbox), Grader(release, sandbox)
    problems: list[Problem] = []
    for exercise in course.exercises:
        released = release.exercise(exercise.id)
        if released is None:
            problems.append(Problem(file="course.yaml", message=f"{exercise.id} is missing "
                                    "from the release", exercise=exercise.id))
            continue
        hidden = [c for c in ours.checks(exercise) if c.visibility == "hidden"]
        expected = (len(hidden), sum(c.points for c in hidden))
        got = (released.withheld.checks, released.withheld.points) if released.withheld \
            else (0, 0.0)
        if expected != got:
            problems.append(Problem(file="course.yaml", message=f"{exercise.id} withholds "
                                    f"{got[0]} checks ({got[1]:g} points); its hidden checks "
                                    f"are {expected[0]} ({expected[1]:g} points)",
                                    exercise=exercise.id))
        try:
            theirs.checks(released)
        except Exception as exc:  # the release's own checks file: say why, grade nothing
            problems.append(Problem(file=released.checks, message="the release's checks "
                                    f"cannot be imported: {type(exc).__name__}: {exc}",
                                    exercise=exercise.id))
            continue
        if exercise.solution is None:
            continue
        skeleton = make_skeleton(course.solution_path(exercise).read_text(encoding="utf-8"))
        samples = [("the solution", skeleton.solution), ("the skeleton", skeleton.text)]
        samples += [(f"the skeleton with ___ = {a}", fill_blanks(skeleton.text, a))
                    for a in WRONG_ANSWERS[:1] if skeleton.blanks]
        for what, text in samples:
            problems += _same(course, ours.grade_source(exercise, text, exercise.file),
                              theirs.grade_source(released, text, released.file), what,
                              exercise)
    return problems


def verify_release(course: Course, release_dir: Path,
                   sandbox: SandboxBackend | None) -> list[Problem]:
    """Every way the release at `release_dir` leaks or judges unlike `course`.

    Without a sandbox (`grade check --static`) nothing is graded: leaks only.
    """
    try:
        release = load_course(release_dir / "course.yaml")
    except ConfigError as exc:
        return [Problem(file="course.yaml", message=f"not a release: {p}")
                for p in exc.problems]
    problems = _leaks(course, release_dir)
    if not release.release:
        problems.append(Problem(file="course.yaml", message="not marked `release: true`"))
    for name in ("solutions", course.solutions_dir):
        if (release_dir / name).exists():
            problems.append(Problem(file=name, message="a solutions folder is in the release"))
    return problems + (_verdicts(course, release, sandbox) if sandbox else [])
