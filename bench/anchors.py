"""grade against its peers on one class of 40, as users run them: whole commands, interleaved.

    python bench/anchors.py [--repeat 5] [--students 40] [--no-nbgrader] [--big 1000]
                            [--venvs ~/.cache/grade-anchors] [--before REVISION]

Builds, in --venvs (kept between runs) and a temporary folder (removed):

- `reg`: a regular, NON-editable install of this repository (`pip install REPO`), as a
  learner or a TA has it; every `grade` and `python -c pass` below is this venv's;
- `nbg`: nbgrader 0.9.6 and ipykernel; `base`: pytest;
- one generated class of --students files (half right, a quarter `r > cumulative`, a
  quarter `"cloudy": 0.4`: 3, 2 and 1 points of 3) and each peer's version of it: an
  nbgrader course whose test cells are the three checks, a pytest file with the same
  three tests, the in-process lower bound (import each file, run the three checks, no
  isolation), and bench/lfl-course (the same three checks in grade's API) with one
  folder per student.

Then times, interleaved (every round runs every command once, so load hits all alike;
the median of --repeat rounds is reported; what a command left from its last run, an
OUTDIR, nbgrader's autograded/, pytest's out/, is removed before it, untimed, as
hyperfine's --prepare does in the issue's own harness, ../shared/bench-anchors):

- `grade batch` of the class on lfl-course, --jobs 2, a new OUTDIR each run, and of its
  first student alone (its CPU, subtracted from the class's, leaves each file's own);
- the lower bound; nbgrader `autograde --force`; `pytest` per file, sequential and
  `xargs -P2`;
- `python -c pass`, `grade exercise-1 SOLUTION` and `grade exercise-1 SKELETON` on the
  shipped course (its real exercise 1 and checks);

checks every tool's scores against the class's expected points, and prints the ratios
the issue "Small work at the cost of its checks" tracks, each command's CPU (user +
system of its whole process tree) beside its wall time, and `grade batch`'s CPU per file.
With --big N, also the peak RSS (ru_maxrss: the largest single process of the tree) of
`grade batch` of N students x 3 exercises on the shipped course with --jobs 2. Figures
depend on the machine and its load, which are printed: quote ratios from one run, never
absolute times across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from synthetic import build_class, course_copy  # noqa: E402

Timed = tuple[str, str]  # (its untimed preparation, or "": the command timed)

CORRECT = '''import random
random.seed(3)
weather = {"sunny": 0.6, "rainy": 0.1, "cloudy": 0.3}
def sample(dist):
    r = random.random()
    cumulative = 0.0
    for outcome, weight in dist.items():
        cumulative += weight
        if r < cumulative:
            return outcome
    return outcome
counts = {k: 0 for k in weather}
for _ in range(1000):
    counts[sample(weather)] += 1
print(counts)
'''
VARIANTS = {  # name: (source, expected points of 3)
    "correct": (CORRECT, 3),
    "gt_bug": (CORRECT.replace("if r < cumulative", "if r > cumulative"), 2),
    "cloudy04": (CORRECT.replace('"cloudy": 0.3', '"cloudy": 0.4'), 1),
}
# The three checks, as the peers run them (pytest functions; nbgrader test cells).
CHECKS = '''
import math
def check_a(m):
    assert abs(sum(m.weather.values()) - 1.0) < 1e-9
def check_b(m):
    n = 10_000
    counts = {}
    for _ in range(n):
        o = m.sample(m.weather)
        counts[o] = counts.get(o, 0) + 1
    for k, p in m.weather.items():
        se = math.sqrt(p * (1 - p) / n)
        assert abs(counts.get(k, 0) / n - p) <= 3 * se
def check_c(m):
    keys = set(m.weather)
    for _ in range(1000):
        assert m.sample(m.weather) in keys
'''
LOWER_BOUND = CHECKS + '''
import contextlib, importlib.util, io, json, os, sys
def grade(path, idx):
    name = f"submission_{idx}"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            spec.loader.exec_module(mod)
    except BaseException:
        return 0
    pts = 0
    for chk in (check_a, check_b, check_c):
        try:
            chk(mod)
            pts += 1
        except Exception:
            pass
    sys.modules.pop(name, None)
    return pts
subdir, out = sys.argv[1:]
files = sorted(f for f in os.listdir(subdir) if f.endswith(".py"))
json.dump({f[:-3]: grade(os.path.join(subdir, f), i) for i, f in enumerate(files)},
          open(out, "w"))
'''
PYTEST_FILE = '''
import contextlib, importlib.util, io, os
SPEC = importlib.util.spec_from_file_location("submission", os.environ["SUBMISSION"])
sub = importlib.util.module_from_spec(SPEC)
with contextlib.redirect_stdout(io.StringIO()):
    SPEC.loader.exec_module(sub)
''' + CHECKS + '''
def test_a(): check_a(sub)
def test_b(): check_b(sub)
def test_c(): check_c(sub)
'''
# Run with the nbgrader venv's python: ARGV = course root. The test cells are the three
# checks as the anchors' nbgrader course has them (one point each).
NBGRADER_COURSE = '''
import os, sys, nbformat
from nbformat.v4 import new_notebook, new_code_cell
root = sys.argv[1]
def md(grade_id, **kw):
    d = {"grade": False, "grade_id": grade_id, "locked": False, "schema_version": 3,
         "solution": False, "task": False}
    d.update(kw)
    return {"nbgrader": d}
TESTS = {
    "test_a": "assert abs(sum(weather.values()) - 1.0) < 1e-9",
    "test_b": ("import math\\n_n = 10_000\\n_counts = {}\\nfor _ in range(_n):\\n"
               "    _o = sample(weather)\\n    _counts[_o] = _counts.get(_o, 0) + 1\\n"
               "for _k, _p in weather.items():\\n    _se = math.sqrt(_p * (1 - _p) / _n)\\n"
               "    assert abs(_counts.get(_k, 0) / _n - _p) <= 3 * _se"),
    "test_c": "_keys = set(weather)\\nfor _ in range(1000):\\n    assert sample(weather) in _keys",
}
os.makedirs(os.path.join(root, "source", "ps1"), exist_ok=True)
nb = new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.cells = [new_code_cell("### BEGIN SOLUTION\\n" + SOLUTION + "### END SOLUTION",
                          metadata=md("solution", solution=True))]
nb.cells += [new_code_cell(code, metadata=md(name, grade=True, locked=True, points=1))
             for name, code in TESTS.items()]
nbformat.write(nb, os.path.join(root, "source", "ps1", "ps1.ipynb"))
open(os.path.join(root, "nbgrader_config.py"), "w").write(
    "c = get_config()\\n"
    f"c.CourseDirectory.root = {os.path.abspath(root)!r}\\n"
    "c.CourseDirectory.course_id = 'bench'\\n")
'''
NBGRADER_SUBMISSIONS = '''
import json, os, sys, nbformat
root, subs = sys.argv[1:]
released = nbformat.read(os.path.join(root, "release", "ps1", "ps1.ipynb"), as_version=4)
ids = sorted(f[:-3] for f in os.listdir(subs) if f.endswith(".py"))
for sid in ids:
    nb = nbformat.from_dict(json.loads(json.dumps(released)))
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    cell.source = open(os.path.join(subs, sid + ".py")).read().rstrip("\\n")
    folder = os.path.join(root, "submitted", sid, "ps1")
    os.makedirs(folder, exist_ok=True)
    nbformat.write(nb, os.path.join(folder, "ps1.ipynb"))
    open(os.path.join(folder, "timestamp.txt"), "w").write("2024-01-01 12:00:00.000000 UTC")
open(os.path.join(root, "students.csv"), "w").write(
    "id,first_name,last_name,email\\n" + "".join(f"{s},{s},Student,\\n" for s in ids))
'''
# As users run it: Python caches compiled modules (a shell with PYTHONDONTWRITEBYTECODE
# would time the compiler); no editable path or virtualenv of the caller leaks in.
ENVIRONMENT = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "VIRTUAL_ENV")}


def sh(command: list[str], cwd: Path | None = None) -> None:
    """Run a set-up step with its venv's bin/ first on PATH (nbgrader runs `alembic`)."""
    path = f"{Path(command[0]).parent}:{ENVIRONMENT.get('PATH', '')}"
    done = subprocess.run(command, text=True, capture_output=True, cwd=cwd,
                          env={**ENVIRONMENT, "PATH": path}, check=False)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def venv(folder: Path, *packages: str, reinstall: bool = False) -> Path:
    """A venv in `folder` with `packages` (kept between runs); its bin/ folder."""
    if not (folder / "bin" / "python").exists():
        sh([sys.executable, "-m", "venv", str(folder)])
        reinstall = True
    if reinstall:
        sh([str(folder / "bin" / "pip"), "install", "-q", *packages])
    return folder / "bin"


