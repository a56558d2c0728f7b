"""One learner corpus, four ways of grading, one verdict and one message.

The corpus: the solutions, the skeletons, the 18 mutants (tests/test_mutants.py) and
the attack table (tests/attacks.py). Each file is graded by the real `grade
exercise-N FILE --json`, by one real `grade batch` over a class holding every file,
and by the real pytest plugin (`pytest checks/exercise_N.py --submission FILE`); the
three must agree on the score, the error and every check's verdict and message.
nbgrader's kernel grades notebooks in-process (nbgrader trusts its kernel), so it
gets the learner corpus without the attacks, as a one-cell notebook; it must agree
with `grade batch` grading the same notebook.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

from grader.authoring.markers import strip_markers
from grader.checks import load_checks, local_modules
from grader.course import load_course
from grader.notebooks import kernel
from grader.runner.notebook import join_cells
from tests.attacks import ATTACKS, TIME_LIMIT, Layout
from tests.conftest import ROOT, grade_command
from tests.test_mutants import EXTRA, MUTANTS

pytestmark = pytest.mark.timeout(1200)  # ~50 real `grade` processes on a loaded machine
FILES = {"exercise-1": "exercise_1_weighted_sampling.py",
         "exercise-2": "exercise_2_generator.py",
         "exercise-3": "exercise_3_tiny_language_model.py"}
# What nbgrader's kernel may run in its own process: no attack, nothing that loops.
KERNEL_SAFE_ATTACKS = {"syntax error", "unfilled blank", "NUL bytes", "deep recursion",
                       "sys.exit at import", "sys.exit inside sample",
                       "KeyboardInterrupt at import", "KeyboardInterrupt inside sample"}


@dataclass(frozen=True)
class Item:
    ident: str
    exercise: str
    source: str | bytes
    kernel: bool  # also graded by the nbgrader kernel


def corpus(layout: Layout) -> list[Item]:
    items = []
    for exercise, name in FILES.items():
        solution = strip_markers((ROOT / "solutions" / name).read_text())
        items.append(Item(f"solution-{exercise}", exercise, solution, True))
        items.append(Item(f"skeleton-{exercise}", exercise,
                          (ROOT / "exercises" / name).read_text(), True))
    for exercise, check_id, old, new in MUTANTS:
        text = strip_markers((ROOT / "solutions" / FILES[exercise]).read_text())
        text = text.replace(old, new)
        if check_id in EXTRA:
            text = text.replace(*EXTRA[check_id])
        items.append(Item(f"mutant-{exercise}-{check_id}", exercise, text, True))
    for number, attack in enumerate(ATTACKS):
        items.append(Item(f"attack-{number:02d}", "exercise-1", attack.text(layout.paths),
                          attack.name in KERNEL_SAFE_ATTACKS))
    return items


def _notebook(text: str) -> str:
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(text, id="answer")])
    return nbformat.writes(book)


def _verdict(result: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    """What must agree: score, error, and each check's verdict (with its message if failed)."""
    return {"score": result["score"], "error": result["error"],
            "checks": {i: [c["passed"], None if c["passed"] else c["message"]]
                       for i, c in zip(ids, result["checks"], strict=True)}}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("corpus")
    for part in ("checks", "exercises", "solutions"):
        shutil.copytree(ROOT / part, work / part)
    (work / "course.yaml").write_text((ROOT / "course.yaml").read_text().replace(
        "time_limit: 10 ", f"time_limit: {TIME_LIMIT} "))
    layout = Layout(work / "layout").create()
    items = corpus(layout)
    course = load_course(work / "course.yaml")
    ids = {e.id: [c.id for c in load_checks(course.checks_path(e))] for e in course.exercises}
    files: dict[str, Path] = {}
    for item in items:  # one student per file; the same program as a notebook beside it
        folder = work / "class" / item.ident
        folder.mkdir(parents=True)
        files[item.ident] = folder / FILES[item.exercise]
        data = item.source if isinstance(item.source, bytes) else item.source.encode()
        files[item.ident].write_bytes(data)
        if item.kernel and isinstance(item.source, str):
            notebook = work / "class" / f"nb-{item.ident}"
            notebook.mkdir()
            (notebook / FILES[item.exercise]).with_suffix(".ipynb").write_text(
                _notebook(item.source))
    env = {k: v for k, v in os.environ.items() if k not in ("GRADE_COURSE", "GRADE_DEBUG")}

    def cli(item: Item) -> dict[str, Any]:
        done = subprocess.run([*grade_command(), item.exercise, str(files[item.ident]),
                               "--json"], cwd=work, capture_output=True, text=True,
                              timeout=300, env=env)
        return json.loads(done.stdout)

    plan = work / "plugin.json"
    plan.write_text(json.dumps([[i.ident, str(course.checks_path(course.exercise(i.exercise))),
                                 str(files[i.ident])] for i in items]))
    with ThreadPoolExecutor(2) as pool:
        batch = pool.submit(subprocess.run, [*grade_command(), "batch", "class", "--out", "out",
                                             "--jobs", "1"], cwd=work, capture_output=True,
                            text=True, timeout=900, env=env)
        plugin = pool.submit(subprocess.run, [sys.executable, str(ROOT / "tests" /
                                                                   "corpus_plugin.py"),
                                              str(plan), str(work)], cwd=work,
                             capture_output=True, text=True, timeout=900, env=env)
        by_cli = dict(zip([i.ident for i in items], pool.map(cli, items), strict=True))
        assert batch.result().returncode == 0, batch.result().stderr
        plugin_out = plugin.result().stdout
    assert "@@RESULTS@@" in plugin_out, plugin.result().stderr[-2000:]
    by_plugin = json.loads(plugin_out.rsplit("@@RESULTS@@", 1)[1])
    gradebook = json.loads((work / "out" / "grades.json").read_text())
    by_batch = {s["student"]: e for s in gradebook for e in s["exercises"]
                if e["error_kind"] != "missing"}
    return {"items": items, "ids": ids, "cli": by_cli, "batch": by_batch,
            "plugin": by_plugin, "work": work}


