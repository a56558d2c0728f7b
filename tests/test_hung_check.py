"""One hung check costs one check: a `generate` that loops forever only at a dead end,
graded by the real `grade exercise-2 --json` in the real sandbox, scores the checks
that never reach a dead end; the checks that hang name themselves."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, grade_command

sys.path.insert(0, str(ROOT / "bench"))
from synthetic import course_copy

DEAD_END = "            break  # BLANK"


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


def test_a_generate_that_hangs_only_at_dead_ends_scores_the_checks_that_never_reach_one(
        tmp_path: Path) -> None:
    course = course_copy(tmp_path / "course", time_limit=2)
    solution = (ROOT / "solutions" / "exercise_2_generator.py").read_text()
    assert solution.count(DEAD_END) == 1, "the solution's dead-end line moved"
    hangs = tmp_path / "exercise_2_generator.py"
    hangs.write_text(solution.replace(DEAD_END, "            while True: pass  # BLANK"))
    done = subprocess.run([*grade_command(), "--course", str(course), "exercise-2",
                           str(hangs), "--json"], capture_output=True, text=True,
                          timeout=300)
    result = json.loads(done.stdout)
    by_name = {c["name"]: c for c in result["checks"]}
    dead_end = by_name["A dead-end word ends the sentence instead of crashing"]
    sampled = by_name["The next word is sampled, not fixed"]
    assert result["error"] is None, fail(result["error"], None, "some checks never hang")
    assert sampled["passed"], fail(sampled, "passed", "its chain has no dead end")
    assert dead_end["status"] == "errored" and "time limit" in dead_end["message"] and (
        "A dead-end word ends the sentence" in dead_end["message"]), fail(
        dead_end, "errored at the time limit, naming the check", "the hang costs this check")
    assert 0 < result["score"] < result["max_score"], result["score"]
