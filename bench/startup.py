"""Benchmark the fixed costs people feel: start-up of a learner's command and of a small batch.

    python bench/startup.py [--repeat 10] [--class-size 40] [--big 1000]
    python bench/startup.py --learner [--repeat 15] [--before CHECKOUT]

`--learner` times only issue 27's learner rows, as a learner runs them: a regular
(non-editable) `pip install` of this checkout in its own venv (kept in --venvs), and of
CHECKOUT too with --before, each with its own copy of the course (so each keeps its own
course cache); `python -c pass`, `grade exercise-1 SOLUTION` and `grade exercise-1
SKELETON` of each venv interleaved, the ratio of each median to its own venv's
`python -c pass`, the CPU time (user + sys, children included) and the number of modules
each command imports (`-X importtime`).

Measures in one run, interleaved, the median wall time of whole processes:

- floor: `python -c pass` with this venv's Python (interpreter and site start-up);
- `grade --version` and `grade --help`;
- `grade exercise-1 SOLUTION` and `grade exercise-1 SKELETON` (blanks left);
- `grade batch` of --class-size exercise-1 files with 2 workers, against the
  in-process lower bound: one script that grades the same files with no isolation
  (bench/batch.py's `lower_bound`, its own start-up included).

Then, unless `--big 0`, a class of --big students x 3 exercises is graded once
through `run_batch` with its exports, 2 workers, and everything but grading
(course, discovery, fingerprints, journal, assembly, exports, report) is reported as a
share of the run, from the phases `run_batch` records.

Targets (issue "Fixed costs"): --version <= 4x the floor; exercise-1 on the solution
<= 12x and on a skeleton <= 6x; batch of 40 <= 3x the lower bound; the big class's
fixed work < 5%. Not a test: the figures depend on the machine and its load, which
are printed and written to bench/results/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from synthetic import FILES, build_class, course_copy  # noqa: E402

BIN = Path(sys.executable).parent
GRADE = str(BIN / "grade")
# exercise 1 only, as a section hands it in: mostly right, some wrong, a few broken.
SECTION_CYCLE = ("solution", "mutant", "solution", "skeleton", "solution", "syntax",
                 "solution", "mutant", "notebook", "solution")


# As a learner runs it: Python caches compiled modules. A shell that sets
# PYTHONDONTWRITEBYTECODE (this workplace's does) would recompile grade's modules on
# every run and measure the compiler, not grade.
ENVIRONMENT = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False, env=ENVIRONMENT)
    took = time.perf_counter() - started
    reap_orphans()
    return took


def lower_bound_script(course_yaml: Path, subs: Path) -> list[str]:
    """A whole process that grades every exercise-1 file of `subs` in-process."""
    code = (f"import sys; sys.path[:0] = [{str(HERE)!r}, {str(HERE.parent)!r}]\n"
            "from pathlib import Path\n"
            "from batch import lower_bound\n"
            f"files = sorted(p for p in Path({str(subs)!r}).glob('*/exercise_1_*'))\n"
            f"lower_bound(Path({str(course_yaml)!r}), [('exercise-1', p) for p in files])\n")
    return [sys.executable, "-c", code]


def small(work: Path, repeat: int, class_size: int) -> dict[str, list[float]]:
    course_yaml = course_copy(work / "course", 2.0)
    course = course_yaml.parent
    build_class(work / "section", class_size, loops=frozenset(), cycle=SECTION_CYCLE)
    for student in (work / "section").iterdir():  # exercise 1 only
        for other in ("exercise_2_generator", "exercise_3_tiny_language_model"):
            for path in student.glob(f"{other}.*"):
                path.unlink()
    solution = course / "solutions" / FILES["exercise-1"]
    skeleton = course / "exercises" / FILES["exercise-1"]
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "grade --version": [GRADE, "--version"],
        "grade --help": [GRADE, "--help"],
        "grade exercise-1 SOLUTION": [GRADE, "exercise-1", str(solution)],
        "grade exercise-1 SKELETON": [GRADE, "exercise-1", str(skeleton)],
        f"lower bound, {class_size} files, one script": lower_bound_script(
            course_yaml, work / "section"),
        f"grade batch, {class_size} files, 2 workers": [
            GRADE, "batch", str(work / "section"), "--out", str(work / "out"), "--jobs", "2",
            "--force", "--exercise", "exercise-1"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for command in commands.values():  # warm the file cache (and the course cache) once
        wall(command, course)
    for _ in range(repeat):  # interleaved: load on the machine hits every command alike
        for name, command in commands.items():
            times[name].append(wall(command, course))
    return times


def big(work: Path, students: int) -> dict[str, float]:
    from grader.batch import BatchRequest, BatchRun, run_batch
    from grader.batch.regrade import finalise_scores
    from grader.batch.select import Selection
    from grader.course import load_course
    from grader.reports.export import write_exports

    course_yaml = course_copy(work / "big-course", 2.0)
    build_class(work / "big", students, loops=frozenset())
    started = time.perf_counter()
    course = load_course(course_yaml)
    out = work / "big-out"

    def export(run: BatchRun) -> None:  # as `grade batch` does: final scores, then files
        settled = finalise_scores(course, run.results, run.students, run.files, out,
                                  elsewhere=run.elsewhere)
        write_exports(out, settled.result)

    run = run_batch(course, BatchRequest(work / "big", out, jobs=2, export=export,
                                         selection=Selection(force=True)))
    phases = dict(run.phases)
    phases["total"] = time.perf_counter() - started
    return phases


def modules(command: list[str], cwd: Path) -> int:
    """How many modules `command`'s own process imports (Python's import profiler: one
    line each, its header line not counted; the sandbox's processes are not profiled)."""
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False,
                          env={**ENVIRONMENT, "PYTHONPROFILEIMPORTTIME": "1"})
    return sum(1 for line in done.stderr.splitlines()
               if line.startswith("import time:") and "imported package" not in line)


