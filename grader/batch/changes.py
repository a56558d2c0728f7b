"""Regrades: what moved since the last run into the same OUTDIR, and why.

Each run leaves `state.json`: per student and exercise, the hashes of what the result
was graded from (the file, the checks, course.yaml, the grader version), the final
score, each check's points and the reasons of its adjustments. The next run compares
its own state with it, row by row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

from pydantic import Field, TypeAdapter, ValidationError

from grader.batch.fingerprint import checks_digest, course_text
from grader.batch.lean import lighten, share_field_names
from grader.course import Course
from grader.models import Model
from grader.reports.feedback import feedback_markdown
from grader.results import Change, ClassResult, StudentResult
from grader.version import __version__

# A student's feedback hash if its file was written already from this very result
Known = Callable[[StudentResult, ClassResult], str | None]

STATE = "state.json"
# The feedback texts `run_state` hands to the exports, at most this many characters: a
# class of 1000 held 3 MiB of them through the exports (the rest are rendered again)
FEEDBACK_HELD = 1 << 20


class StateRow(Model):
    """One (student, exercise) as this run graded it."""

    student: str
    exercise: str
    file: str = Field(description="hash of the submission, or of why there is none")
    checks: str = Field(description="hash of the checks file and its helpers")
    course: str = Field(description="hash of course.yaml (deadlines aside)")
    grader: str = Field(description="the grader's version")
    score: float = Field(description="final")
    check_scores: dict[str, float]
    reasons: list[str] = Field(default_factory=list)


class RunState(Model):
    """The whole of state.json."""

    rows: list[StateRow]
    feedback: dict[str, str] = Field(default_factory=dict,
                                     description="student -> hash of their feedback file")


def run_state(course: Course, result: ClassResult, submissions: dict[tuple[str, str], str],
              feedback: dict[str, str] | None = None, known: Known | None = None
              ) -> RunState:
    """This run's state; `submissions` maps (student, exercise) to the file's hash.
    Each student's feedback file is rendered to be hashed: into `feedback`, if given
    (student -> text, up to FEEDBACK_HELD characters in all), the exports write that
    text rather than render it again. `known` gives the hash of a student's feedback
    already written from that very result (reports.export.Ahead), not rendered again."""
    course_hash = hashlib.sha256(course_text(course).encode()).hexdigest()
    checks = {e.id: checks_digest(course, e) for e in course.exercises if
              any(x.id == e.id for x in result.exercises)}
    rows = [StateRow(student=s.student, exercise=e.exercise,
                     file=submissions.get((s.student, e.exercise), ""),
                     checks=checks[e.exercise], course=course_hash, grader=__version__,
                     score=e.score, check_scores={c.name: c.score for c in e.checks},
                     reasons=e.adjustment.reasons if e.adjustment else [])
            for s in result.students for e in s.exercises]
    for row in rows:  # 3000 at 1000 x 3, held through the exports: one field-name set
        share_field_names(row)
    hashes, held = {}, 0
    for student in result.students:
        digest = known(student, result) if known is not None else None
        if digest is None:
            text = feedback_markdown(student, result)
            digest = hashlib.sha256(text.encode()).hexdigest()
            if feedback is not None and held + len(text) <= FEEDBACK_HELD:
                feedback[student.student] = text
                held += len(text)
        hashes[student.student] = digest
    return RunState(rows=rows, feedback=hashes)


def state_parts(state: RunState) -> Iterator[str]:
    """state.json's text, byte for byte `state.model_dump_json(indent=1)` and its
    newline, a row at a time: at 1000 x 3 the whole text (2.4 MB, and pydantic's buffer
    of it) was made at once beside the class's results."""
    if not state.rows:  # "[]" on one line: the whole dump is small
        yield state.model_dump_json(indent=1)
        yield "\n"
        return
    yield '{\n "rows": [\n'
    for number, row in enumerate(state.rows):
        # a row's own dump, two levels in (JSON text holds no raw newline to shift)
        yield ("" if number == 0 else ",\n") + "  " + row.model_dump_json(indent=1).replace(
            "\n", "\n  ")
    feedback = _FEEDBACK.dump_json(state.feedback, indent=1).decode()
    yield '\n ],\n "feedback": ' + feedback.replace("\n", "\n ") + "\n}\n"


_FEEDBACK = TypeAdapter(dict[str, str])


def read_state(outdir: Path) -> RunState | None:
    """The last run's state, or None (a first run, or an unreadable file)."""
    try:
        state = RunState.model_validate_json((outdir / STATE).read_bytes())
    except (OSError, ValidationError):
        return None
    lighten(state)  # the last run's rows, held beside this run's until state.json is written
    return state


def _why(old: StateRow, new: StateRow) -> str:
    reasons = []
    if old.file != new.file:
        reasons.append("their file changed")
    if old.checks != new.checks:
        reasons.append("the checks changed")
    if old.course != new.course:
        reasons.append("course.yaml changed")
    if old.grader != new.grader:
        reasons.append(f"the grader changed ({old.grader} -> {new.grader})")
    reasons += [f"now: {r}" for r in new.reasons if r not in old.reasons]
    reasons += [f"no longer: {r}" for r in old.reasons if r not in new.reasons]
    return "; ".join(reasons) or "graded again from the same inputs"


def _moved(old: StateRow, new: StateRow) -> list[Change]:
    why = _why(old, new)
    changes = []
    if old.score != new.score:
        changes.append(Change(student=new.student, exercise=new.exercise, check="",
                              old=old.score, new=new.score, why=why))
    for name in dict.fromkeys([*old.check_scores, *new.check_scores]):
        before, after = old.check_scores.get(name), new.check_scores.get(name)
        if before != after:
            changes.append(Change(student=new.student, exercise=new.exercise, check=name,
                                  old=before, new=after, why=why))
    return changes


def compare(old: RunState, new: RunState) -> list[Change]:
    """Every score that moved from `old` to `new`, for the exercises `new` graded."""
    before = {(r.student, r.exercise): r for r in old.rows}
    after = {(r.student, r.exercise): r for r in new.rows}
    graded = {r.exercise for r in new.rows}
    changes: list[Change] = []
    for key in sorted({*before, *after}):
        if key[1] not in graded:
            continue
        if key not in before:
            changes.append(Change(student=key[0], exercise=key[1], check="", old=None,
                                  new=after[key].score, why="new in this batch"))
        elif key not in after:
            changes.append(Change(student=key[0], exercise=key[1], check="",
                                  old=before[key].score, new=None,
                                  why="no longer in this batch"))
        else:
            changes += _moved(before[key], after[key])
    return changes


def merged(old: RunState | None, new: RunState) -> RunState:
    """The state to keep: `new`, plus the old rows of exercises this run did not grade."""
    graded = {r.exercise for r in new.rows}
    kept = [r for r in (old.rows if old else []) if r.exercise not in graded]
    return RunState(rows=[*new.rows, *kept],
                    feedback={**(old.feedback if old else {}), **new.feedback})


def edited(old: RunState, new: RunState) -> int:
    """How many students' feedback files differ from the last run's (a message fixed,
    a reason added): the TA must upload those again even if no score moved."""
    return sum(old.feedback.get(s, h) != h for s, h in new.feedback.items())
