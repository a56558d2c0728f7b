"""A learner's `grade exercise-N FILE` launches the sandbox's zygote before anything else
imports (cli/early.py, sandbox/launch.py), and that zygote is the one the Sandbox would
have started: same command, cwd, environment, stdio, and no descriptor but its control."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import test_imports
from tests.conftest import ROOT
from tests.test_imports import fail

course = test_imports.course  # the fixture: a copy of the course whose cache is warm

SKELETON = "exercises/exercise_1_weighted_sampling.py"
SOLUTION = "solutions/exercise_1_weighted_sampling.py"
# What the launch must not wait for: each is milliseconds of imports, and the zygote's
# boot (a fresh interpreter) is the longest step of a learner's run.
LATE = ("typing", "json", "pathlib", "re", "enum", "subprocess", "socket", "threading",
        "click", "pydantic", "grader.course.load", "grader.sandbox.client")


def environment(**extra: str) -> dict[str, str]:
    names = ("GRADE_COURSE", "GRADE_SANDBOX")
    return {**{k: v for k, v in os.environ.items() if k not in names}, **extra}


# The audit hook sees the zygote's launch (a fork, or subprocess's Popen) and notes which
# modules `grade` itself had imported by then (those the interpreter's site had are not
# counted: an editable install's finder imports pathlib and re).
LAUNCH = """
import sys
before = set(sys.modules)
launches = []
def hook(event, args):
    if event in ("os.fork", "subprocess.Popen", "os.posix_spawn") and not launches:
        launches.append(sorted(set(sys.modules) - before))
    elif event in ("os.fork", "subprocess.Popen", "os.posix_spawn"):
        launches.append([])
sys.addaudithook(hook)
sys.argv = ["grade", *sys.argv[1:]]
from grader.cli import run
try:
    run()
except SystemExit as exc:
    print("RESULT", exc.code, repr(launches), file=sys.stderr)
"""


def launches(course: Path, *args: str, **env: str) -> tuple[int, list[list[str]], str]:
    """The exit status of `grade ARGS`, the modules it had imported at each launch, and
    what it printed."""
    done = subprocess.run([sys.executable, "-c", LAUNCH, *args], cwd=course, text=True,
                          capture_output=True, timeout=120, env=environment(**env))
    line = done.stderr.strip().rsplit("\n", 1)[-1].split(" ", 2)
    assert line[0] == "RESULT", done.stderr[-2000:]
    return int(line[1]), eval(line[2]), done.stdout  # our own repr of lists


@pytest.mark.parametrize("level", ["full", "no-namespaces"])
def test_a_solutions_zygote_is_launched_before_typing_json_or_click_import(
        course: Path, level: str) -> None:
    status, seen, said = launches(course, "exercise-1", SOLUTION, GRADE_SANDBOX=level)
    assert status == 0 and "Score: 10/10" in said, said
    assert seen, fail(seen, "one launch", "a file to grade gets its zygote")
    early = [name for name in LATE if name in seen[0]]
    assert not early, fail(early, [], "launch the zygote as the command begins "
                           "(grader.cli.early): every import before it is on the critical path")


def test_the_learners_own_file_gets_its_zygote_as_early(course: Path, tmp_path: Path) -> None:
    own = course / SKELETON
    original = own.read_bytes()
    try:
        own.write_bytes((course / SOLUTION).read_bytes())
        status, seen, said = launches(course, "exercise-1",
                                      HOME=str(tmp_path))  # progress goes to the course
    finally:
        own.write_bytes(original)
    assert status == 0 and "Score: 10/10" in said, said
    assert seen and not [name for name in LATE if name in seen[0]], seen


@pytest.mark.parametrize(("args", "env", "status"), [
    (("exercise-1", SKELETON), {}, 1),                     # blanks left: no sandbox at all
    (("exercise-1", SOLUTION), {"GRADE_SANDBOX": "nonsense"}, 2),  # said as before
    (("exercise-9", SOLUTION), {}, 2),                     # no such exercise
    (("exercise-1", "missing.py"), {}, 1),                 # no such file: said
])
def test_nothing_is_launched_for_a_skeleton_or_a_command_that_grades_nothing(
        course: Path, args: tuple[str, ...], env: dict[str, str], status: int) -> None:
    observed, seen, _ = launches(course, *args, **env)
    assert observed == status and seen == [], fail((observed, seen), (status, []),
                                                   "a zygote only for a file that is graded")


def test_a_portable_sandbox_gets_no_early_zygote(course: Path) -> None:
    status, seen, said = launches(course, "exercise-1", SOLUTION, GRADE_SANDBOX="portable")
    assert status == 0 and "Score: 10/10" in said, said
    assert seen and "grader.sandbox.portable" in seen[0], fail(
        seen[:1], "the portable sandbox's own launch", "no Linux zygote where it is not used")


# The zygote launched as the command began, then one the Sandbox launches itself (the way
# a restart after a crash does), each described from /proc while it waits for requests.
COMPARE = """
import json, os, sys
inherited = os.open(os.devnull, os.O_RDONLY)
os.set_inheritable(inherited, True)  # a descriptor the caller of grade left open
from grader.cli.early import launch_for
here = os.getcwd()
launch_for(["exercise-1", sys.argv[1]])
from grader.sandbox import launch
early = launch._early[0].pid
from grader.sandbox.client import Sandbox

