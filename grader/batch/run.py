"""A batch from start to finish: plan, reuse the journal, grade the rest, assemble.

Every result goes to the journal the moment it is known, and the class's results
are always read back from the journal: a resumed run and an uninterrupted one
assemble the same gradebook from the same entries.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from grader.batch.executor import ExecutorFactory, WorkerError, worker_uses
from grader.batch.fingerprint import course_digest, exercises_digest, fingerprint, submission_digest
from grader.batch.journal import Entry, Journal, JournalBusy, Key
from grader.batch.names import JOURNAL as JOURNAL  # re-exported: callers import it from here
from grader.batch.names import MANIFEST, Layout
from grader.batch.names import default_jobs as default_jobs
from grader.batch.pool import course_plans, local_workers
from grader.batch.select import Selection
from grader.course import Course, Exercise
from grader.results import (
    ClassResult,
    ExerciseInfo,
    ExerciseResult,
    Person,
    Skipped,
    StudentResult,
    WorkerInfo,
)
from grader.runner import ChecksError, Failure, Grader
from grader.runner.source import SubmissionError
from grader.sandbox.client import Sandbox
from grader.version import __version__

# Reading the class (discovery, the layouts, zips, the roster, shards: 15-20 ms of
# imports) is this process's alone: imported where used, after the workers are forked,
# not before (this module is, so that the workers inherit what they need of it).
if TYPE_CHECKING:
    from grader.batch.discover import StudentFolder
    from grader.batch.roster import RosterRow
    from grader.batch.safezip import Renamed
    from grader.batch.shard import Shard, ShardManifest

UNPACKED = ".download"  # where a zipped download is unpacked, inside OUTDIR
Progress = Callable[[int, int], None]  # (done, total)
Export = Callable[["BatchRun"], object]  # writes OUTDIR's files from a finished run
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
CHANGED_WHILE_GRADED = "changed-while-graded"  # a fingerprint no planned task ever has


class BatchError(Exception):
    """The batch cannot run (bad folders, broken checks, no sandbox); the message says why."""


class Bases:
    """`course_digest` per exercise, each made when first asked for: a first run hands
    its first file to the workers before hashing course.yaml and the checks (7 ms)."""

    def __init__(self, course: Course) -> None:
        self.course = course
        self._made: dict[str, bytes] = {}

    def of(self, exercise: Exercise) -> bytes:
        made = self._made.get(exercise.id)
        if made is None:
            made = self._made[exercise.id] = course_digest(self.course, exercise)
        return made


@dataclass(frozen=True)
class Task:
    """One student's file for one exercise, or why there is none."""

    student: StudentFolder
    exercise: Exercise
    path: Path | None
    problem: SubmissionError | None
    bases: Bases = field(compare=False, repr=False)
    submission: str = ""  # the hash of the file alone (what changes.csv calls "file changed")
    limit: int = 0  # the bytes of the file the hash reads

    @cached_property
    def fingerprint(self) -> str:
        """The hash of everything the result depends on (`grader.batch.fingerprint`)."""
        return fingerprint(self.bases.of(self.exercise), self.exercise, self.submission)

    def graded_fingerprint(self) -> str:
        """The fingerprint to journal once graded: the planned one if the file still
        holds the bytes planned, else one no run matches (graded again next time): a
        file changed under a running batch must never be stored as the planned one."""
        if self.path is None:
            return self.fingerprint
        try:
            same = submission_digest(self.path, self.limit) == self.submission
        except OSError:
            same = False
        return self.fingerprint if same else CHANGED_WHILE_GRADED

    @property
    def key(self) -> Key:
        return self.student.id, self.exercise.id


