"""What each command imports: start-up is what a learner feels, so heavy imports stay out.

Each test runs the real `grade` console script with Python's import profiler
(PYTHONPROFILEIMPORTTIME, the same as `python -X importtime`) and reads the modules
it loaded; a change that brings a heavy import back onto a path fails here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, grade_command

HEAVY = {"pytest", "_pytest", "nbformat", "nbclient", "matplotlib", "numpy", "distributed",
         "dask", "jinja2", "copydetect", "watchfiles", "watchdog", "hypothesis"}
BATCH = {"grader.batch", "grader.reports.html", "grader.reports.export", "grader.authoring"}
SKELETON = "exercises/exercise_1_weighted_sampling.py"
SOLUTION = "solutions/exercise_1_weighted_sampling.py"


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the course whose cache is warm, as after a learner's first command."""
    folder = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "course.yaml", folder)
    for part in ("exercises", "solutions", "checks"):
        shutil.copytree(ROOT / part, folder / part)
    imported(folder, "list")
    return folder


def imported(cwd: Path, *args: str, env: dict[str, str] | None = None
             ) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """Every module `grade ARGS` imported, and how it ended."""
    environment = {k: v for k, v in os.environ.items() if k != "GRADE_COURSE"}
    environment.update(env or {}, PYTHONPROFILEIMPORTTIME="1")
    done = subprocess.run([*grade_command(), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=environment)
    names = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
             if line.startswith("import time:") and line.count("|") == 2}
    names.discard("package")  # the profiler's header line
    return names, done


def heavy_in(names: set[str]) -> set[str]:
    return {n for n in names if n.split(".")[0] in HEAVY}


def test_version_imports_nothing_but_the_version(course: Path) -> None:
    names, done = imported(course, "--version")
    assert done.stdout.strip() == "grade, version 0.1.0"
    # the root and the script, and the leaf modules they name (nothing they import)
    assert {n for n in names if n.startswith("grader")} == {
        "grader", "grader.cli", "grader.cli.exits", "grader.kernel_log", "grader.version"}
    assert not names & {"click", "pydantic", "yaml"} and not heavy_in(names)


def test_help_lists_commands_and_exercises_without_pydantic(course: Path) -> None:
    names, done = imported(course, "--help")
    assert "batch" in done.stdout and "exercise-1  Weighted sampling" in done.stdout
    assert not {n for n in names if n.split(".")[0] in {"pydantic", "pydantic_core", "yaml"}}
    assert not heavy_in(names) and not {n for n in names if n.startswith(tuple(BATCH))}
    assert "grader.course.model" not in names


@pytest.mark.parametrize("file", [SOLUTION, SKELETON])
def test_the_learners_path_imports_no_test_runner_notebooks_plots_or_batch(
        course: Path, file: str) -> None:
    names, done = imported(course, "exercise-1", file)
    assert done.returncode == (0 if file == SOLUTION else 1), done.stdout
    assert not heavy_in(names), heavy_in(names)
    assert not {n for n in names if n.startswith(tuple(BATCH))}
    assert "yaml" not in names  # the course came from the cache


def test_a_skeleton_is_reported_without_the_models_or_the_sandbox(course: Path) -> None:
    names, done = imported(course, "exercise-1", SKELETON)
    assert done.returncode == 1 and "Score: 0/10" in done.stdout
    assert not {n for n in names if n.split(".")[0] in {"pydantic", "pydantic_core", "yaml"}}
    assert not names & {"grader.course.model", "grader.results", "grader.runner.grade"}
    # nor the sandbox's client: no process or socket module for a file that never runs
    started = names & {"grader.sandbox.client", "grader.sandbox.zygote", "subprocess", "socket"}
    assert not started, fail(sorted(started), "none of them", "import the sandbox past the "
                             "skeleton's report (cli/exercise.py)")
    # nor click: the report is made before the command group is built (cli/skeleton.py)
    assert "click" not in names, fail("click imported", "not imported", "the skeleton's "
                                      "report is answered in grader.cli.main before click")


# What a skeleton's report once imported and never uses (issue 27, counted 2026-12-07):
# OpenSSL for the course cache's key, the sandbox's message types for a checks file's
# annotations, the comparison helpers no check of exercise 1 asks for, and dataclasses
# with what it imports (inspect, ast, dis: about 15 modules) for records that named
# tuples hold as well.
NOT_FOR_A_SKELETON = {"hashlib", "_hashlib", "grader.sandbox.channel", "grader.checks.compare",
                      "dataclasses", "inspect", "ast", "dis"}


