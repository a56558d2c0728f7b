"""`grade batch`'s main process from its start to its first file handed to the workers:
work it no longer does on that path (every ms there is a ms of the whole command)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import ROOT


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


def _run(code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, fail(done.stderr[-2000:], "exit 0", "the probe failed")
    return done.stdout


def test_a_cached_course_asks_no_signature_of_its_default_factories(tmp_path: Path) -> None:
    # pydantic's model_construct asks, of every default factory it calls, whether it
    # takes the validated data: inspect.signature(list), whose first call compiles
    # tokenize's patterns (2.5-4 ms of the batch main's CPU before its workers fork).
    course = tmp_path / "course"
    shutil.copytree(ROOT / "bench" / "lfl-course", course)
    load = textwrap.dedent('''
        import json, sys
        from pathlib import Path
        from pydantic._internal import _fields
        asked = []
        real = _fields.takes_validated_data_argument
        def counted(factory):
            asked.append(getattr(factory, "__name__", repr(factory)))
            return real(factory)
        _fields.takes_validated_data_argument = counted
        from grader.course.load import load_course
        course = load_course(Path(sys.argv[1]))
        exercise = course.exercises[0]
        loading = asked[:]  # dumping below builds the serialiser, which asks
        print(json.dumps({"mutants": exercise.equivalent_mutants,
                          "set": sorted(exercise.model_fields_set),
                          "dump": course.model_dump(mode="json"), "asked": loading}))
    ''')
    validated = json.loads(_run(load, str(course / "course.yaml")))  # the cache written
    cached = json.loads(_run(load, str(course / "course.yaml")))
    assert cached["asked"] == [], fail(
        cached["asked"], [], "a course from the cache makes its empty lists itself")
    for field in ("mutants", "set", "dump"):
        assert cached[field] == validated[field], fail(
            cached[field], validated[field], f"the cached course's {field} as validated")


def test_reading_the_class_makes_no_dataclass_but_the_student_folder() -> None:
    # The batch reads its class (discovery, the layouts, the file matcher, the TA's
    # selection) after its workers fork and before it hands them their first file;
    # each dataclass made there cost ~0.5 ms of that wait.
    code = textwrap.dedent('''
        import dataclasses, json
        made = []
        real = dataclasses._process_class
        def process(cls, *args, **kwargs):
            made.append(f"{cls.__module__}.{cls.__qualname__}")
            return real(cls, *args, **kwargs)
        dataclasses._process_class = process
        import grader.results, grader.batch.journal  # what the batch had before the fork
        before = len(made)
        import grader.batch.discover, grader.batch.select
        print(json.dumps(made[before:]))
    ''')
    made = json.loads(_run(code))
    assert made == ["grader.batch.discover.StudentFolder"], fail(
        made, ["grader.batch.discover.StudentFolder"],
        "the layouts' Found, the matcher's FileMatch and Assignment and the Selection "
        "are frozen records or plain classes")


def test_the_records_that_replaced_dataclasses_compare_and_read_alike() -> None:
    from grader.batch.layouts.base import Found
    from grader.batch.select import Selection
    from grader.course.match import assign, match_file

    one = Found("ann", Path("/c/ann"), (Path("/c/ann/a.py"),))
    assert one == Found("ann", Path("/c/ann"), (Path("/c/ann/a.py"),)), fail(
        one, "equal", "records of equal fields are equal, as the dataclass was")
    assert (one.times, one.original, one.late, one.name) == ({}, {}, False, ""), fail(
        (one.times, one.original, one.late, one.name), ({}, {}, False, ""), "defaults")
    assert one.times is not Found("bob", Path("b"), ()).times, fail(
        "one dict", "a dict each", "a default dict is never shared between records")
    assert Selection() == Selection(frozenset(), None, False), fail(
        Selection(), "equal", "a selection compares by its fields")
    assert hash(Selection(frozenset({"ann"}))) == hash(Selection(frozenset({"ann"}))), fail(
        "different hashes", "equal", "a selection is hashable, as the frozen dataclass was")
    assert match_file("notes.txt", []).note == "not a .py or .ipynb file", fail(
        match_file("notes.txt", []).note, "not a .py or .ipynb file", "the matcher's note")
    empty = assign([], [])
    assert (empty.files, empty.problems, empty.notes, empty.unmatched) == ({}, {}, [], []), fail(
        empty, "empty", "an assignment of no files is empty")


def test_the_batchs_start_up_makes_no_generic_root_model() -> None:
    # grader.models.Root (a generic RootModel, ~1 ms to make) serves only the exports'
    # gradebook: made on first use, after the first result, not before the fork. (The
    # learner's plan is loaded: the batch's workers grade by it, batch/pool.py.)
    code = ("import sys, grader.cli.batch_run, grader.batch.discover, grader.models; "
            "print(sorted(m for m in ('pydantic.root_model',) if m in sys.modules), "
            "'Root' in vars(grader.models))")
    printed = _run(code).strip()
    assert printed == "[] False", fail(printed, "[] False",
                                       "grader.models makes Root on first use only")
    from grader.models import Root
    from grader.reports.gradebook import Gradebook

    assert issubclass(Gradebook, Root) and Root.__qualname__ == "Root", fail(
        Gradebook.__mro__, "a Root", "the gradebook is still a Root of its entries")