def zygote(pid):
    children = open(f"/proc/{pid}/task/{pid}/children").read().split()
    return int(children[0]) if children else pid  # unshare's child, or itself

def described(pid):
    def kind(fd):
        target = os.readlink(f"/proc/{pid}/fd/{fd}")
        if "grade-uid-locks" in target:
            return "its uid lock"  # the zygote's own (zygote.claim_uid_range)
        return target.split(":")[0] if ":" in target else target
    environ = open(f"/proc/{pid}/environ", "rb").read().split(b"\\0")
    return {"fds": sorted(kind(fd) for fd in os.listdir(f"/proc/{pid}/fd")),
            "cwd": os.readlink(f"/proc/{pid}/cwd"),
            "environ": sorted(e.decode() for e in environ if e),
            "command": [word.decode() for word in  # its control's number aside
                        open(f"/proc/{pid}/cmdline", "rb").read().split(b"\\0")[:-3]]}

found = {}
for name in ("early", "late"):
    sandbox = Sandbox()
    sandbox.start()
    found[name] = described(zygote(sandbox.process_id))
    found[name + " adopted"] = sandbox.process_id == early
    sandbox.close()
found["our folder kept"] = os.getcwd() == here  # the spawn steps into "/" and back
print(json.dumps(found))
"""


def test_the_early_zygote_is_the_sandboxs_own_with_only_its_control_socket(
        course: Path) -> None:
    done = subprocess.run([sys.executable, "-c", COMPARE, SOLUTION], cwd=course, text=True,
                          capture_output=True, timeout=120, env=environment())
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout)
    assert found["early adopted"] and not found["late adopted"], found
    assert found["our folder kept"], fail(False, True, "grade's own folder is as it was")
    early, late = found["early"], found["late"]
    assert early == late, fail(early, late, "the early launch is the Sandbox's own launch")
    given = [fd for fd in early["fds"] if fd != "its uid lock"]
    assert given == ["/dev/null"] * 3 + ["socket"], fail(
        early["fds"], ["/dev/null"] * 3 + ["socket"],
        "stdio on /dev/null and the control socket: no other descriptor reaches the zygote")
    assert early["cwd"] == "/", early


DISCARD = """
import os, sys, time
from grader.cli.early import launch_for
launch_for(["exercise-1", sys.argv[1]])
from grader.sandbox import launch
pid = launch._early[0].pid
launch.discard()  # nobody adopted it: closed once it said hello
deadline = time.monotonic() + 10
while launch._early == [] and time.monotonic() < deadline:
    done, _ = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    time.sleep(0.01)
