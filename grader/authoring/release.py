"""Copies of a course for where it goes: the learner's release, or a grader's course.

A learner's release (`grade release`) holds the skeletons (`.py` and `.ipynb`), a
course.yaml without solution paths and saying what each exercise withholds, and
the public checks with the helper modules they import: nothing of `solutions/`
and no hidden check. A grader's copy (Gradescope, PrairieLearn, GitHub Classroom)
holds every check, and still no solution.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from grader.authoring.hidden import Stripped, strip_hidden
from grader.checks import Check, load_checks, local_modules
from grader.course import Course, Exercise, Withheld

COURSE_HEADER = """\
# The course, one entry per exercise (grader.course.model.Course). `grade check` validates it;
# yaml-language-server: $schema=course.schema.json  (from `grade schema`: editors validate too)
"""
RELEASE_README = """\
# {title}

Your exercises are in `exercises/`: fill in each `___` and grade your work with

    grade exercise-1

(`grade list` lists the exercises). {withheld}
"""


class ReleaseError(Exception):
    """The course cannot be copied (a checks file outside the course, one that won't load)."""


@dataclass(frozen=True)
class Copied:
    """What a copy wrote, and for each exercise what its checks file lost."""

    root: Path
    files: list[Path]
    stripped: dict[str, Stripped]
    hidden: dict[str, list[Check]]


def _inside(course: Course, path: Path) -> Path:
    """`path` relative to the course root, refusing one that leaves it (`../`)."""
    try:
        return path.resolve().relative_to(course.root.resolve())
    except ValueError:
        raise ReleaseError(f"{path} is outside the course folder; a copy cannot carry it") \
            from None


def _checks(course: Course, exercise: Exercise) -> list[Check]:
    path = course.checks_path(exercise)
    try:
        return load_checks(path)
    except Exception as exc:  # the author's module: `grade check` gives the line
        raise ReleaseError(f"cannot load {path} ({type(exc).__name__}: {exc}); run grade check") \
            from None


def _course_yaml(course: Course, withheld: dict[str, Withheld], release: bool) -> str:
    data = course.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
    data.pop("solutions_dir", None)
    for entry, exercise in zip(data["exercises"], course.exercises, strict=True):
        entry.pop("solution", None)
        if exercise.id in withheld:
            entry["withheld"] = withheld[exercise.id].model_dump(mode="json")
    if release:  # said near the top, where a reader of the file looks first
        data = {"title": data.pop("title"), "release": True, **data}
    return COURSE_HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _write(root: Path, relative: Path | str, text: str, written: list[Path]) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")
    written.append(path)


def copy_course(course: Course, dest: Path, *, release: bool) -> Copied:
    """Write the course into the empty folder `dest`: a learner's release or a grader's copy.

    Raises ReleaseError before writing anything when a file cannot be carried.
    """
    plan: dict[Path, str] = {}
    stripped: dict[str, Stripped] = {}
    hidden: dict[str, list[Check]] = {}
    withheld: dict[str, Withheld] = {}
    for exercise in course.exercises:
        learner = course.learner_path(exercise)
        for path in (learner, learner.with_suffix(".ipynb")):
            if path.is_file():
                plan[_inside(course, path)] = path.read_bytes().decode("utf-8")
        checks_path = course.checks_path(exercise)
        checks = _checks(course, exercise)
        source = checks_path.read_bytes().decode("utf-8")
        hidden[exercise.id] = [c for c in checks if c.visibility == "hidden"]
        if release and hidden[exercise.id]:
            stripped[exercise.id] = strip_hidden(source, {c.id for c in hidden[exercise.id]})
            source = stripped[exercise.id].text
            withheld[exercise.id] = Withheld(checks=len(hidden[exercise.id]),
                                             points=sum(c.points for c in hidden[exercise.id]))
        plan[_inside(course, checks_path)] = source
        # Only the helpers the shipped text imports: one only hidden checks use stays home.
        for helper in local_modules(checks_path, source).values():
            plan[_inside(course, helper)] = helper.read_bytes().decode("utf-8")
    schema = course.root / "course.schema.json"
    if schema.is_file():
        plan[Path(schema.name)] = schema.read_text(encoding="utf-8")
    written: list[Path] = []
    _write(dest, "course.yaml", _course_yaml(course, withheld, release), written)
    for relative, text in plan.items():
        _write(dest, relative, text, written)
    if release:
        _write(dest, "README.md", _release_readme(course, withheld), written)
    return Copied(root=dest, files=written, stripped=stripped, hidden=hidden)


def _release_readme(course: Course, withheld: dict[str, Withheld]) -> str:
    checks = sum(w.checks for w in withheld.values())
    if checks:
        text = (f"The checks you run here are the public ones: {checks} more hidden "
                f"check{'s' * (checks != 1)} run{'s' * (checks == 1)} when your work is "
                "graded, so the score `grade` shows here is not your final score.")
    else:
        text = "Every check that grades your work runs here too."
    return RELEASE_README.format(title=course.title, withheld=text)


def replace_folder(built: Path, dest: Path) -> None:
    """Move the finished copy `built` to `dest`, replacing what `dest` held."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    built.rename(dest)