@dataclass
class BatchRun:
    """What a run did: the class's results and how they were obtained."""

    result: ClassResult | None = None
    graded: int = 0
    reused: int = 0
    workers: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    layout: Layout = Layout.FOLDERS
    students: list[StudentFolder] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    elsewhere: frozenset[str] = frozenset()  # a shard's: the class's students in other shards
    assigned: list[Exercise] = field(default_factory=list)  # the exercises this run grades
    # wall seconds per phase ("setup", "journal", "grading", "assembly", "exports"): what
    # a run spends besides grading is measured (bench/startup.py), not guessed
    phases: dict[str, float] = field(default_factory=dict)

    def lap(self, phase: str, since: float) -> float:
        """Add the time since `since` to `phase`; return now, the next phase's start."""
        now = time.monotonic()
        self.phases[phase] = self.phases.get(phase, 0.0) + now - since
        return now

    @property
    def results(self) -> ClassResult:
        assert self.result is not None, "the run has not finished"
        return self.result

    @property
    def files(self) -> dict[Key, str]:
        """The hash of each (student, exercise)'s file alone, or of why there is none."""
        return {t.key: t.submission for t in self.tasks}


def _reference(course: Course, exercises: list[Exercise]) -> Grader:
    """A grader without a running sandbox: checks, max scores and error results only."""
    grader = Grader(course, Sandbox())
    for exercise in exercises:
        try:
            grader.checks(exercise)
        except ChecksError as exc:  # the author's checks file is broken
            raise BatchError(str(exc)) from None
    return grader


def held(course: Course, students: list[StudentFolder]) -> list[Exercise]:
    """The course's exercises that some student's folder holds a file (or a problem)
    for, in the course's order; every exercise when the download holds none."""
    found = {e for s in students for e in (*s.files, *s.problems)}
    return [e for e in course.exercises if e.id in found] or list(course.exercises)


def plan(course: Course, students: list[StudentFolder], exercises: list[Exercise]
         ) -> list[Task]:
    return sorted(planned(course, students, exercises), key=_order(exercises))


def _order(exercises: list[Exercise]) -> Callable[[Task], tuple[str, int]]:
    """The plan's order: by student id, then the exercises' order."""
    return lambda t: (t.student.id, exercises.index(t.exercise))


def planned(course: Course, students: list[StudentFolder], exercises: list[Exercise]
            ) -> Iterator[Task]:
    """`plan`'s tasks one at a time, in its order (student ids are unique): each file
    is hashed as its task is made, so a task can go to a worker before the next is."""
    bases = Bases(course)
    limits = [course.limits_for(exercise).max_source_kb * 1024 for exercise in exercises]
    for student in sorted(students, key=lambda s: s.id):
        for exercise, limit in zip(exercises, limits, strict=True):
            path, problem = student.submission(exercise)
            submission = submission_digest(path, limit, str(problem) if problem else None)
            yield Task(student, exercise, path, problem, bases, submission, limit)


def _check_folders(submissions: Path, outdir: Path) -> None:
    if submissions.is_file() and submissions.suffix.lower() == ".zip":
        pass
    elif not submissions.is_dir():
        raise BatchError(f"{submissions} is neither a folder of submissions nor a .zip")
    if outdir.resolve() == submissions.resolve():
        raise BatchError("--out must not be the submissions folder itself")
    if outdir.exists() and not outdir.is_dir():
        raise BatchError(f"--out {outdir} exists and is not a folder")


def unpacked(submissions: Path, outdir: Path) -> tuple[Path, list[Renamed]]:
    """The folder to read: `submissions` itself, or the zip unpacked into OUTDIR (with
    the members it had to write under a safe name)."""
    if submissions.is_dir():
        return submissions, []
    from grader.batch.layouts import unwrap
    from grader.batch.safezip import UnsafeZip, extract

    try:
        renamed = extract(submissions, outdir / UNPACKED)
    except UnsafeZip as exc:
        raise BatchError(f"refused {submissions.name}: {exc}; nothing was unpacked") from None
    return unwrap(outdir / UNPACKED), renamed


def local_pool(jobs: int) -> ExecutorFactory:
    """Warm worker processes on this machine, no more than there are files."""
    return lambda reference, files: local_workers(course_plans(reference.course),
                                                  min(jobs, files))