def corpus_ids() -> list[str]:
    layout = Layout(Path("/nonexistent"))
    return [item.ident for item in corpus(layout)]


@pytest.mark.parametrize("ident", corpus_ids())
def test_grade_batch_and_the_pytest_plugin_agree_with_grade_exercise(graded, ident) -> None:
    item = next(i for i in graded["items"] if i.ident == ident)
    ids = graded["ids"][item.exercise]
    cli = _verdict(graded["cli"][ident], ids)
    assert _verdict(graded["batch"][ident], ids) == cli, "grade batch differs from grade"
    plugin = graded["plugin"][ident]
    if cli["error"] is not None and plugin["error"] is None:
        # The box stopped during a check: grade counts nothing, pytest fails that check
        # with the same sentence (grade adds which check it was).
        failed = [message for passed, message in plugin["checks"].values() if not passed]
        assert any(cli["error"].startswith(m) for m in failed), (cli["error"], failed)
        return
    if cli["error"] is not None:
        assert plugin["error"] == cli["error"], "the pytest plugin's error differs"
        return
    assert plugin["error"] is None, plugin["error"]
    for check_id, (passed, message) in cli["checks"].items():
        assert plugin["checks"][check_id] == [passed, message or "passed"], check_id


def kernel_ids() -> list[str]:
    return [item.ident for item in corpus(Layout(Path("/nonexistent"))) if item.kernel]


def _shown(result: dict[str, Any]) -> str:
    """A failed check as the kernel's AssertionError says it."""
    hint = f"\nhint: {result['hint']}" if result["hint"] else ""
    detail = f"\n{result['detail']}" if result["detail"] else ""
    return f"{result['message']}{hint}{detail}"


@pytest.mark.parametrize("ident", kernel_ids())
def test_the_nbgrader_kernel_agrees_with_grade_on_the_same_notebook(graded, ident) -> None:
    item = next(i for i in graded["items"] if i.ident == ident)
    exercise = item.exercise
    checks = graded["work"] / "checks" / f"{exercise.replace('-', '_')}.py"
    kernel.register_checks(exercise, checks.read_text(),
                           {n: p.read_text() for n, p in local_modules(checks).items()})
    expected = graded["batch"][f"nb-{ident}"]
    notebook = Path(FILES[exercise]).with_suffix(".ipynb").name
    for check_id, result in zip(graded["ids"][exercise], expected["checks"], strict=True):
        if result["passed"]:
            assert kernel.grade_cells(exercise, check_id, join_cells([item.source], notebook)
                                      ).startswith("passed")
            continue
        with pytest.raises(AssertionError) as failed:
            kernel.grade_cells(exercise, check_id, join_cells([item.source], notebook))
        if expected["error"] is not None:
            assert str(failed.value) == f"{expected['error']}, so nothing could be checked"
        else:
            assert str(failed.value) == _shown(result), check_id