print("ENDED" if done else "ALIVE", sorted(os.listdir(os.environ["TMPDIR"])))
"""


def test_a_zygote_nobody_adopts_ends_and_leaves_no_box_folder(course: Path,
                                                              tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", DISCARD, SOLUTION], cwd=course, text=True,
                          capture_output=True, timeout=120,
                          env=environment(TMPDIR=str(tmp_path)))
    assert done.stdout.strip() == "ENDED []", fail(done.stdout + done.stderr[-1000:],
                                                   "ENDED []", "discard closes it cleanly")


def test_a_stale_index_launches_nothing_early(course: Path, tmp_path: Path) -> None:
    copy = tmp_path / "course"
    shutil.copytree(course, copy)
    index = copy / ".grade" / "course-index.txt"
    lines = index.read_text().split("\n")
    assert lines[0] and "exercise-1\t" in index.read_text(), lines
    index.write_text("\n".join(["0" * 64, *lines[1:]]))
    status, seen, said = launches(copy, "exercise-1", SOLUTION)
    assert status == 0 and "Score: 10/10" in said, said
    assert seen and "grader.course.load" in seen[0], fail(
        seen[:1], "the usual launch", "an index whose key is not the course's is not read")


def test_the_cache_writes_its_index_with_every_exercise(tmp_path: Path) -> None:
    from grader.course.load import load_course
    from grader.course.sidecar import planned_file

    folder = tmp_path / "course"
    folder.mkdir()
    shutil.copy(ROOT / "course.yaml", folder)
    loaded = load_course(folder / "course.yaml")
    for exercise in loaded.exercises:
        planned = planned_file(str(folder / "course.yaml"), exercise.id)
        expected = (str(loaded.root / loaded.exercises_dir / exercise.file),
                    loaded.limits_for(exercise).max_source_kb)
        assert planned == expected, fail(planned, expected, "the index says the plan's file")
    (folder / "course.yaml").write_text((ROOT / "course.yaml").read_text() + "\n# edited\n")
    assert planned_file(str(folder / "course.yaml"), "exercise-1") is None, fail(
        "an index", None, "an index whose key is not the course's is not read")


def test_a_solutions_run_adopts_its_zygote_without_importing_subprocess(course: Path) -> None:
    names, done = test_imports.imported(course, "exercise-1", SOLUTION)
    assert done.returncode == 0 and "Score: 10/10" in done.stdout, done.stdout + done.stderr
    assert "subprocess" not in names, fail(
        "subprocess", None, "the zygote was spawned as the command began: the Sandbox "
        "adopts it, and imports subprocess only to launch one itself (a restart)")


def test_an_early_zygote_whose_unshare_is_refused_falls_back_as_before(
        course: Path, tmp_path: Path) -> None:
    refusing = tmp_path / "unshare"  # as where user namespaces are not allowed
    refusing.write_text("#!/bin/sh\necho 'unshare: Operation not permitted' >&2\nexit 1\n")
    refusing.chmod(0o755)
    path = f"{tmp_path}{os.pathsep}{os.environ.get('PATH', os.defpath)}"
    status, seen, said = launches(course, "exercise-1", SOLUTION, PATH=path)
    assert status == 0 and "Score: 10/10" in said, said
    assert len(seen) == 2 and not [name for name in LATE if name in seen[0]], fail(
        len(seen), 2, "the early launch (refused), then the Sandbox's own without unshare")


def test_a_zygote_launched_for_a_file_the_preflight_refuses_is_closed_unused(
        course: Path, tmp_path: Path) -> None:
    latin = tmp_path / "latin.py"  # no NUL, no blank: surely gradable by its bytes...
    latin.write_bytes('x = "é"\n'.encode("latin-1"))  # ...but not UTF-8: refused
    boxes = tmp_path / "boxes"
    boxes.mkdir()
    status, seen, said = launches(course, "exercise-1", str(latin), TMPDIR=str(boxes))
    assert status == 1 and "not UTF-8 text" in said and len(seen) == 1, (status, seen, said)
    assert list(boxes.iterdir()) == [], fail(list(boxes.iterdir()), [],
                                             "the unused zygote is closed: its folder goes")


def test_no_course_here_launches_nothing(course: Path, tmp_path: Path) -> None:
    shutil.copy(course / SOLUTION, tmp_path / "answer.py")
    status, seen, _ = launches(tmp_path, "exercise-1", "answer.py")
    assert status == 2 and seen == [], fail((status, seen), (2, []), "no course: no zygote")


# A collection callback counts the main process's collections until the report is out
# (grader.cli.leave's os._exit); a learner's run collected 13 times, 3 ms, before.
COLLECTIONS = """
import gc, os, sys
collections = []
gc.callbacks.append(lambda phase, info: phase == "stop" and collections.append(
    info["generation"]))