def _share(shard: Shard, students: list[StudentFolder], tasks: list[Task]
           ) -> tuple[list[StudentFolder], list[Task], str]:
    """The shard's students and tasks, and the digest of the whole class it was cut from."""
    from grader.batch.shard import class_digest, partition

    files = {s.id: 0 for s in students}
    for task in tasks:
        files[task.student.id] += task.path is not None
    share = set(partition(files, shard.count)[shard.index - 1])
    return ([s for s in students if s.id in share], [t for t in tasks if t.student.id in share],
            class_digest(files))


@dataclass(frozen=True)
class BatchRequest:
    """What one batch grades and how: everything `run_batch` needs besides the course.

    `submissions` is a folder or a .zip, read in `layout` (or the one detected), or a
    `shard`'s share of it; results are journaled in `outdir`. With a `roster`, its
    students are the class: those with nothing handed in score 0, "no submission".
    `selection` (--student, --only, --force) says what is graded again. Files are
    graded on the local pool of `jobs` workers, or on `executor`'s (Dask). `export`
    writes OUTDIR's files while the journal's lock is still held, so two runs on one
    OUTDIR can never interleave their exports. `first` is called once the first
    result from the workers is in (every file is theirs then): work the batch process
    can do while they grade the rest, such as importing what `export` needs. `graded`
    is called with a class of one as each student's every exercise is graded in this
    run (reports.export.Ahead writes that student's own files then).
    """

    submissions: Path
    outdir: Path
    exercises: Sequence[Exercise] = ()  # empty: the exercises the download holds
    jobs: int | None = None
    selection: Selection = field(default_factory=Selection)
    layout: Layout | None = None
    shard: Shard | None = None
    roster: Sequence[RosterRow] | None = None
    executor: ExecutorFactory | None = None
    progress: Progress | None = None
    export: Export | None = None
    first: Callable[[], object] | None = None
    graded: Callable[[ClassResult], object] | None = None


def run_batch(course: Course, request: BatchRequest) -> BatchRun:
    """Grade what `request` asks for. A full disk is a `BatchError` that says so: what
    was saved before stays saved."""
    try:
        return _run_batch(course, request)
    except OSError as exc:
        if exc.errno not in DISK_FULL:
            raise
        outdir = request.outdir
        raise BatchError(
            f"the disk of {outdir} is full ({exc.strerror}): nothing graded before is lost "
            f"(every saved result is in {outdir / JOURNAL}) and no file was left half "
            "written; free some space and run the same command again") from None


def _run_batch(course: Course, request: BatchRequest) -> BatchRun:
    submissions, outdir = request.submissions, request.outdir
    exercises = list(request.exercises) or None
    roster = list(request.roster) if request.roster is not None else None
    started = clock = time.monotonic()
    run = BatchRun()
    _check_folders(submissions, outdir)
    # broken checks: before unpacking; the grader is the class's reference (`_gather`)
    reference = _reference(course, exercises or list(course.exercises))
    outdir.mkdir(parents=True, exist_ok=True)
    try:
        # The lock is taken before anything in OUTDIR is touched: a second batch into
        # this OUTDIR must not unpack its zip over the files this one is grading.
        with Journal(outdir / JOURNAL) as journal:
            class_ = _gather(course, submissions, outdir, exercises, request.shard,
                             request.layout, roster, request.selection, run, reference)
            clock = run.lap("setup", clock)
            if class_.manifest is None:  # a stale shard.json goes (shard.py not imported)
                (outdir / MANIFEST).unlink(missing_ok=True)
            else:
                from grader.batch.shard import write_manifest

                write_manifest(outdir, class_.manifest)
            executor = request.executor or local_pool(request.jobs or default_jobs())
            _locked(course, journal, class_, run, request, clock, executor)
    except JournalBusy as exc:
        raise BatchError(str(exc)) from None
    except WorkerError as exc:
        raise BatchError(f"{exc} ({run.graded} results were saved)") from None
    students, skipped = run.students, class_.skipped
    submissions = class_.root
    run.warnings = class_warnings(skipped, [n for s in students for n in s.notes],
                                  class_.strangers)
    ungraded = len(students) - len(run.results.students)
    if ungraded:
        run.warnings.append(f"{ungraded} students were never graded and are left out of the "
                            "exports (run without --student to grade them)")
    if not students:
        run.warnings.append(f"no students in {submissions} (read as the {run.layout.value} "
                            "layout; one folder per student, named by the student id, or "
                            "an LMS download: see --layout)")
    run.seconds = time.monotonic() - started
    return run


