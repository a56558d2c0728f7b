"""Pairs of submissions sharing code beyond the starter code, found with copydetect.

copydetect (the optional `similarity` extra) tokenizes each file with pygments,
replaces names by placeholders and drops comments and layout, then compares
winnowed k-gram fingerprints: renamed variables, reordered functions and changed
comments do not hide a copy. Every skeleton of the course is boilerplate: code the
course gave out (also the chain-building loop exercise 2 hands out and exercise 3
asks for again) does not count. Files from past terms (references) are compared with
this term's files, never with each other. Everything runs here: no code leaves the
machine.
"""

from __future__ import annotations

import io
import itertools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from grader.batch.discover import discover
from grader.course import Course, Exercise
from grader.models import Model
from grader.runner import SubmissionError, read

NOISE = 25      # copydetect's noise threshold: shorter matches (filtered characters) never count
GUARANTEE = 25  # matches this long are always found (window = GUARANTEE - NOISE + 1)
DEFAULT_THRESHOLD = 0.8  # share of a file's own code found in the other file
MIN_OVERLAP = 80         # filtered characters a pair must share to be reported at all
TOP = 20                 # pairs listed per exercise even below the threshold (for context)
PREFILTER = 0.5          # compare in full the pairs whose estimate reaches this share of it


class SimilarityError(Exception):
    """The comparison cannot run (copydetect missing, bad folders); the message says why."""


class Side(Model):
    """One file of a pair: whose it is, how much of it the other file has, where."""

    student: str
    reference: bool = Field(False, description="from a past term (--reference)")
    similarity: float = Field(description="share of this file's own code found in the other")
    spans: list[tuple[int, int]] = Field(default_factory=list,
                                         description="character ranges of the shared code")
    code: str = ""


class Pair(Model):
    exercise: str
    a: Side
    b: Side
    overlap: int = Field(description="filtered characters the two files share")

    @property
    def similarity(self) -> float:
        return max(self.a.similarity, self.b.similarity)


class ExerciseSimilarity(Model):
    exercise: str
    title: str
    files: int
    references: int
    compared: int = Field(description="pairs compared")
    pairs: list[Pair] = Field(description="most similar first: every pair at or above the "
                              "threshold, and the top ones below it")
    unreadable: list[str] = Field(default_factory=list)


class SimilarityReport(Model):
    """What `grade similarity` writes as similarity.json (and renders as HTML)."""

    course: str
    threshold: float
    exercises: list[ExerciseSimilarity]
    seconds: float = 0.0

    @property
    def flagged(self) -> int:
        return sum(p.similarity >= self.threshold for e in self.exercises for p in e.pairs)


def _copydetect() -> Any:
    try:
        import copydetect
    except ImportError:
        raise SimilarityError("the similarity report needs copydetect: "
                              "pip install -e '.[similarity]' in grade's checkout") from None
    return copydetect


@dataclass
class _File:
    student: str
    reference: bool
    code: str
    print: Any  # copydetect.CodeFingerprint


def _fingerprint(code: str, boilerplate: Any = None) -> Any:
    detector = _copydetect()
    return detector.CodeFingerprint("submission.py", NOISE, GUARANTEE - NOISE + 1,
                                    boilerplate=boilerplate, language="python",
                                    fp=io.StringIO(code))


def _boilerplate(course: Course) -> Any:
    """The fingerprints of every skeleton of the course: code learners were given."""
    import numpy

    hashes: set[int] = set()
    for exercise in course.exercises:
        path = course.learner_path(exercise)
        if path.is_file():
            hashes |= _fingerprint(path.read_text(encoding="utf-8")).hashes
    return numpy.array(sorted(hashes))