def test_a_skeletons_report_imports_no_hash_library_message_types_or_comparisons(
        course: Path) -> None:
    names, done = imported(course, "exercise-1", SKELETON)
    assert done.returncode == 1 and "Score: 0/10" in done.stdout
    back = names & NOT_FOR_A_SKELETON
    assert not back, fail(sorted(back), "none of them", "course/cache.py keys with _blake2, "
                          "checks/submission.py imports the channel's types for type checking "
                          "only, checks/__init__.py imports compare on first use; records on "
                          "this path are named tuples (course/plan.py, course/load.py, "
                          "checks/api.py, runner/source.py)")


# Pydantic and what it brings (issue 27 counted them on this path: 37 + 13 + 3 + 3 modules)
MODELS = {"pydantic", "pydantic_core", "email", "zoneinfo", "typing_inspection",
          "annotated_types", "yaml"}


def test_a_file_that_is_not_the_exercises_own_is_graded_without_the_models(
        course: Path) -> None:
    names, done = imported(course, "exercise-1", SOLUTION)
    assert done.returncode == 0 and "Score: 10/10" in done.stdout, done.stdout + done.stderr
    models = {n for n in names if n.split(".")[0] in MODELS}
    models |= names & {"grader.course.model", "grader.results", "grader.progress.state"}
    assert not models, fail(sorted(models), "no model imported", "the runner's plain results "
                            "(runner/verdicts.py) and the course cache's plan grade a copy")
    assert "click" not in names, fail("click imported", "not imported", "a copy is graded "
                                      "before click loads (cli/skeleton.py, cli/plainly.py)")


# dataclasses and what it imports (inspect, ast, dis, copy), and the code each decorated
# class compiles: about 13 ms of a learner's SOLUTION run before it asks for its sandbox
# (issue 27, counted 2026-12-07). The runner's records are runner/record.py's. And the
# sandbox's message types: ~50 TypedDict fields, each compiled by typing.
NOT_FOR_A_SOLUTION = {"dataclasses", "inspect", "ast", "dis", "copy", "grader.sandbox.channel"}


def test_a_solutions_run_imports_no_dataclasses_or_inspect(course: Path) -> None:
    names, done = imported(course, "exercise-1", SOLUTION)
    assert done.returncode == 0 and "Score: 10/10" in done.stdout, done.stdout + done.stderr
    back = names & NOT_FOR_A_SOLUTION
    assert not back, fail(sorted(back), "none of them", "the runner's failures, verdicts "
                          "and sheets are runner/record.py's records, not dataclasses; the "
                          "runner imports the channel's types for type checking only")


# Every compile() of the run, but a module's own (once, when its .pyc is written): typing
# compiles each annotation it is given as text (a NamedTuple's or TypedDict's fields in a
# module with `from __future__ import annotations`, a TypeVar bound to "Name"), and a
# process's first compile() also sets up the parser, 1.3 ms (issue 27, 2026-12-07).
COMPILES = """
import builtins, os, sys
made = []
compile_ = builtins.compile
def counted(source, filename, *args, **kwargs):
    if not str(filename).endswith(".py"):
        made.append(repr(source)[:60])
    return compile_(source, filename, *args, **kwargs)
builtins.compile = counted
leave = os._exit
def said(code):
    print("COMPILED", made, file=sys.stderr, flush=True)
    leave(code)
os._exit = said
sys.argv = ["grade", *sys.argv[1:]]
from grader.cli import main
main()
"""


def test_a_solutions_run_compiles_no_annotation(course: Path) -> None:
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("GRADE_COURSE", "PYTHONDONTWRITEBYTECODE")}
    for _ in range(2):  # the first may write .pyc files (a module's own compile)
        done = subprocess.run([sys.executable, "-c", COMPILES, "exercise-1", SOLUTION],
                              cwd=course, capture_output=True, text=True, timeout=120,
                              env=environment)
    assert done.returncode == 0 and "Score: 10/10" in done.stdout, done.stdout + done.stderr
    said = next(line for line in done.stderr.splitlines() if line.startswith("COMPILED"))
    assert said == "COMPILED []", fail(said, "COMPILED []", "runner/source.py and "
                                       "checks/api.py hold named tuples without postponed "
                                       "annotations; client.py and record.py use Self")


def test_json_still_brings_the_models_for_the_contract(course: Path) -> None:
    names, done = imported(course, "exercise-1", SOLUTION, "--json")
    assert done.returncode == 0 and '"score":10.0' in done.stdout.replace(" ", "")
    assert "grader.results" in names and "pydantic" in names


