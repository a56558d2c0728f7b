"""A synthetic class: student folders with known submissions and known scores.

Used by bench/batch.py and by the batch tests. Every expected score below is
worked out from what the checks test (see checks/exercise_*.py), not by running
the grader:

- solution, notebook (the solution as .ipynb), snoop (the solution plus code
  that tries to read and write outside its box, swallowing the errors): 10;
- skeleton: 0 (exercises 1 and 2 report their blanks; exercise 3's outline
  defines nothing, so every check fails);
- missing: 0, error exactly "no submission";
- syntax, loop (`while True: pass` at module level): 0 with an error;
- mutant, one known bug per exercise:
  exercise-1 `"cloudy": 0.4`: the sum check (2) and weather's frequencies (2)
  fail: 6; exercise-2 `options[0]` instead of `random.choice(options)`: the
  sampling (2) and frequency (1) checks fail: 7; exercise-3 `chain[word][0]`:
  the sampling check (2) fails: 8.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ("exercise-1", "exercise-2", "exercise-3")
FILES = {"exercise-1": "exercise_1_weighted_sampling.py",
         "exercise-2": "exercise_2_generator.py",
         "exercise-3": "exercise_3_tiny_language_model.py"}
MUTANTS = {  # exercise: (text in the solution, replacement, expected score)
    "exercise-1": ('"cloudy": 0.3', '"cloudy": 0.4', 6.0),
    "exercise-2": ("word = random.choice(options)", "word = options[0]", 7.0),
    "exercise-3": ("word = random.choice(chain[word])", "word = chain[word][0]", 8.0),
}
SNOOP = '''
import os as _os
for _path in ("/", "..", "../..", "/work", "/tmp", "/etc/passwd"):
    try:
        _os.listdir(_path)
        open(_os.path.join(_path, "owned.txt"), "w").write("owned")
    except Exception:
        pass
'''
# Most of a class is right or nearly right; a few files are broken or missing.
CYCLE = ("solution", "solution", "mutant", "skeleton", "solution", "missing", "mutant",
         "syntax", "solution", "notebook", "snoop")


@dataclass(frozen=True)
class Expected:
    kind: str
    score: float
    error: str | None  # None: no error; "" any error; else the exact error text


def expected(kind: str, exercise: str) -> Expected:
    if kind in ("solution", "notebook", "snoop"):
        return Expected(kind, 10.0, None)
    if kind == "mutant":
        return Expected(kind, MUTANTS[exercise][2], None)
    if kind == "missing":
        return Expected(kind, 0.0, "no submission")
    if kind == "skeleton" and exercise == "exercise-3":
        return Expected(kind, 0.0, None)
    return Expected(kind, 0.0, "")  # skeleton (blanks), syntax, loop


def source(kind: str, exercise: str) -> str:
    solution = (ROOT / "solutions" / FILES[exercise]).read_text()
    if kind == "skeleton":
        return (ROOT / "exercises" / FILES[exercise]).read_text()
    if kind == "mutant":
        old, new, _ = MUTANTS[exercise]
        assert solution.count(old) == 1, (exercise, old)
        return solution.replace(old, new)
    if kind == "syntax":
        return solution + "\ndef broken(:\n    pass\n"
    if kind == "loop":
        return solution + "\nwhile True:\n    pass\n"
    if kind == "snoop":
        return SNOOP + solution
    return solution


def notebook(text: str) -> str:
    import nbformat

    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_markdown_cell("My answer"), nbformat.v4.new_code_cell(text)]
    return nbformat.writes(book)


def kind_of(index: int, exercise: str, loops: frozenset[int], cycle: tuple[str, ...]) -> str:
    if index in loops and exercise == "exercise-1":
        return "loop"
    return cycle[(index + 3 * EXERCISES.index(exercise)) % len(cycle)]


def build_class(folder: Path, students: int, loops: frozenset[int] = frozenset({7}),
                cycle: tuple[str, ...] = CYCLE) -> dict[str, dict[str, Expected]]:
    """Write `students` student folders into `folder`; return what each should score.

    Student `i` in `loops` gets an infinite loop for exercise 1; otherwise the
    kinds of submission repeat in the order of `cycle`.
    """
    expectations: dict[str, dict[str, Expected]] = {}
    for index in range(students):
        student = f"s{index:04d}"
        (folder / student).mkdir(parents=True)
        expectations[student] = {}
        for exercise in EXERCISES:
            kind = kind_of(index, exercise, loops, cycle)
            expectations[student][exercise] = expected(kind, exercise)
            path = folder / student / FILES[exercise]
            if kind == "notebook":
                path.with_suffix(".ipynb").write_text(notebook(source("solution", exercise)))
            elif kind != "missing":
                path.write_text(source(kind, exercise))
    return expectations


def course_copy(folder: Path, time_limit: float) -> Path:
    """The shipped course with another time limit (infinite loops cost less to wait for)."""
    import shutil

    for part in ("checks", "exercises", "solutions"):
        shutil.copytree(ROOT / part, folder / part)
    text = (ROOT / "course.yaml").read_text()
    old = "  time_limit: 10 "
    assert text.count(old) == 1
    (folder / "course.yaml").write_text(text.replace(old, f"  time_limit: {time_limit:g} "))
    return folder / "course.yaml"


if __name__ == "__main__":  # python bench/synthetic.py FOLDER N: a class to try by hand
    import sys

    plan = build_class(Path(sys.argv[1]), int(sys.argv[2]))
    print(json.dumps({s: {e: x.kind for e, x in v.items()} for s, v in plan.items()}, indent=1))
