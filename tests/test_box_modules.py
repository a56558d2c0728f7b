"""A box imports what its file names: every module a box could import when every zygote
loaded them all can still be named, and every function that imports one as it runs is
known (sandbox/modules.py)."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

import grader
from grader.sandbox.modules import FAMILIES, NEEDS, ON_DEMAND, family, hidden, named

ROOT = str(Path(grader.__file__).resolve().parents[1])
# The zygote's boot (as zygote.main loads it), then every on-demand module: each line
# of output is what one step added to sys.modules.
LOADS = """
import sys
sys.path.insert(0, sys.argv[1])
from grader.sandbox import modules, zygote
zygote.preload((*modules.AT_BOOT, "fcntl", "resource", "grader.sandbox.host"))
boot = set(sys.modules)
zygote.preload(modules.ON_DEMAND)
print(" ".join(sorted(boot)))
print(" ".join(sorted(set(sys.modules) - boot)))
"""
# Functions that import an on-demand module as they run, where a word of NEEDS does not
# bring it: (importing module, family imported) -> why no box misses it.
HARMLESS = {
    ("random", "statistics"): "random._test_generator: a self-test no box runs",
    ("inspect", "importlib"): "inspect._main: its command line",
    ("warnings", "linecache"): "inside try: a warning then shows no source line, which a "
                               "box (its file not on disk) could not show either",
}


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


def _loads() -> tuple[set[str], set[str]]:
    done = subprocess.run([sys.executable, "-s", "-S", "-c", LOADS, ROOT], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    boot, extra = done.stdout.splitlines()
    return set(boot.split()), set(extra.split())


def test_every_module_an_on_demand_one_brings_along_can_be_named_and_none_loads_at_boot() -> None:
    boot, extra = _loads()
    unnamed = sorted(m for m in extra if family(m) not in FAMILIES)
    assert not unnamed, fail(unnamed, [], "add each to modules.ON_DEMAND: a file that "
                             "imports it must see it, as when every zygote loaded it")
    early = sorted(m for m in boot if family(m) in FAMILIES)
    assert not early, fail(early, [], "the zygote's own modules import none of them (the "
                           "`TYPE_CHECKING = False` of sandbox/host.py): they cost every boot")


def _lazy_imports(module: str) -> set[str]:
    """The modules `module`'s functions import as they run (not at its import)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return set()
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return set()
    found: set[str] = set()
    for function in ast.walk(ast.parse(Path(spec.origin).read_text(encoding="utf-8"))):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module)
    return found


@pytest.mark.skipif(sys.platform == "win32", reason="the zygote's boxes are Linux's")
def test_every_function_that_imports_an_on_demand_module_as_it_runs_is_known() -> None:
    boot, extra = _loads()
    needed = {(module.partition(".")[0], family(imported))
              for module in sorted(boot | extra) if module != "__main__"
              for imported in _lazy_imports(module)
              if family(imported) in FAMILIES and family(imported) != family(module)}
    brought = {family(m) for modules in NEEDS.values() for m in modules}
    unknown = sorted(pair for pair in needed
                     if pair not in HARMLESS and pair[1] not in brought)
    assert not unknown, fail(unknown, [], "a word in modules.NEEDS for the function, or a "
                             "reason in HARMLESS: else a box that calls it cannot import")


def test_named_finds_imports_strings_and_the_words_that_need_a_module() -> None:
    assert named("import random\nx = [1, 2]\n") == []
    assert named("from dataclasses import dataclass\n") == ["dataclasses"]
    assert named("import importlib\nm = importlib.import_module('statistics')\n") == [
        "statistics", "importlib", "importlib.machinery"]
    assert named("@functools.singledispatch\ndef f(x): ...\n") == ["typing"]
    assert named("from typing import List  # and dataclassy is no module\n") == ["typing"]
    assert named("statisticsX = 1\n") == [], "a word is whole: statisticsX names nothing"


def test_a_module_a_box_cannot_import_is_said_with_what_the_grader_offers() -> None:
    from grader.checks.errors import MODULES, explain

    source = 'import importlib\nm = importlib.import_module("data" + "classes")\n'
    error = {"kind": "exception", "type": "ModuleNotFoundError", "line": 2,
             "message": "No module named 'dataclasses'"}
    said = explain(error, source)
    assert said.startswith("raised ModuleNotFoundError: No module named 'dataclasses' (line 2:")
    assert said.endswith(MODULES), fail(said, MODULES, "where the learner can look next")


def test_a_box_does_not_see_a_family_its_file_did_not_name() -> None:
    loaded = ["statistics", "_statistics", "fractions", "decimal", "_decimal", "json"]
    assert hidden(loaded, ["statistics"]) == ["fractions", "decimal", "_decimal"]
    assert hidden(loaded, None) == [], "unknown source: every module"
    assert hidden(loaded, []) == loaded[:5], "modules of no on-demand family are never hidden"
    assert set(ON_DEMAND) >= {"dataclasses", "statistics", "typing"}
