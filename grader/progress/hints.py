"""Hints that deepen: each failure of a check on changed code shows one hint more."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the models: a learner's first hints (`first_hints`) need no pydantic
    from grader.progress.state import HintLevel
    from grader.results import CheckResult, ExerciseResult
    from grader.runner.verdicts import Graded, Verdict


def hint_text(check: CheckResult | Verdict, shown: int) -> str | None:
    """The check's `shown`-th hint, marked "(hint 2 of 3)" when there are several."""
    if not check.hints:
        return check.hint
    shown = max(1, min(shown, len(check.hints)))
    text = check.hints[shown - 1]
    return f"{text} (hint {shown} of {len(check.hints)})" if len(check.hints) > 1 else text


def deepen(result: ExerciseResult, levels: dict[str, HintLevel],
           source: str | None) -> ExerciseResult:
    """The result with each failed check's hint at its depth; `levels` is updated.

    A check's first failure shows its first hint; a failure on code other than the
    code its last hint was shown for shows one more; the same code shows the same.
    Without a `source` (unreadable file) the depth stays where it was.
    """
    from grader.progress.state import HintLevel

    checks = []
    for check in result.checks:
        level = levels.get(check.name)
        if check.passed or len(check.hints) < 1 or result.error is not None:
            checks.append(check)
            continue
        if level is None:
            level = HintLevel(shown=1, source=source or "")
        elif source is not None and source != level.source:
            level = HintLevel(shown=min(level.shown + 1, len(check.hints)), source=source)
        levels[check.name] = level
        checks.append(check.model_copy(update={"hint": hint_text(check, level.shown)}))
    return result.model_copy(update={"checks": checks})


def next_hint(check: CheckResult, levels: dict[str, HintLevel], source: str) -> tuple[str, bool]:
    """`grade hint`: the check's next hint on demand, and whether it is the last one."""
    from grader.progress.state import HintLevel

    level = levels.get(check.name)
    shown = 1 if level is None else min(level.shown + 1, len(check.hints))
    levels[check.name] = HintLevel(shown=shown, source=source)
    return hint_text(check, shown) or "", shown >= len(check.hints)


def first_hints(result: Graded) -> Graded:
    """Each failed check with its first hint, as `deepen` shows it on a first failure:
    a file graded without the learner's progress (not the exercise's own file)."""
    if result.error is not None:
        return result
    return result.with_hints({c.name: hint_text(c, 1) for c in result.checks
                              if not c.passed and c.hints})