def make_class(folder: Path, students: int) -> dict[str, int]:
    """sNN.py files: odd students right, the rest one of the two bugs; expected points."""
    folder.mkdir(parents=True)
    expected = {}
    for i in range(1, students + 1):
        variant = "correct" if i % 2 else ("gt_bug" if i % 4 == 2 else "cloudy04")
        text, points = VARIANTS[variant]
        (folder / f"s{i:02d}.py").write_text(text)
        expected[f"s{i:02d}"] = points
    return expected


def nbgrader_course(nbg: Path, root: Path, subs: Path) -> None:
    root.mkdir()
    sh([str(nbg / "python"), "-c", f"SOLUTION = {CORRECT!r}\n" + NBGRADER_COURSE, str(root)])
    for step in (["db", "assignment", "add", "ps1"], ["generate_assignment", "ps1"]):
        sh([str(nbg / "nbgrader"), *step], cwd=root)
    sh([str(nbg / "python"), "-c", NBGRADER_SUBMISSIONS, str(root), str(subs)])
    sh([str(nbg / "nbgrader"), "db", "student", "import", "students.csv"], cwd=root)


def nbgrader_scores(nbg: Path, root: Path) -> dict[str, float]:
    import csv

    (root / "grades.csv").unlink(missing_ok=True)
    sh([str(nbg / "nbgrader"), "export", "--to", "grades.csv"], cwd=root)
    with (root / "grades.csv").open() as f:
        return {r["student_id"]: float(r["score"]) for r in csv.DictReader(f)}


