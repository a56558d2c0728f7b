"""`grade similarity`: planted copies rank first, independent work stays below the threshold.

The class is built by tests/similarity_class.py: twenty exercise-3 solutions written
from the skeleton in genuinely different ways, and three copies of three of them,
disguised by renamed variables, reordered functions and rewritten comments.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.course import Course
from grader.similarity.compare import DEFAULT_THRESHOLD, SimilarityReport, compare_class
from tests.conftest import ROOT
from tests.similarity_class import PLANTED, write_class

PLANTED_PAIRS = {frozenset({f"s{original:03d}", copy}) for original, (copy, _) in PLANTED.items()}


def _pairs(report: SimilarityReport) -> list[frozenset[str]]:
    return [frozenset({p.a.student, p.b.student}) for p in report.exercises[0].pairs]


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("class")
    write_class(root)
    return root


@pytest.fixture(scope="module")
def report(course: Course, klass: Path) -> SimilarityReport:
    return compare_class(course, klass, exercises=[course.exercises[2]])


def test_the_planted_copies_rank_first_and_cross_the_threshold(report: SimilarityReport
                                                                ) -> None:
    pairs = report.exercises[0].pairs
    assert set(_pairs(report)[:3]) == PLANTED_PAIRS
    assert all(p.similarity >= DEFAULT_THRESHOLD for p in pairs[:3])
    assert report.exercises[0].files == 23 and report.exercises[0].compared == 23 * 22 // 2


def test_no_pair_of_independent_solutions_crosses_the_threshold(report: SimilarityReport
                                                                 ) -> None:
    independent = [p for p in report.exercises[0].pairs
                   if frozenset({p.a.student, p.b.student}) not in PLANTED_PAIRS]
    assert independent, "the report lists the closest independent pairs too, for context"
    worst = max(independent, key=lambda p: p.similarity)
    assert worst.similarity < DEFAULT_THRESHOLD, (worst.a.student, worst.b.student)
    assert report.flagged == 3


def test_a_pair_carries_both_files_and_the_shared_stretches(report: SimilarityReport) -> None:
    top = report.exercises[0].pairs[0]
    for side in (top.a, top.b):
        assert side.code and side.spans
        shared = "".join(side.code[start:end] for start, end in side.spans)
        assert "random.choice" in shared or "random.choices" in shared


def test_identical_fill_in_the_blank_solutions_are_not_flagged(course: Course,
                                                               tmp_path: Path) -> None:
    """Exercise 2's skeleton is boilerplate: two students' identical blanks share too little."""
    for student in ("ann", "ben"):
        (tmp_path / student).mkdir()
        shutil.copy(ROOT / "solutions" / "exercise_2_generator.py", tmp_path / student)
    found = compare_class(course, tmp_path, exercises=[course.exercises[1]])
    assert found.exercises[0].files == 2 and found.exercises[0].pairs == []


def test_past_terms_are_compared_with_this_term_but_not_with_each_other(
        course: Course, klass: Path, tmp_path: Path) -> None:
    current, past = tmp_path / "now", tmp_path / "past"
    name = "exercise_3_tiny_language_model.py"
    for student, source in (("ann", "s010"), ("ben", "s011")):
        (current / student).mkdir(parents=True)
        shutil.copy(klass / source / name, current / student)
    for student in ("old1", "old2"):  # the same file twice in the past term
        (past / student).mkdir(parents=True)
        shutil.copy(klass / "s010" / name, past / student)
    found = compare_class(course, current, exercises=[course.exercises[2]], references=past)
    result = found.exercises[0]
    assert (result.files, result.references, result.compared) == (2, 2, 1 + 2 * 2)
    pairs = {frozenset({p.a.student, p.b.student}): p for p in result.pairs}
    assert frozenset({"old1", "old2"}) not in pairs
    assert pairs[frozenset({"ann", "old1"})].similarity == 1.0
    assert any(side.reference for side in (pairs[frozenset({"ann", "old1"})].a,
                                           pairs[frozenset({"ann", "old1"})].b))


def test_grade_similarity_writes_an_offline_report(klass: Path, tmp_path: Path,
                                                   run_grade) -> None:
    done = run_grade("similarity", str(klass), "--out", str(tmp_path / "out"),
                     "--exercise", "exercise-3")
    assert done.returncode == 0, done.stderr
    assert "exercise-3: 23 files, 253 pairs compared, 3 at or above 80%" in done.stdout
    index = (tmp_path / "out" / "similarity.html").read_text()
    pages = sorted((tmp_path / "out" / "similarity").glob("exercise-3-*.html"))
    assert len(pages) == index.count("side by side</a>") >= 3
    assert "http" not in index and all("http" not in p.read_text() for p in pages)
    assert SimilarityReport.model_validate_json(
        (tmp_path / "out" / "similarity.json").read_text()).flagged == 3


def test_grade_similarity_refuses_an_unknown_exercise(klass: Path, tmp_path: Path,
                                                      run_grade) -> None:
    done = run_grade("similarity", str(klass), "--out", str(tmp_path), "--exercise", "nope")
    assert done.returncode == 2 and "no exercise named 'nope'" in done.stderr