def _files(root: Path | None, exercise: Exercise, reference: bool, boilerplate: Any,
           exclude: Path | None = None) -> tuple[list[_File], list[str]]:
    if root is None:
        return [], []
    students, _, _ = discover(root, [exercise])  # any layout the batch reads
    if exclude is not None:  # e.g. --out inside SUBMISSIONS: not a student
        students = [s for s in students if s.path.resolve() != exclude.resolve()]
    files, unreadable = [], []
    for student in students:
        path, _ = student.submission(exercise)
        if path is None:
            continue
        try:
            code = read(path).text
        except SubmissionError:
            unreadable.append(student.id)
            continue
        files.append(_File(student.id, reference, code, _fingerprint(code, boilerplate)))
    return files, unreadable


def _spans(slices: Any) -> list[tuple[int, int]]:
    return [(int(s), int(e)) for s, e in zip(slices[0], slices[1])] if len(slices) else []


def _pair(exercise: Exercise, one: _File, two: _File) -> Pair:
    overlap, (sim1, sim2), (slices1, slices2) = _copydetect().compare_files(one.print, two.print)
    return Pair(exercise=exercise.id, overlap=int(overlap),
                a=Side(student=one.student, reference=one.reference,
                       similarity=round(float(sim1), 4), spans=_spans(slices1)),
                b=Side(student=two.student, reference=two.reference,
                       similarity=round(float(sim2), 4), spans=_spans(slices2)))


def _candidates(files: list[_File]) -> list[tuple[_File, _File]]:
    """Pairs to compare: never two references."""
    return [(a, b) for a, b in itertools.combinations(files, 2)
            if not (a.reference and b.reference)]


def compare_exercise(course: Course, exercise: Exercise, submissions: Path,
                     references: Path | None, threshold: float, boilerplate: Any,
                     exclude: Path | None = None) -> ExerciseSimilarity:
    current, unreadable = _files(submissions, exercise, False, boilerplate, exclude)
    past, _ = _files(references, exercise, True, boilerplate, exclude)
    candidates = _candidates(current + past)
    # The share of a file's fingerprints found in the other estimates its similarity
    # cheaply (set intersection); copydetect's full comparison (which also finds the
    # shared stretches) runs on the pairs that could reach the threshold, and the top
    # ones for context.
    estimates = []
    for one, two in candidates:
        shared = len(one.print.hashes & two.print.hashes)
        if shared:
            estimate = shared / max(1, min(len(one.print.hashes), len(two.print.hashes)))
            estimates.append((estimate, one, two))
    estimates.sort(key=lambda e: -e[0])
    pairs = []
    for rank, (estimate, one, two) in enumerate(estimates):
        if estimate < PREFILTER * threshold and rank >= 2 * TOP:
            break
        pair = _pair(exercise, one, two)
        if pair.overlap >= MIN_OVERLAP:
            pairs.append(pair)
    pairs.sort(key=lambda p: (-p.similarity, -p.overlap, p.a.student, p.b.student))
    shown = [p for i, p in enumerate(pairs) if p.similarity >= threshold or i < TOP]
    code = {(f.student, f.reference): f.code for f in current + past}
    for pair in shown:
        pair.a.code = code[pair.a.student, pair.a.reference]
        pair.b.code = code[pair.b.student, pair.b.reference]
    return ExerciseSimilarity(exercise=exercise.id, title=exercise.title, files=len(current),
                              references=len(past), compared=len(candidates), pairs=shown,
                              unreadable=unreadable)


def compare_class(course: Course, submissions: Path, *, exercises: list[Exercise] | None = None,
                  references: Path | None = None, threshold: float = DEFAULT_THRESHOLD,
                  exclude: Path | None = None) -> SimilarityReport:
    """Every exercise's pairs of similar submissions, most similar first."""
    started = time.monotonic()
    for folder in (submissions, references):
        if folder is not None and not folder.is_dir():
            raise SimilarityError(f"{folder} is not a folder of student folders")
    boilerplate = _boilerplate(course)
    report = SimilarityReport(course=course.title, threshold=threshold, exercises=[
        compare_exercise(course, e, submissions, references, threshold, boilerplate, exclude)
        for e in exercises or course.exercises])
    report.seconds = round(time.monotonic() - started, 2)
    return report