# Python's audit hook sees every process this grade starts (the zygote included); the
# sandbox's start_soon, wrapped, says whether the models (pydantic), click or the reader
# had been imported when the zygote's boot began (its thread then races the main
# thread's imports). The solution holds `___` in its docstring and in a comment.
SPAWNS = """
import sys
from grader.sandbox.client import Sandbox
spawned, booted = [], []
LAUNCHES = ("subprocess.Popen", "os.posix_spawn")  # the Sandbox's, grader.cli.early's
sys.addaudithook(lambda e, a: spawned.append(e) if e in LAUNCHES else None)
start_soon = Sandbox.start_soon
def recorded(self):
    booted.append(any(m in sys.modules for m in ("pydantic", "click", "grader.runner.source")))
    start_soon(self)
Sandbox.start_soon = recorded
sys.argv = ["grade", "exercise-1", sys.argv[1]]
from grader.cli import run as main  # main() would end the process at once
try:
    main()
except SystemExit as exc:
    print("EXIT", exc.code, "MODELS", booted[:1], "SPAWNED", len(spawned), file=sys.stderr)
"""


@pytest.mark.parametrize(("file", "status", "sandbox"), [(SKELETON, 1, False),
                                                         (SOLUTION, 0, True)])
def test_a_skeleton_with_blanks_never_starts_a_sandbox(course: Path, file: str, status: int,
                                                       sandbox: bool) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "GRADE_COURSE"}
    done = subprocess.run([sys.executable, "-c", SPAWNS, file], cwd=course, text=True,
                          capture_output=True, timeout=120, env=environment)
    words = done.stderr.split()
    assert words[-6:-4] == ["EXIT", str(status)], done.stderr[-500:]
    # the zygote is one process (two where unshare fails and it starts again without)
    assert (int(words[-1]) > 0) is sandbox, done.stderr[-500:]
    if sandbox:  # started from the course cache's plan before click, to boot while the
        # command group, the checks, the runner and the models import (cli/skeleton.py)
        assert words[-4:-2] == ["MODELS", "[False]"], fail(
            words[-4:-2], ["MODELS", "[False]"], "start the sandbox before importing click, "
            "the reader or pydantic: its boot is the longest step of a learner's run")


def test_a_mistyped_isolation_level_is_said_even_for_a_skeleton(course: Path) -> None:
    _, done = imported(course, "exercise-1", SKELETON, env={"GRADE_SANDBOX": "no-such-level"})
    assert done.returncode == 2 and "GRADE_SANDBOX='no-such-level'" in done.stderr

def test_every_listed_command_is_the_command_its_summary_names() -> None:
    import importlib

    from grader.cli.app import COMMANDS

    for name, (target, summary) in COMMANDS.items():
        module, attribute = target.split(":")
        command = getattr(importlib.import_module(module), attribute)
        assert command.name == name, (name, target)
        assert summary.endswith(".") and len(summary) <= 60, summary


# An atexit hook registered before `main` runs only if the interpreter tears itself down.
TEARDOWN = """
import atexit, sys
atexit.register(lambda: print("TEARDOWN", file=sys.stderr))
sys.argv = ["grade", *sys.argv[1:]]
from grader.cli import main
main()
"""


@pytest.mark.parametrize(("args", "status", "said", "torn_down"), [
    (("exercise-1", SOLUTION), 0, "Score: 10/10", False),
    (("exercise-1", SKELETON), 1, "Score: 0/10", False),
    (("list",), 0, "exercise-1", True)])
def test_a_learners_run_ends_without_the_teardown_once_its_report_is_out(
        course: Path, args: tuple[str, ...], status: int, said: str, torn_down: bool) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "GRADE_COURSE"}
    done = subprocess.run([sys.executable, "-c", TEARDOWN, *args], cwd=course, text=True,
                          capture_output=True, timeout=120, env=environment)
    assert done.returncode == status and said in done.stdout, done.stdout + done.stderr
    assert done.stdout.endswith("\n"), fail(done.stdout[-80:], "the whole report",
                                            "flush stdout before os._exit")
    assert ("TEARDOWN" in done.stderr) is torn_down, fail(
        done.stderr[-300:], "a teardown" if torn_down else "no teardown",
        "grader.cli.leave: a learner's grade exercise-N skips the interpreter's teardown "
        "(5-15 ms); every other command ends as Python ends")


def test_a_file_without_a_blank_anywhere_is_graded_without_the_tokenizer(
        course: Path) -> None:
    finished = course / "solutions" / "finished.py"  # no `___` even in its instructions
    finished.write_text((course / SOLUTION).read_text().replace("___", "the blank"))
    names, done = imported(course, "exercise-1", "solutions/finished.py")
    assert done.returncode == 0 and "Score: 10/10" in done.stdout, done.stdout + done.stderr
    assert "tokenize" not in names, fail("tokenize imported", "not imported", "find_blanks "
                                         "tokenizes only a file with `___` in it "
                                         "(runner/source.py), 1.5 ms to import")
