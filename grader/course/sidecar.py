"""The course cache's key, and a plain-text index beside the cache, read with only `os`.

A learner's `grade exercise-N [FILE]` launches the sandbox's zygote before anything else
imports (cli/early.py): where the exercise's file is and how large it may be come from
this index, which the cache's writer keeps next to the JSON (course/cache.py) under the
same key. It is an optimisation like the cache: anything odd about it (missing, stale,
unreadable) means no early launch, and the command goes on as it always did.
"""

from __future__ import annotations

import os

try:  # hashlib's own built-in BLAKE2: importing hashlib loads OpenSSL's libcrypto first
    from _blake2 import blake2b
except ImportError:  # a Python built without it
    from hashlib import blake2b

from grader.version import __version__

COURSE_FILE = "course.yaml"
INDEX = os.path.join(".grade", "course-index.txt")  # beside the cache, git-ignored too
_HERE = os.path.dirname(__file__)
# The code that shapes what is cached: the course model, load.py, the learner's plan,
# the cache's and this index's writers.
_SOURCES = tuple(os.path.join(_HERE, name)
                 for name in ("model.py", "load.py", "plan.py", "cache.py", "sidecar.py"))


_keys: dict[bytes, str] = {}  # the last course.yaml's key: a command looks it up twice


def cache_key(text: bytes) -> str:
    """What the cached course was made from: this course.yaml, this model and learner's
    plan, this grader."""
    if text in _keys:
        return _keys[text]
    digest = blake2b(text, digest_size=32)
    for source in _SOURCES:
        with open(source, "rb") as file:
            digest.update(file.read())
    digest.update(__version__.encode())
    _keys.clear()
    _keys[text] = digest.hexdigest()
    return _keys[text]


def course_file_here() -> str | None:
    """The course.yaml `load.find_course` finds ($GRADE_COURSE, else the nearest one
    upwards from the working folder), or None where it finds none."""
    if env := os.environ.get("GRADE_COURSE"):
        return os.path.join(env, COURSE_FILE) if os.path.isdir(env) else env
    folder = os.path.realpath(os.getcwd())
    while True:
        candidate = os.path.join(folder, COURSE_FILE)
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def index_text(key: str, learner: dict[str, dict[str, object]]) -> str:
    """The index of a learner's plan (course/plan.py, `Planned.entry` per exercise): its
    key, then a line per exercise, "id TAB max_source_kb TAB file" (an id or file that
    a tab or a line break would garble is left out: it is read the usual way)."""
    lines = [key]
    for exercise, entry in learner.items():
        file, limits = entry.get("file"), entry.get("limits")
        size = limits.get("max_source_kb") if isinstance(limits, dict) else None
        fields = (exercise, str(size), str(file))
        if isinstance(size, int) and isinstance(file, str) and not any(
                mark in field for field in fields for mark in "\t\n\r"):
            lines.append("\t".join(fields))
    return "\n".join(lines) + "\n"


def planned_file(course_file: str, exercise: str) -> tuple[str, int] | None:
    """Exercise `exercise`'s learner file (as an absolute path) and its size limit in
    KB, from the index, if it is there and current; None otherwise."""
    try:
        with open(course_file, "rb") as file:
            key = cache_key(file.read())
        root = os.path.dirname(os.path.realpath(course_file))
        with open(os.path.join(root, INDEX), encoding="utf-8") as file:
            lines = file.read().split("\n")
    except (OSError, UnicodeDecodeError):
        return None
    if lines[0] != key:
        return None
    for line in lines[1:]:
        fields = line.split("\t")
        if len(fields) == 3 and fields[0] == exercise and fields[1].isdecimal():
            return os.path.join(root, fields[2]), int(fields[1])
    return None