@dataclass
class _Class:
    """What one run read of the class: who, what was skipped, and what to grade."""

    root: Path
    skipped: list[Skipped]
    people: dict[str, Person]
    strangers: list[str]
    infos: list[ExerciseInfo]
    manifest: ShardManifest | None
    reference: Grader
    exercises: list[Exercise]
    planned: bool  # run.tasks holds the plan (a shard's); else `_locked` plans


def _gather(course: Course, submissions: Path, outdir: Path, exercises: list[Exercise] | None,
            shard: Shard | None, layout: Layout | None, roster: list[RosterRow] | None,
            selection: Selection, run: BatchRun, reference: Grader) -> _Class:
    """Unpack (under the lock), discover and join the roster; plan a shard's share
    (`_locked` plans the rest). `reference` has the checks of `exercises` (or of every
    exercise) loaded."""
    from grader.batch.discover import discover, people_of
    from grader.batch.layouts import LayoutError

    submissions, renamed = unpacked(submissions, outdir)
    try:
        students, skipped, layout = discover(submissions, course.exercises, layout)
    except (LayoutError, OSError) as exc:
        raise BatchError(f"cannot read {submissions}: {exc}") from None
    students, skipped = attach_renamed(students, skipped, renamed, submissions)
    # Without --exercise, the exercises the download holds: an exercise nobody was asked
    # to hand in would be a column of zeros in canvas.csv and "no submission" in feedback.
    run.assigned = exercises or held(course, students)
    exercises = run.assigned  # a subset of those `reference` loaded the checks of
    infos = [ExerciseInfo(id=e.id, title=e.title, max_score=reference.catalogue.max_score(e))
             for e in exercises]
    if outdir.resolve().parent == submissions.resolve():  # OUTDIR is not a student
        students = [s for s in students if s.path.resolve() != outdir.resolve()]
    people, strangers = people_of(students), list[str]()
    if roster is not None:  # the roster's module only then: 3 ms of imports
        from grader.batch.roster import join_roster

        students, people, strangers, refused = join_roster(
            students, roster, submissions, [e.id for e in course.exercises],
            by_sis_id=layout is Layout.GRADESCOPE)
        skipped = sorted(skipped + refused, key=lambda s: s.name)
    unknown = selection.unknown({s.id for s in students})
    if unknown:
        raise BatchError(unknown)
    tasks: list[Task] = []  # planned by `_locked`, unless a shard's share needs them now
    manifest = None
    if shard is not None:
        tasks = plan(course, students, exercises)
        everyone = {s.id for s in students}
        students, tasks, whole = _share(shard, students, tasks)
        manifest = _manifest(course, exercises, shard, whole, infos, students, tasks)
        share = {s.id for s in students}
        run.elsewhere = frozenset(everyone - share)
        manifest.skipped, manifest.layout = skipped, layout
        manifest.people = {s: p for s, p in people.items() if s in share}
        manifest.not_on_roster = [s for s in strangers if s in share]
        if roster is not None:
            from grader.batch.roster import roster_digest

            manifest.roster = roster_digest(roster)
    run.layout, run.students, run.tasks = layout, students, tasks
    return _Class(submissions, skipped, people, strangers, infos, manifest, reference,
                  exercises, shard is not None)