def adopt_orphans() -> None:
    """Become the subreaper of what commands leave behind (Linux): a learner's `grade`
    does not wait for its sandbox's zygote to end, so only a subreaper collects its CPU."""
    import ctypes

    PR_SET_CHILD_SUBREAPER = 36
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def reap_orphans() -> None:
    """Collect what the last command left (see `adopt_orphans`), so that its CPU is not
    counted with the next command's."""
    with contextlib.suppress(ChildProcessError):
        while True:
            os.waitpid(-1, 0)


def cpu(command: list[str], cwd: Path) -> float:
    """User + system CPU seconds of `command`, its children (the sandbox) included."""
    reap_orphans()
    started = os.times()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False, env=ENVIRONMENT)
    reap_orphans()
    ended = os.times()
    return (ended.children_user - started.children_user
            + ended.children_system - started.children_system)


def learner(work: Path, repeat: int, before: Path | None, venvs: Path) -> None:
    """Issue 27's learner rows: each install's SOLUTION and SKELETON runs against its own
    `python -c pass`, interleaved (see the module's docstring)."""
    from anchors import venv

    adopt_orphans()
    installs = {"": venv(venvs / "learner", str(HERE.parent), reinstall=True)}
    if before is not None:
        installs[" (before)"] = venv(venvs / "learner-before", str(before), reinstall=True)
    commands: dict[str, tuple[list[str], Path]] = {}
    for number, (suffix, bin_dir) in enumerate(installs.items()):
        course = course_copy(work / f"course-{number}", 10.0).parent
        commands[f"python -c pass{suffix}"] = ([str(bin_dir / "python"), "-c", "pass"], course)
        for kind, folder in (("SOLUTION", "solutions"), ("SKELETON", "exercises")):
            commands[f"grade exercise-1 {kind}{suffix}"] = (
                [str(bin_dir / "grade"), "exercise-1", f"{folder}/{FILES['exercise-1']}"],
                course)
    for command in commands.values():  # warm the file cache and each course's cache
        wall(*command)
    counts = {name: modules(*command) for name, command in commands.items()}
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    print(f"before: load average {os.getloadavg()}", flush=True)
    for _ in range(repeat):
        for name, command in commands.items():
            times[name].append(wall(*command))
            cpus[name].append(cpu(*command))
    print(f"after:  load average {os.getloadavg()}; {os.cpu_count()} CPUs; median of "
          f"{repeat} interleaved rounds")
    print(f"{'command':<38}{'median s':>9}{'min s':>8}{'x pass':>8}{'cpu s':>7}{'modules':>9}")
    for suffix in installs:
        floor = statistics.median(times[f"python -c pass{suffix}"])
        for name in (n for n in commands if n.endswith(suffix) and (suffix or "(" not in n)):
            value = statistics.median(times[name])
            print(f"{name:<38}{value:>9.3f}{min(times[name]):>8.3f}{value / floor:>7.1f}x"
                  f"{statistics.median(cpus[name]):>7.3f}{counts[name]:>9}")
    print("goals (issue 27): SOLUTION <= 12x python -c pass, SKELETON <= 4x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--class-size", type=int, default=40)
    parser.add_argument("--big", type=int, default=1000, help="students in the big class (0: skip)")
    parser.add_argument("--learner", action="store_true",
                        help="only the learner rows of issue 27, from a regular install")
    parser.add_argument("--before", type=Path, default=None, metavar="CHECKOUT",
                        help="--learner: also time grade installed from CHECKOUT, interleaved")
    parser.add_argument("--venvs", type=Path, default=Path.home() / ".cache" / "grade-anchors")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="grade-startup-"))
    if args.learner:
        try:
            learner(work, args.repeat, args.before, args.venvs)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    try:
        times = small(work, args.repeat, args.class_size)
        phases = big(work, args.big) if args.big else {}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    floor = medians["python -c pass"]
    names = list(medians)
    lower, batch = medians[names[-2]], medians[names[-1]]
    print(f"median of {args.repeat}, interleaved; load average {os.getloadavg()}")
    print(f"{'command':<44}{'median s':>10}{'x floor':>9}")
    for name, value in medians.items():
        print(f"{name:<44}{value:>10.3f}{value / floor:>8.1f}x")
    print(f"batch / lower bound: {batch / lower:.2f}x (target <= 3)")
    figures = {"version_x_floor": medians["grade --version"] / floor,
               "solution_x_floor": medians["grade exercise-1 SOLUTION"] / floor,
               "skeleton_x_floor": medians["grade exercise-1 SKELETON"] / floor,
               "batch_x_lower_bound": batch / lower}
    if phases:
        fixed = phases["total"] - phases["grading"]
        figures["big_fixed_share"] = fixed / phases["total"]
        print(f"class of {args.big} students x 3 exercises, 2 workers:")
        for name, value in phases.items():
            print(f"  {name:<40}{value:>8.2f} s")
        print(f"  everything but grading: {fixed:.2f} s = "
              f"{100 * figures['big_fixed_share']:.1f}% of the run (target < 5%)")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    target = results / f"startup-{time.strftime('%Y%m%d-%H%M%S')}.json"
    target.write_text(json.dumps({"command": " ".join(sys.argv), "cpus": os.cpu_count(),
                                  "load_average": os.getloadavg(), "seconds": times,
                                  "medians": medians, "big_class": phases,
                                  "figures": figures}, indent=2) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