def pytest_scores(out: Path) -> dict[str, float]:
    import re

    scores = {}
    for path in out.glob("*.txt"):
        passed = re.search(r"(\d+) passed", path.read_text())
        scores[path.stem] = float(passed.group(1)) if passed else 0.0
    return scores


def grade_scores(out: Path) -> dict[str, float]:
    rows = json.loads((out / "grades.json").read_text())
    return {row["student"]: float(row["total"]) for row in rows}


def wall(timed: Timed, cwd: Path) -> tuple[float, float]:
    """Wall seconds of a command, and the CPU seconds (user + system) of its whole process
    tree: every process is waited for (grade's workers, zygotes and boxes included). Its
    preparation (removing the last run's output) runs first, untimed, as hyperfine's
    --prepare does in the issue's harness (../shared/bench-anchors/run_all.sh)."""
    prepare, command = timed
    if prepare:
        subprocess.run(prepare, cwd=cwd, shell=True, env=ENVIRONMENT, check=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, shell=True, env=ENVIRONMENT, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def peak_rss(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and the largest RSS (MiB) of any one process of `command`'s tree."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=ENVIRONMENT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status:
        raise SystemExit(f"{' '.join(command)} failed ({status})")
    return seconds, usage.ru_maxrss / 1024  # Linux: KiB; the max over reaped children too


def grade_commands(reg: Path, shipped: Path, lfl: Path, folders: Path, out: Path,
                   suffix: str = "") -> dict[str, Timed]:
    """`grade`'s timed commands with the install in `reg` (bin/)."""
    exercise = "exercise_1_weighted_sampling.py"
    return {
        f"python -c pass{suffix}": ("", f"{reg}/python -c pass"),
        f"grade exercise-1 SOLUTION{suffix}":
            ("", f"cd {shipped} && {reg}/grade exercise-1 solutions/{exercise}"),
        f"grade exercise-1 SKELETON{suffix}":
            ("", f"cd {shipped} && {reg}/grade exercise-1 exercises/{exercise}"),
        f"grade batch --jobs 2{suffix}":
            (f"rm -rf {out}", f"cd {lfl} && {reg}/grade batch {folders} --out {out} --jobs 2"),
        # the same command for one student: its CPU, subtracted, leaves each file's own
        f"grade batch --jobs 2, 1 student{suffix}":
            (f"rm -rf {out}-1",
             f"cd {lfl} && {reg}/grade batch {folders}-1 --out {out}-1 --jobs 2"),
    }


def build(work: Path, venvs: Path, students: int, with_nbgrader: bool, before: Path | None
          ) -> tuple[dict[str, Timed], dict[str, object]]:
    """The class, every peer's copy of it, and the commands to time (name -> shell)."""
    print("venvs (first run: minutes) ...", flush=True)
    reg = venv(venvs / "reg", str(REPO), reinstall=True)  # this checkout, not editable
    base = venv(venvs / "base", "pytest")
    expected = make_class(work / "subs", students)
    (work / "lower_bound.py").write_text(LOWER_BOUND)
    (work / "pytest").mkdir()
    (work / "pytest" / "test_ex1.py").write_text(PYTEST_FILE)
    folders = work / "grade-subs"
    for path in (work / "subs").glob("*.py"):
        (folders / path.stem).mkdir(parents=True)
        shutil.copy(path, folders / path.stem / "exercise_1_weighted_sampling.py")
    shutil.copytree(folders / "s01", Path(f"{folders}-1") / "s01")
    lfl = work / "lfl-course"
    shutil.copytree(HERE / "lfl-course", lfl)
    # Its skeleton and solution are the lesson's own: only its checks differ.
    for folder in ("exercises", "solutions"):
        (lfl / folder).mkdir()
        shutil.copy(HERE.parent / folder / "exercise_1_weighted_sampling.py", lfl / folder)
    shipped = course_copy(work / "course", 10.0).parent
    pytest_each = ("cd {w}/pytest && mkdir out && ls {w}/subs/*.py | xargs -P {p} "
                   "-I{{}} sh -c 'SUBMISSION={{}} {b}/python -m pytest -q -p no:cacheprovider "
                   "test_ex1.py > out/$(basename {{}} .py).txt 2>&1 || true'")
    commands = {
        **grade_commands(reg, shipped, lfl, folders, work / "out"),
        "lower bound": ("", f"{base}/python {work}/lower_bound.py {work}/subs {work}/lower.json"),
        "pytest per file, sequential": (f"rm -rf {work}/pytest/out",
                                        pytest_each.format(w=work, p=1, b=base)),
        "pytest per file, -P2": (f"rm -rf {work}/pytest/out",
                                 pytest_each.format(w=work, p=2, b=base)),
    }
    context: dict[str, object] = {"expected": expected, "reg": reg}
    if before is not None:  # another checkout (e.g. main), timed in the same rounds
        context["before"] = venv(venvs / "reg-before", str(before), reinstall=True)
        # Its own copies of both courses: the course cache is keyed on grade's code, so
        # two installs sharing one course would each find the other's cache stale and
        # re-validate course.yaml on every run (~15-20 ms each, to both sides).
        shipped_before, lfl_before = work / "course-before", work / "lfl-course-before"
        shutil.copytree(shipped, shipped_before, symlinks=True)
        shutil.copytree(lfl, lfl_before, symlinks=True)
        commands.update(grade_commands(context["before"], shipped_before, lfl_before,  # type: ignore[arg-type]
                                       folders, work / "out-before", " (before)"))
    if with_nbgrader:
        nbg = venv(venvs / "nbg", "nbgrader==0.9.6", "ipykernel")
        nbgrader_course(nbg, work / "nbg", work / "subs")
        commands["nbgrader autograde"] = (f"rm -rf {work}/nbg/autograded",
                                          f"cd {work}/nbg && PATH={nbg}:$PATH "
                                          f"{nbg}/nbgrader autograde ps1 --force")
        context["nbg"] = nbg
    return commands, context


def verify(work: Path, context: dict[str, object]) -> list[str]:
    """Each tool's scores against the expected points: the lines that disagree."""
    expected = {k: float(v) for k, v in context["expected"].items()}  # type: ignore[attr-defined]
    got = {"grade batch": grade_scores(work / "out"),
           "lower bound": {k: float(v) for k, v in
                           json.loads((work / "lower.json").read_text()).items()},
           "pytest per file": pytest_scores(work / "pytest" / "out")}
    if "nbg" in context:
        got["nbgrader"] = nbgrader_scores(context["nbg"], work / "nbg")  # type: ignore[arg-type]
    return [f"{tool}: {scores} != {expected}" for tool, scores in got.items()
            if scores != expected]


def checkout(given: str, folder: Path) -> Path:
    """`given` as a folder to install: itself if it is one, else that git revision of
    this repository, exported (git archive) into `folder`."""
    if Path(given).is_dir():
        return Path(given)
    folder.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", given], capture_output=True,
                             check=False)
    if archive.returncode:
        raise SystemExit(f"--before {given}: neither a folder nor a git revision "
                         f"({archive.stderr.decode(errors='replace').strip()})")
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def environment() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               "?")
    return (f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {os.cpu_count()} CPUs ({cpu}), "
            f"load average {os.getloadavg()}, Python {sys.version.split()[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--no-nbgrader", dest="nbgrader", action="store_false")
    parser.add_argument("--big", type=int, default=0,
                        help="also the peak RSS of grade batch, N students x 3 exercises")
    parser.add_argument("--venvs", type=Path, default=Path.home() / ".cache" / "grade-anchors")
    parser.add_argument("--before", default=None, metavar="CHECKOUT",
                        help="also time grade installed from CHECKOUT, interleaved: a folder, "
                             "or a git revision of this repository (e.g. main, 49e223d), "
                             "exported with git archive")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="grade-anchors-"))
    try:
        before = checkout(args.before, work / "before-src") if args.before else None
        commands, context = build(work, args.venvs, args.students, args.nbgrader, before)
        if args.big:  # made first: a missing dependency stops the script before any timing
            build_class(work / "big", args.big, loops=frozenset())
            big_course = course_copy(work / "big-course", 2.0).parent
        print(f"before: {environment()}", flush=True)
        times: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for command in commands.values():  # warm the file and course caches once
            wall(command, work)
        problems = verify(work, context)
        for _ in range(args.repeat):
            for name, command in commands.items():
                seconds, used = wall(command, work)
                times[name].append(seconds)
                cpu[name].append(used)
        rss: dict[str, tuple[float, float]] = {}
        if args.big:
            for name in ("reg", "before") if "before" in context else ("reg",):
                rss[name] = peak_rss([f"{context[name]}/grade", "batch", str(work / "big"),
                                      "--out", str(work / f"big-out-{name}"), "--jobs", "2"],
                                     big_course)
        print(f"after:  {environment()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(times, cpu, rss, args, problems)


def report(times: dict[str, list[float]], cpu: dict[str, list[float]],
           rss: dict[str, tuple[float, float]], args: argparse.Namespace,
           problems: list[str]) -> None:
    median = {name: statistics.median(values) for name, values in times.items()}
    used = {name: statistics.median(values) for name, values in cpu.items()}
    print(f"\nmedian of {args.repeat} interleaved rounds, class of {args.students}")
    for name, value in median.items():
        print(f"  {name:<42}{value:>8.3f} s   (min {min(times[name]):.3f}; "
              f"CPU {used[name]:.3f} s)")
    for suffix in ("", " (before)") if args.before else ("",):
        floor, batch = median[f"python -c pass{suffix}"], median[f"grade batch --jobs 2{suffix}"]
        print(f"\nratios (the issue's table){suffix}:")
        print(f"  grade batch / lower bound                 {batch / median['lower bound']:6.2f}x")
        # CPU, which load does not inflate as it does wall time: the class's, less one
        # student's (start-up, pool, exports), per file; the lower bound's per file
        per_file = (used[f"grade batch --jobs 2{suffix}"]
                    - used[f"grade batch --jobs 2, 1 student{suffix}"]) / (args.students - 1)
        print(f"  grade batch CPU per file (40 less 1)      {1000 * per_file:6.1f} ms "
              f"(lower bound: {1000 * used['lower bound'] / args.students:.1f} ms)")
        for peer in ("nbgrader autograde", "pytest per file, sequential", "pytest per file, -P2"):
            if peer in median:
                print(f"  {peer + ' / grade batch':<42}{median[peer] / batch:6.1f}x")
        for kind in ("SOLUTION", "SKELETON"):
            print(f"  {'grade exercise-1 ' + kind + ' / python -c pass':<42}"
                  f"{median[f'grade exercise-1 {kind}{suffix}'] / floor:6.1f}x")
    for name, (seconds, mib) in rss.items():
        print(f"grade batch ({name}), {args.big} students x 3, --jobs 2: {seconds:.1f} s, "
              f"peak RSS of one process {mib:.0f} MiB")
    print("scores: " + ("every tool agrees with the expected points" if not problems
                        else "; ".join(problems)))


if __name__ == "__main__":
    main()