leave = os._exit
def counted(code):
    print("COLLECTIONS", collections, gc.isenabled(), file=sys.stderr, flush=True)
    leave(code)
os._exit = counted
sys.argv = ["grade", *sys.argv[1:]]
from grader.cli import main
main()
"""


def test_a_learners_run_collects_nothing_once_it_knows_it_is_one(course: Path) -> None:
    done = subprocess.run([sys.executable, "-c", COLLECTIONS, "exercise-1", SOLUTION],
                          cwd=course, text=True, capture_output=True, timeout=60,
                          env=environment())
    assert done.returncode == 0 and "Score: 10/10" in done.stdout, done.stdout + done.stderr
    said = next(line for line in done.stderr.splitlines() if line.startswith("COLLECTIONS"))
    collections = json.loads(said.split(" ", 1)[1].rsplit(" ", 1)[0])
    # the interpreter's and grader.cli's first imports may fill the youngest generation
    # once before cli/early.py turns the collector off; nothing after that
    assert len(collections) <= 1 and "False" in said, fail(
        said, "COLLECTIONS [] or [0], False", "one file, then os._exit: its imports' "
        "objects all live on, so a learner's run need not collect (cli/early.py)")


# The sandbox's `ready` wrapped, to note whether the frames' module had been imported by
# the time the main process waits for the zygote's hello.
READY = """
import sys
from grader.sandbox import client
ready = client.Booting.ready
def noted(self, *args, **kwargs):
    print("PROTOCOL", "grader.sandbox.protocol" in sys.modules, file=sys.stderr)  # each wait
    return ready(self, *args, **kwargs)
client.Booting.ready = noted
sys.argv = ["grade", *sys.argv[1:]]
from grader.cli import run
run()
"""


def test_a_copys_run_imports_the_frames_module_before_it_waits_for_the_zygote(
        course: Path) -> None:
    done = subprocess.run([sys.executable, "-c", READY, "exercise-1", SOLUTION],
                          cwd=course, text=True, capture_output=True, timeout=60,
                          env=environment())
    assert done.returncode == 0 and "Score: 10/10" in done.stdout, done.stdout + done.stderr
    said = [line for line in done.stderr.splitlines() if line.startswith("PROTOCOL")]
    assert said[:1] == ["PROTOCOL True"], fail(
        said[:1], ["PROTOCOL True"], "the zygote's boot is the longer: the main process "
        "imports what its first request needs while it waits (plainly.py)")


def test_a_batchs_zygotes_are_launched_before_typing_pathlib_or_subprocess_import(
        course: Path, tmp_path: Path) -> None:
    for student in ("ann", "bob"):
        (tmp_path / "class" / student).mkdir(parents=True)
        shutil.copy(course / SOLUTION, tmp_path / "class" / student)
    # A batch ends by os._exit (no teardown): said as the hook's RESULT line all the same.
    code = LAUNCH.replace("from grader.cli import run", "import os\nquit_now = os._exit\n"
                          "os._exit = lambda code: (print('RESULT', code, repr(launches), "
                          "file=sys.stderr, flush=True), quit_now(code))\n"
                          "from grader.cli import run")
    done = subprocess.run([sys.executable, "-c", code, "batch", str(tmp_path / "class"),
                           "--out", str(tmp_path / "out"), "--jobs", "2"], cwd=course,
                          text=True, capture_output=True, timeout=120, env=environment())
    line = done.stderr.strip().rsplit("\n", 1)[-1].split(" ", 2)
    assert line[0] == "RESULT" and line[1] == "0", done.stderr[-2000:]
    seen = eval(line[2])  # our own repr of lists
    assert len(seen) >= 2, fail(seen, "a launch per worker", "two workers, two zygotes")
    # enum comes with the batch's names (its layouts), which say where the journal is
    early = [name for name in LATE if name != "enum" and name in seen[0]]
    assert not early, fail(early, [], "launch the batch's zygotes as the command begins "
                           "(batch/early.py): every import before it delays their boots")