def _locked(course: Course, journal: Journal, class_: _Class, run: BatchRun,
            request: BatchRequest, clock: float, executor: ExecutorFactory) -> None:
    """Grade what changed, keep the journal to the class, assemble and export."""
    students, reference = run.students, class_.reference
    selection, export = request.selection, request.export
    known = journal.read()
    todo: Iterable[Task]
    if not known and not class_.planned:
        # A first run into OUTDIR reuses nothing, so whether a file is graded does not
        # depend on its hash: each goes to the workers as soon as it is hashed, not once
        # the whole class is (the workers, forked, wait for their first file till then).
        todo, total, files = _first_run(course, class_, run, selection)
    else:
        if not class_.planned:
            run.tasks = plan(course, students, class_.exercises)
        listed = [t for t in run.tasks
                  if selection.grades(t.student.id, t.fingerprint, known.get(t.key))]
        again = {t.key for t in listed}
        run.reused = sum(t.key in known and t.key not in again for t in run.tasks)
        todo, total, files = listed, len(listed), sum(t.path is not None for t in listed)
    del known  # the journal keeps the entries; this copy of the dict need not live on
    clock = run.lap("journal", clock)
    whole = None if request.graded is None else _students(course.title, class_, request.graded)
    _grade(reference, journal, todo, total, files, executor, run, request.progress,
           request.first, whole)
    for _ in todo:  # the pool takes a first run's plan to its end; this is in case an
        pass  # executor stopped at its last file: the students after it are planned too
    run.tasks.sort(key=_order(class_.exercises))
    tasks = run.tasks
    clock = run.lap("grading", clock)
    entries = journal.read()
    # Students no longer in SUBMISSIONS (removed, renamed) leave the journal too.
    present = {s.id for s in students}
    kept = {key: e for key, e in entries.items() if key[0] in present}
    if journal.lines > len(kept):
        journal.compact(kept)
    clock = run.lap("journal", clock)
    run.result = _assemble(course.title, class_.infos, students, tasks, kept)
    # The class's results now live in run.result; the entries around them (3000 models
    # at 1000 x 3, their fingerprints and workers) need not last through the exports.
    del entries, kept
    journal.forget()
    run.result.skipped = class_.skipped
    run.result.people, run.result.not_on_roster = class_.people, class_.strangers
    clock = run.lap("assembly", clock)
    if export is not None:
        export(run)
        run.lap("exports", clock)


def _first_run(course: Course, class_: _Class, run: BatchRun, selection: Selection
               ) -> tuple[Iterator[Task], int, int]:
    """The tasks a first run grades, made as they are taken (each is added to run.tasks,
    with those not chosen), how many there are and how many have a file to grade."""
    exercises = class_.exercises
    chosen = [s for s in run.students if selection.grades_unseen(s.id)]
    files = sum(e.id in s.files for s in chosen for e in exercises)

    def todo() -> Iterator[Task]:
        for task in planned(course, run.students, exercises):
            run.tasks.append(task)
            if selection.grades_unseen(task.student.id):
                yield task

    return todo(), len(chosen) * len(exercises), files


def attach_renamed(students: list[StudentFolder], skipped: list[Skipped],
                   renamed: list[Renamed], root: Path) -> tuple[list[StudentFolder],
                                                               list[Skipped]]:
    """Each zip member written under a safe name becomes a note of the student whose
    file or folder it is (or of the class, when it is no one's)."""
    notes: dict[str, list[str]] = {}
    for item in renamed:
        owner = next((s for s in students if item.path in s.files.values()
                      or (s.path != root and s.path in item.path.parents)), None)
        if owner is None:
            skipped.append(Skipped(name=item.path.name, reason=item.note))
        else:
            notes.setdefault(owner.id, []).append(f"{owner.id}: {item.note}")
    return ([replace(s, notes=(*s.notes, *notes[s.id])) if s.id in notes else s
             for s in students], skipped)


def class_warnings(skipped: list[Skipped], notes: list[str], strangers: list[str]
                   ) -> list[str]:
    """What the TA is told about the class itself (`grade batch` and `grade merge` alike)."""
    warnings = [f"skipped '{s.name}': {s.reason}" for s in skipped] + notes
    if strangers:
        warnings.append(f"not on the roster, graded all the same: {', '.join(strangers)}")
    return warnings


