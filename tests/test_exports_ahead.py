"""A student's own export files are written while the class is graded (reports.export.Ahead)
and renamed after the last result only when their final text is the same: the exports
are byte for byte what they would be, and nothing temporary is ever left behind."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from grader.batch import BatchRequest, run_batch
from grader.course import Course, load_course
from grader.reports import export
from grader.reports.export import Ahead, write_exports
from grader.results import ClassResult, ExerciseInfo, ExerciseResult, Person, StudentResult
from tests.conftest import ROOT

SOLUTION = (ROOT / "solutions" / "exercise_1_weighted_sampling.py").read_text()


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


INFO = ExerciseInfo(id="exercise-1", title="one", max_score=10)


def _class(scores: dict[str, float]) -> ClassResult:
    return ClassResult(course="c", exercises=[INFO], students=[
        StudentResult(student=s, exercises=[ExerciseResult(
            exercise="exercise-1", score=score, max_score=10, error=None, checks=[])])
        for s, score in scores.items()])


def _one(whole: ClassResult, student: str) -> ClassResult:
    return whole.model_copy(update={"students": [s for s in whole.students
                                                 if s.student == student]})


def _tree(outdir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(outdir)): p.read_bytes() for p in sorted(outdir.rglob("*"))
            if p.is_file() and p.name != "report.html"}


def _temporary(outdir: Path) -> list[str]:
    return sorted(str(p.relative_to(outdir)) for p in outdir.rglob("*.tmp"))


def test_files_written_ahead_are_renamed_not_written_again_and_equal_a_plain_export(
        tmp_path: Path) -> None:
    whole = _class({"ann": 7, "bob": 3})
    ahead = Ahead(tmp_path / "out")
    for student in ("ann", "bob"):
        ahead.write(_one(whole, student))
    inodes = {path: os.stat(temporary).st_ino for path, (temporary, _) in ahead.files.items()}
    assert len(inodes) == 4, fail(sorted(map(str, inodes)), "2 files x 2 students",
                                  "feedback and gradescope, each student's own")
    write_exports(tmp_path / "out", whole, draw_charts=False, ahead=ahead)
    write_exports(tmp_path / "plain", whole, draw_charts=False)
    renamed = {path: os.stat(path).st_ino for path in inodes}
    assert renamed == inodes, fail(renamed, inodes, "the very files written ahead")
    assert _tree(tmp_path / "out") == _tree(tmp_path / "plain"), "the same exports"
    assert _temporary(tmp_path / "out") == [], _temporary(tmp_path / "out")


def test_a_student_whose_final_result_differs_gets_the_final_text(tmp_path: Path) -> None:
    ahead = Ahead(tmp_path / "out")
    ahead.write(_class({"ann": 7}))  # then settled otherwise (a late penalty, an override)
    final = _class({"ann": 2})
    write_exports(tmp_path / "out", final, draw_charts=False, ahead=ahead)
    write_exports(tmp_path / "plain", final, draw_charts=False)
    assert _tree(tmp_path / "out") == _tree(tmp_path / "plain"), "the final text, not 7/10"
    assert _temporary(tmp_path / "out") == [], _temporary(tmp_path / "out")


def test_a_batch_stopped_before_its_exports_leaves_no_temporary_file(tmp_path: Path) -> None:
    ahead = Ahead(tmp_path / "out")
    ahead.write(_class({"ann": 7, "bob": 3}))
    assert _temporary(tmp_path / "out"), "written ahead"
    ahead.discard()
    assert _temporary(tmp_path / "out") == [], _temporary(tmp_path / "out")
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert left == ["out"], fail(left, ["out"], "the folders made for them go too")


def test_a_ctrl_c_as_a_file_is_written_ahead_leaves_nothing_after_the_discard(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from grader import atomic
    from grader.reports import export

    def interrupted(path: Path, data: object, mode: int | None = None) -> atomic.Written:
        path.parent.mkdir(parents=True, exist_ok=True)
        Path(atomic.temporary_name(path)).write_text("half")  # made, not yet returned
        raise KeyboardInterrupt

    monkeypatch.setattr(export, "write_temporary", interrupted)
    ahead = Ahead(tmp_path / "out")
    with pytest.raises(KeyboardInterrupt):
        ahead.write(_class({"ann": 7}))
    ahead.discard()  # as grade batch does when it stops
    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert left == ["out"], fail(left, ["out"], "the file being written goes too")


def test_an_id_that_would_escape_outdir_is_not_written_ahead(tmp_path: Path) -> None:
    outdir = tmp_path / "deep" / "out"
    ahead = Ahead(outdir)
    ahead.write(_class({"../../escaped": 7}))
    assert ahead.files == {} and not list(tmp_path.rglob("escaped*")), sorted(
        map(str, tmp_path.rglob("*")))
    with pytest.raises(ValueError, match="outside"):
        write_exports(outdir, _class({"../../escaped": 7}), draw_charts=False, ahead=ahead)


@pytest.fixture(scope="module")
def course() -> Course:
    return load_course(ROOT / "course.yaml")


def test_a_batch_hands_each_student_over_once_with_every_exercise_graded(
        course: Course, tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    exercises = course.exercises[:1]
    for student in ("ann", "bob", "cy"):
        (subs / student).mkdir(parents=True)
        (subs / student / exercises[0].file).write_text(SOLUTION)
    given: list[ClassResult] = []
    out = tmp_path / "out"
    run = run_batch(course, BatchRequest(subs, out, exercises=exercises, jobs=2,
                                         graded=given.append))
    students = sorted(s.student for one in given for s in one.students)
    assert students == ["ann", "bob", "cy"], fail(students, ["ann", "bob", "cy"],
                                                  "each student once, alone")
    final = {s.student: s for s in run.results.students}
    for one in given:
        (student,) = one.students
        assert student == final[student.student], fail(
            student.student, "their final result", "what the exports render at the end")
        assert one.exercises == run.results.exercises and one.course == run.results.course


def test_a_student_whose_final_result_is_the_one_written_ahead_is_not_rendered_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = _class({"ann": 7, "bob": 3})
    ahead = Ahead(tmp_path / "out")
    ahead.write(_one(whole, "ann"))
    ahead.write(_class({"bob": 9}))  # bob's final result differs: rendered again
    rendered: list[str] = []
    for name in ("feedback_markdown", "gradescope_results"):
        real = getattr(export, name)
        monkeypatch.setattr(export, name, lambda student, *rest, real=real, name=name: (
            rendered.append(f"{name} {student.student}"), real(student, *rest))[1])
    write_exports(tmp_path / "out", whole, draw_charts=False, ahead=ahead)
    assert sorted(rendered) == ["feedback_markdown bob", "gradescope_results bob"], fail(
        sorted(rendered), "bob's two files only", "ann's files show her final result as is")
    monkeypatch.undo()
    write_exports(tmp_path / "plain", whole, draw_charts=False)
    assert _tree(tmp_path / "out") == _tree(tmp_path / "plain"), "the same exports"


def test_the_feedback_digest_given_for_state_json_is_the_final_texts_own(tmp_path: Path) -> None:
    whole = _class({"ann": 7, "bob": 3})
    ahead = Ahead(tmp_path / "out")
    ahead.write(_one(whole, "ann"))
    ahead.write(_class({"bob": 9}))
    ann, bob = whole.students
    expected = hashlib.sha256(export.feedback_markdown(ann, whole).encode()).hexdigest()
    assert ahead.feedback_digest(ann, whole) == expected, fail(
        ahead.feedback_digest(ann, whole), expected, "state.json hashes the text written")
    assert ahead.feedback_digest(bob, whole) is None, "bob's file shows another result"
    other = whole.model_copy(update={"course": "another title"})
    assert ahead.feedback_digest(ann, other) is None, "a class of another title"


def test_a_student_s_own_files_depend_on_their_result_person_and_the_class_s_exercises(
        ) -> None:
    """What lets `Ahead` rename a file unrendered: the rest of the class (its other
    students, their people, its notes) changes no per-student file's text."""
    ann = Person(name="Ann A", email="ann@example.org")
    whole = _class({"ann": 7, "bob": 3})
    alone = _one(whole, "ann").model_copy(update={"people": {"ann": ann}})
    crowded = whole.model_copy(update={"people": {"ann": ann, "bob": Person(name="Bob")},
                                       "notes": {"bob": ["loose file name"]}})
    for entry in (e for e in export.EXPORTS if e.per_student):
        own = dict(entry.render(alone, export.Options()))
        among = dict(entry.render(crowded, export.Options()))
        for name, make in own.items():
            assert make() == among[name](), fail(name, "the same text", "per-student files "
                                                 "render from their own result and person")


def test_a_student_named_otherwise_at_the_end_gets_the_final_text(tmp_path: Path) -> None:
    whole = _class({"ann": 7})
    ahead = Ahead(tmp_path / "out")
    ahead.write(whole)
    final = whole.model_copy(update={"people": {"ann": Person(name="Ann A")}})
    (ann,) = final.students
    assert ahead.feedback_digest(ann, final) is None, "her feedback now names her"
    write_exports(tmp_path / "out", final, draw_charts=False, ahead=ahead)
    write_exports(tmp_path / "plain", final, draw_charts=False)
    assert _tree(tmp_path / "out") == _tree(tmp_path / "plain"), "the final text"