def _manifest(course: Course, exercises: list[Exercise], shard: Shard, whole: str,
              infos: list[ExerciseInfo], students: list[StudentFolder], tasks: list[Task]
              ) -> ShardManifest:
    from grader.batch.shard import Handed, ShardManifest

    fingerprints: dict[str, dict[str, str]] = {s.id: {} for s in students}
    handed = {s.id: Handed(id=s.id, times=s.times, late=s.late) for s in students}
    for task in tasks:
        fingerprints[task.student.id][task.exercise.id] = task.fingerprint
        handed[task.student.id].files[task.exercise.id] = task.submission
    return ShardManifest(shard=shard.index, shards=shard.count, grader=__version__,
                         course=course.title, course_digest=exercises_digest(course, exercises),
                         class_digest=whole, exercises=infos, fingerprints=fingerprints,
                         notes={s.id: list(s.notes) for s in students if s.notes},
                         handed=list(handed.values()))


def _students(title: str, class_: _Class, graded: Callable[[ClassResult], object]
              ) -> Callable[[Task, ExerciseResult], None]:
    """What takes each result of this run, and calls `graded` with a class of one (as
    `_assemble` makes the class) once a student's every exercise is in."""
    ids = [info.id for info in class_.infos]
    held: dict[str, dict[str, ExerciseResult]] = {}

    def take(task: Task, result: ExerciseResult) -> None:
        results = held.setdefault(task.student.id, {})
        results[task.exercise.id] = result
        if all(i in results for i in ids):
            del held[task.student.id]
            person = class_.people.get(task.student.id)
            graded(ClassResult(
                course=title, exercises=class_.infos,
                students=[StudentResult(student=task.student.id,
                                        exercises=[results[i] for i in ids])],
                people={task.student.id: person} if person else {}))

    return take


def _grade(reference: Grader, journal: Journal, todo: Iterable[Task], total: int, files: int,
           executor: ExecutorFactory, run: BatchRun, progress: Progress | None,
           first: Callable[[], object] | None = None,
           whole: Callable[[Task, ExerciseResult], None] | None = None) -> None:
    """Grade `todo` (`total` tasks, `files` of them with a file): files that cannot be
    read here, the rest on warm workers, each handed over as `todo` gives it. `whole`
    takes each result once it is journaled (`_students`)."""

    def record(task: Task, result: ExerciseResult, worker: WorkerInfo | None = None) -> None:
        journal.append(Entry(student=task.student.id, exercise=task.exercise.id,
                             fingerprint=task.graded_fingerprint(), result=result,
                             worker=worker))
        run.graded += 1
        if progress:
            progress(run.graded, total)
        if whole is not None:
            whole(task, result)

    def work() -> Iterator[tuple[Task, Exercise, Path]]:
        for task in todo:
            if task.path is not None:
                yield task, task.exercise, task.path
            elif task.problem is not None:
                record(task, reference.catalogue.failed(
                    task.exercise, Failure.refused(task.problem), time.monotonic()))

    if not files:
        for _ in work():  # the refused files' results
            pass
        return
    with executor(reference, files) as pool:
        run.workers = pool.workers
        for task, result, worker in pool.grade(work()):
            record(task, result, worker)
            if first is not None:
                warm, first = first, None
                warm()


def _assemble(title: str, infos: list[ExerciseInfo], students: list[StudentFolder],
              tasks: list[Task], entries: dict[Key, Entry]) -> ClassResult:
    by_key = {t.key: entries[t.key] for t in tasks if t.key in entries}
    # With --student, a student never graded before has no result yet: left out.
    students = [s for s in students if all((s.id, e.id) in by_key for e in infos)]
    return ClassResult(
        course=title, exercises=infos,
        students=[StudentResult(student=s.id,
                                exercises=[by_key[s.id, e.id].result for e in infos])
                  for s in students],
        notes={s.id: list(s.notes) for s in students if s.notes},
        workers=worker_uses(entry.worker for entry in by_key.values()),
    )
