"""Hostile and broken submissions, the batch-like folder they are graded in, and probes.

Used by tests/test_attacks.py in-process, and run as a script (possibly as another
user) to grade attacks under a given isolation level:

    python tests/attacks.py LAYOUT NAME...   # prints one JSON result per line
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.authoring.markers import strip_markers
from grader.kinds import ErrorKind

ROOT = Path(__file__).resolve().parents[1]
FILE = "exercise_1_weighted_sampling.py"
# The solution as learners would write it: without the author's markers.
SOLUTION = strip_markers((ROOT / "solutions" / FILE).read_text())
# The solution without its demo block: a submission whose functions are the attack.
LIBRARY = SOLUTION[: SOLUTION.index('if __name__ == "__main__":')]
WRONG = LIBRARY.replace("if r < cumulative:", "if r < 0.5:")  # scores 6 of 10
STUDENTS = ("alice", "bob")
ATTACKER = "mallory"
TIME_LIMIT = 2  # the attack course's wall-clock limit (the real course has 10 s)

Iso = dict[str, Any]


def refusal_name(iso: Iso) -> str:
    return "FileNotFoundError" if iso["chroot"] else "PermissionError"


@dataclass(frozen=True)
class Attack:
    """A submission and the exact outcome it must get."""

    name: str
    source: str | bytes  # "{bob!r}" and the like stand for the paths of `Layout.paths`
    score: float
    error: str | Callable[[Iso, dict[str, str]], str | None] | None
    output: str | Callable[[Iso, dict[str, str]], str] | None = None  # None: not checked
    cut: bool = False  # learner text was over a cap: the result must say it was cut
    kind: ErrorKind | None = None  # the result's error_kind: set exactly when `error` is

    def text(self, paths: dict[str, str]) -> str | bytes:
        if isinstance(self.source, bytes):
            return self.source
        text = self.source
        for key, path in paths.items():
            text = text.replace("{" + key + "!r}", repr(path))
        return text

    def expected(self, iso: Iso, paths: dict[str, str]) -> dict[str, Any]:
        error = self.error(iso, paths) if callable(self.error) else self.error
        output = self.output(iso, paths) if callable(self.output) else self.output
        kind = None if self.kind is None else self.kind.value
        return {"score": self.score, "error": error, "output": output, "kind": kind}


def _tries(*lines: str) -> str:
    """`lines` of attack, then a correct solution: the attack must not change its score."""
    return "\n".join(lines) + "\n" + LIBRARY


def _try(action: str) -> str:
    """Try `action`, print DONE if it worked, else the name of the error."""
    return (f"try:\n    {action}\n    print('DONE')\n"
            "except OSError as exc:\n    print(type(exc).__name__)")


READS = ("solution", "checks", "bob", "grades", "course")
WRITES = (
    "open({bob!r}, 'w').write('weather = 1')",
    "os.remove({grades!r})",
    "os.rename({alice!r}, {alice!r} + '.bak')",
    "open({out!r} + '/evil.txt', 'w').write('x')",
    "os.chmod({bob!r}, 0o777)",
)
EXIT_IN_SAMPLE = LIBRARY.replace("r = random.random()", "import sys; sys.exit(0)")
INTERRUPT_IN_SAMPLE = LIBRARY.replace("r = random.random()", "raise KeyboardInterrupt")
TIMEOUT = (f"time limit: your code did not finish within {TIME_LIMIT} s (it was running "
           "line 1); look for a loop that never ends")

# The portable box's audit hook reads its module's globals at each event: emptying them
# turns it off (PEP 578: a hook is no security boundary). At the Linux levels there is
# no such module in the box, and the kernel refuses instead.
AUDIT_HOOK_BYPASS = """import sys
_box = sys.modules.get('grader.sandbox.portable_box')
if _box is not None:
    for _name in dir(_box):
        if _name.endswith('_EVENTS'):
            setattr(_box, _name, frozenset())
    _box._inside = lambda *args: True
"""
# After the bypass a box running as root can fork (RLIMIT_NPROC binds no root): a daemon
# that leaves the box's process group and session. Elsewhere the fork is refused.
DAEMON = AUDIT_HOOK_BYPASS + """import os, sys, time
def daemon(heartbeat):
    try:
        pid = os.fork()
    except OSError as exc:
        print(type(exc).__name__)
        return
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            while True:
                if heartbeat:
                    with open(heartbeat, 'a') as beat:
                        beat.write(f'{os.getpid()} {time.time()}\\n')
                time.sleep(0.1)
        os._exit(0)
    os.waitpid(pid, 0)
    print('DONE')
"""


def daemon_outcome(iso: Iso, paths: dict[str, str]) -> str:
    return "DONE\n" if iso["level"] == "portable" and os.geteuid() == 0 else "BlockingIOError\n"


ATTACKS = [
    Attack("syntax error", "import random\n\nweather = (\n", 0,
           "your file has a syntax error: '(' was never closed (line 3: weather = ()",
           kind=ErrorKind.SYNTAX),
    Attack("unfilled blank", SOLUTION.replace('"cloudy": 0.3', '"cloudy": ___'), 0,
           "the blank on line 18 is still empty: replace each ___ with your answer",
           kind=ErrorKind.BLANKS),
    Attack("non-UTF-8 bytes", b"weather = {}\n# caf\xe9\n", 0,
           "the file is not UTF-8 text (byte 0xe9 on line 2); save it as UTF-8 in your editor",
           kind=ErrorKind.ENCODING),
    Attack("NUL bytes", "weather = {}\nx = 1\0\n", 0,
           "the file contains a NUL byte on line 2 (is it really a text file?); "
           "save it again as plain text", kind=ErrorKind.BINARY),
    Attack("empty file", "\n  \n", 0, "the file is empty: write your answer in it and save it",
           kind=ErrorKind.EMPTY),
    Attack("over-size file", "# " + "x" * 300 * 1024 + "\n", 0,
           "the file is too large (300 KB; the limit is 256 KB)", kind=ErrorKind.TOO_LARGE),
    Attack("infinite loop", "while True: pass\n", 0, TIMEOUT, kind=ErrorKind.TIMEOUT),
    Attack("alarm ignored + infinite loop",
           "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True: pass\n", 0,
           f"time limit: your code did not finish within {TIME_LIMIT} s; "
           "look for a loop that never ends", kind=ErrorKind.TIMEOUT),
    # bytes(n) reserves zeroed memory without writing it: the box's address-space limit
    # is reached in milliseconds, where writing 512 MB first (' ' * 10**7) could take
    # longer than the time limit on a busy machine and end as a timeout instead.
    Attack("memory bomb", "hog = []\nwhile True: hog.append(bytes(10**7))\n", 0,
           "your file used more memory than allowed (line 2: while True: "
           "hog.append(bytes(10**7))); is a list or string growing without end?",
           kind=ErrorKind.MEMORY),
    Attack("deep recursion", "def down(n):\n    return down(n + 1)\ndown(0)\n", 0,
           "your file recursed too deeply (a function that keeps calling itself?) "
           "(line 2: return down(n + 1))", kind=ErrorKind.RECURSION),
    Attack("recursion limit raised to a segfault",
           "import sys\nsys.setrecursionlimit(10**6)\ndef down(n):\n"
           "    return list(map(down, [n]))\ndown(0)\n", 0,
           "your code crashed the Python interpreter (segmentation fault), usually by "
           "recursing far too deeply after raising the recursion limit", kind=ErrorKind.CRASHED),
    Attack("fork bomb", "import os\nwhile True:\n    os.fork()\n", 0,
           "your file tried to start another process or thread (line 3: os.fork()); "
           "the grader does not allow that", kind=ErrorKind.FORBIDDEN),
    Attack("double fork + setsid background sleeper",
           "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
           "        time.sleep(600)\n    os._exit(0)\n", 0,
           "your file tried to start another process or thread (line 2: if os.fork() == 0:); "
           "the grader does not allow that", kind=ErrorKind.FORBIDDEN),
    Attack("audit hook off, then a double-fork + setsid daemon",
           DAEMON + "daemon(None)\n" + LIBRARY, 10, None, daemon_outcome),
    # A FIFO where the grader reads would make it wait for ever (a progress file, a
    # journal): outside the box it is refused like any other write.
    Attack("plant a FIFO in OUTDIR", _tries("import os", _try(
        "os.mkfifo({out!r} + '/progress.json')")), 10, None,
           lambda iso, paths: f"{refusal_name(iso)}\n"),
    Attack("os._exit", LIBRARY + "import os\nos._exit(3)\n", 0,
           "your code ended its own process (os._exit(3) or similar), so it could not be "
           "checked; remove that call", kind=ErrorKind.EXITED),
    Attack("sys.exit at import", "import sys\nsys.exit(0)\n", 0,
           "your file called sys.exit() or exit() (line 2: sys.exit(0)); remove that call: "
           "the grader runs your functions itself", kind=ErrorKind.EXITED),
    Attack("sys.exit inside sample", EXIT_IN_SAMPLE, 3, None),  # weights: 1 + 2 points
    Attack("KeyboardInterrupt at import", "raise KeyboardInterrupt\n", 0,
           "your file raised KeyboardInterrupt (line 1: raise KeyboardInterrupt)",
           kind=ErrorKind.RAISED),
    Attack("KeyboardInterrupt inside sample", INTERRUPT_IN_SAMPLE, 3, None),
    Attack("kill the parent", _tries("import os", _try("os.kill(os.getppid(), 9)")), 10, None,
           "PermissionError\n"),
    Attack("escape the chroot (double chroot)",
           _tries("import os", "os.mkdir('jail')", _try("os.chroot('jail')"),
                  _try("os.chdir('../../../..'); os.chroot('.')"),
                  _try("print(open('/etc/hostname').read())")),
           10, None, lambda iso, paths: "PermissionError\n" * 2 + refusal_name(iso) + "\n"),
    Attack("kill everything", _tries("import os", _try("os.kill(-1, 9)")), 10, None),
    Attack("read other students, solutions, checks, gradebook",
           _tries(*[_try(f"print(open({{{key}!r}}).read())") for key in READS]), 10, None,
           lambda iso, paths: f"{refusal_name(iso)}\n" * len(READS)),
    Attack("delete and overwrite files", _tries("import os", *[_try(w) for w in WRITES]), 10,
           None, lambda iso, paths: "".join(
               # seccomp refuses chmod before the path is even looked up
               ("PermissionError" if iso["seccomp"] and "chmod" in w else refusal_name(iso))
               + "\n" for w in WRITES)),
    Attack("write past the file-size limit",
           "open('big.bin', 'wb').write(b'x' * 2 * 1024 * 1024)\n", 0,
           "your file wrote a file larger than the grader allows "
           "(line 1: open('big.bin', 'wb').write(b'x' * 2 * 1024 * 1024)); "
           "does a loop keep writing to one file?", kind=ErrorKind.DISK),
    Attack("print a fake pass and a forged JSON report",
           WRONG + "print('PASSED 10/10')\nprint('{\"score\": 10.0, \"max_score\": 10.0}')\n",
           6, None, 'PASSED 10/10\n{"score": 10.0, "max_score": 10.0}\n'),
    Attack("patch random",
           WRONG + "import random\nrandom.random = lambda: 0.999\n"
           "random.seed = lambda *a, **k: None\nrandom.Random.seed = lambda *a, **k: None\n",
           6, None),
    Attack("wreck the grader's code inside the box",
           LIBRARY + "import sys\nfor name, module in list(sys.modules.items()):\n"
           "    if name.startswith('grader'):\n        module.__dict__.clear()\n", 0,
           "your code interfered with the grader's channel; nothing it reported counts",
           kind=ErrorKind.INTERFERENCE),
    Attack("forge replies on the grader's channel",
           LIBRARY + "import socket\nchannel = socket.socket(fileno=3)\n"
           "channel.sendall(b'\\x00\\x00\\x00\\x0d{\"id\":1,\"ok\":1}' * 50)\n", 0,
           "your code interfered with the grader's channel; nothing it reported counts",
           kind=ErrorKind.INTERFERENCE),
    Attack("connect to the network",
           _tries("import socket", *[_try(f"socket.socket().connect({address!r})")
                                     for address in (("127.0.0.1", 22), ("1.1.1.1", 53))]),
           10, None, lambda iso, paths: ("PermissionError\n" if iso["seccomp"] or
                                         iso["landlock"] >= 4 else "OSError\n") * 2),
    Attack("flood the output", LIBRARY + "for _ in range(1000):\n    print('x' * 999)\n", 10,
           None, ("x" * 999 + "\n") * 20 + "\n[... more output not shown]"),
]


ESC_MESSAGE = "\\x1b[2J\\x1b[H\\x1b]0;pwned\\x07\\rScore: 10/10"  # as the learner writes it
SHOWN_ESC = ESC_MESSAGE.replace("\\r", "\\x0d")  # as the grader shows it
HUGE = 8 * 1024 * 1024
SAMPLE_CHECKS = "sample returns an outcome of the distribution it is given"
ENDED = ("your code ended its own process (it sent itself {}), so it could not be checked; "
         "remove that call")

# Learner text over every cap, and terminal control sequences in every place learner
# text reaches a report: each must arrive cut (with a marker) and inert (escaped).
TEXT_ATTACKS = [
    Attack("exception class with an 8 MB name raised from sample",
           LIBRARY.replace("r = random.random()",
                           f"raise type('E' * {HUGE}, (Exception,), {{}})('boom')"), 3, None,
           cut=True),
    Attack("exception message of 8 MB at import, past the box's own cap",
           "import grader.sandbox.host as h\n"
           "h.describe_error = lambda e, f: {'kind': 'exception', 'type': 'E', "
           f"'message': 'm' * {HUGE}, 'line': 1}}\nraise ValueError\n", 0,
           "your file raised E: " + "m" * 1000 + f" [... cut: {HUGE - 1000:,} more characters] "
           "(line 1: import grader.sandbox.host as h)", cut=True, kind=ErrorKind.RAISED),
    Attack("a forged error frame of 10 MB on the grader's channel",
           "import json, socket, struct\nch = socket.socket(fileno=3)\n"
           "d = json.dumps({'id': 1, 'error': {'kind': 'exception', 'type': 'T' * 5_000_000, "
           "'message': 'M' * 5_000_000}}).encode()\nch.sendall(struct.pack('>I', len(d)) + d)\n"
           "import time\ntime.sleep(5)\n", 0,
           "your file raised " + "T" * 200 + f" [... cut: {5_000_000 - 200:,} more characters]: "
           + "M" * 1000 + f" [... cut: {5_000_000 - 1000:,} more characters]", cut=True,
           kind=ErrorKind.RAISED),
    Attack("weather with a 1 MB outcome name",
           LIBRARY.replace('"cloudy": 0.3', "'c' * 1_000_000: 0.3"), 5, None, cut=True),
    Attack("sample returns a 3 MB string",
           LIBRARY + "BIG = 'x' * 3_000_000\ndef sample(d):\n    return BIG\n", 3, None),
    Attack("one printed line of 8 MB", LIBRARY + f"print('p' * {HUGE})\n", 10, None,
           "p" * 20_000 + "\n[... more output not shown]"),
    Attack("terminal escapes in an exception message", f"raise ValueError('{ESC_MESSAGE}')\n", 0,
           f"your file raised ValueError: {SHOWN_ESC} "
           f"(line 1: raise ValueError('{ESC_MESSAGE}'))", kind=ErrorKind.RAISED),
    Attack("terminal escapes in an exception class name raised from sample",
           LIBRARY.replace("r = random.random()",
                           "raise type('\\x1b[2J\\x9b31m', (Exception,), {})('\\u202egnp.exe')"),
           3, None),
    Attack("terminal escapes and bidi overrides in printed output",
           LIBRARY + "print('\\x1b[2J\\x1b]0;pwned\\x07\\x9b2J\\u202eok\\u2066\\r\\x00')\n", 10,
           None, "\\x1b[2J\\x1b]0;pwned\\x07\\x9b2J\\u202eok\\u2066\\x0d\\x00\n"),
    Attack("terminal escapes in weather's outcomes, shown in a histogram",
           WRONG.replace('"sunny"', '"\\x1b[2Jsunny\\x1b]0;t\\x07"'), 5, None),
    Attack("a raw escape character in a quoted source line",
           "raise ValueError('x')  # \x1b[2J\x1b]0;pwned\x07\n", 0,
           "your file raised ValueError: x (line 1: raise ValueError('x')  # "
           "\\x1b[2J\\x1b]0;pwned\\x07)", kind=ErrorKind.RAISED),
]

# A box that ends itself is told so, at every level; a huge value is "too large".
END_ATTACKS = [
    Attack("SIGKILL itself at import", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
           0, ENDED.format("SIGKILL, signal 9"), kind=ErrorKind.EXITED),
    Attack("SIGTERM itself at import", "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n",
           0, ENDED.format("SIGTERM, signal 15"), kind=ErrorKind.EXITED),
    Attack("os.abort at import", "import os\nos.abort()\n", 0,
           ENDED.format("SIGABRT, signal 6"), kind=ErrorKind.EXITED),
    Attack("SIGKILL its own group from sample",
           LIBRARY.replace("r = random.random()", "import os; os.killpg(0, 9)"), 0,
           ENDED.format("SIGKILL, signal 9") + f" (during \u201c{SAMPLE_CHECKS}\u201d)",
           kind=ErrorKind.EXITED),
    Attack("weather of three million weights",
           LIBRARY + "weather = [0.5] * 3_000_000\n", 3, None),
    Attack("weather of a million outcomes",
           LIBRARY + "weather = {'k' * 100 + str(i): 2e-5 for i in range(50_000)}\n", 3, None),
    Attack("sample returns one 400 KB list, again and again",
           LIBRARY + "BIG = [0] * 200_000\ndef sample(d):\n    return BIG\n", 3, None),
    Attack("sample returns a list that contains itself",
           LIBRARY + "def sample(d):\n    x = []\n    x.append(x)\n    return x\n", 3, None),
]


def _disk_full(line: str) -> Callable[[Iso, dict[str, str]], str]:
    """A box's own tmpfs says "no space" at the line that wrote; a tracked budget stops it."""
    def expected(iso: Iso, paths: dict[str, str]) -> str:
        if iso["disk"] == "tmpfs":
            return ("your file filled the disk space the grader gives your code (too many "
                    f"bytes or files) ({line}); does it write files in a loop?")
        return ("your code wrote more to disk than the grader allows (too many bytes or "
                "files), so it was stopped; does it write files in a loop?")
    return expected


# The box's disk is capped in bytes and in files, however it is filled.
DISK_ATTACKS = [
    Attack("fill the disk with 1 MB files",
           "i = 0\nwhile True:\n    open(f'f{i}', 'wb').write(b'x' * 1_000_000)\n    i += 1\n",
           0, _disk_full("line 3: open(f'f{i}', 'wb').write(b'x' * 1_000_000)"),
           kind=ErrorKind.DISK),
    Attack("fill the disk with empty files",
           "i = 0\nwhile True:\n    open(f'f{i}', 'w').close()\n    i += 1\n",
           0, _disk_full("line 3: open(f'f{i}', 'w').close()"), kind=ErrorKind.DISK),
    Attack("fill the disk with folders",
           "import os\ni = 0\nwhile True:\n    os.mkdir(f'd{i}')\n    i += 1\n",
           0, _disk_full("line 4: os.mkdir(f'd{i}')"), kind=ErrorKind.DISK),
    Attack("fill the disk inside nested folders",
           "import os\nos.makedirs('a/b/c')\ni = 0\nwhile True:\n"
           "    open(f'a/b/c/f{i}', 'wb').write(b'x' * 500_000)\n    i += 1\n",
           0, _disk_full("line 5: open(f'a/b/c/f{i}', 'wb').write(b'x' * 500_000)"),
           kind=ErrorKind.DISK),
]

# What each isolation level blocks (docs/security.md, "Threat model"): one line per row.
PROBES = {
    "connect over TCP": "socket.socket().connect(('127.0.0.1', 9))",
    "send over UDP": "socket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
                     ".sendto(b'x', ('127.0.0.1', 9))",
    "connect to a UNIX socket": "socket.socket(socket.AF_UNIX).connect({unix!r})",
    "signal the grader": "os.kill(os.getppid(), 0)",
    "signal every process (kill -1)": "os.kill(-1, 0)",
    "read another student's file": "open({bob!r}).read()",
    "write into OUTDIR": "open({out!r} + '/evil.txt', 'w').write('x')",
    "change a file's permission bits": "os.chmod({bob!r}, 0o644)",
    "run a program": "os.execv('/bin/true', ['true'])",
    "start a process": "os.fork()",
}
THREAT_PROBE = Attack(
    "threat model probes",
    _tries("import os, socket", *[
        f"try:\n    {action}\n    print({row!r} + ': allowed')\n"
        f"except (PermissionError, FileNotFoundError, BlockingIOError):\n"
        f"    print({row!r} + ': blocked')\nexcept OSError:\n    print({row!r} + ': allowed')"
        for row, action in PROBES.items()]),
    10, None)
ATTACKS += TEXT_ATTACKS + END_ATTACKS + DISK_ATTACKS


# The box starts without site-packages (python -S): the attack adds them back.
SITE_PACKAGES = """import os, sysconfig
_env = os.path.dirname(os.path.dirname(sys.executable))
for _base in (_env, sys.prefix):
    _paths = sysconfig.get_paths(vars={'base': _base, 'platbase': _base})
    sys.path += [_paths['purelib'], _paths['platlib']]
"""
# Run on every Dask worker by the attack below: every later result there scores 0, and
# its own file's full marks (the forgery passes the client's validation: it is data).
ZERO_OTHERS = """import json
import grader.batch.cluster as cluster
_grade = cluster.GraderPlugin.grade
def forged(self, exercise_id, filename, data, size):
    result, info = _grade(self, exercise_id, filename, data, size)
    forged = json.loads(result)
    if b'PATCHED THE WORKERS' not in data:
        forged['score'] = 0.0
    return json.dumps(forged), info
cluster.GraderPlugin.grade = forged
"""


def dask_takeover(address: str) -> str:
    """A submission that turns the audit hook off, joins the Dask cluster at `address`
    as a client and patches the grading plugin of every worker (then is a solution)."""
    return AUDIT_HOOK_BYPASS + SITE_PACKAGES + f"""try:
    from distributed import Client
    _client = Client({address!r}, timeout=5, set_as_default=False)
    _client.run(exec, {ZERO_OTHERS!r}, {{}})
    _client.close()
    print('PATCHED THE WORKERS')
except BaseException as exc:
    print(type(exc).__name__, exc)
""" + LIBRARY


def attack(name: str) -> Attack:
    return next(a for a in [*ATTACKS, THREAT_PROBE] if a.name == name)


class Layout:
    """A batch-like folder: sibling students, the attacker's folder, out/, sentinels."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.submissions = root / "submissions"
        self.out = root / "out"

    def create(self) -> Layout:
        for student in STUDENTS:
            folder = self.submissions / student
            folder.mkdir(parents=True)
            (folder / FILE).write_text(f"# {student}'s own work\n" + SOLUTION)
        (self.submissions / ATTACKER).mkdir()
        self.out.mkdir()
        (self.out / "grades.csv").write_text("student,exercise-1,total\nalice,10,10\n")
        (self.out / "alice.txt").write_text("exercise-1: 10/10\n")
        return self

    @property
    def paths(self) -> dict[str, str]:
        return {
            "alice": str(self.submissions / "alice" / FILE),
            "bob": str(self.submissions / "bob" / FILE),
            "out": str(self.out),
            "grades": str(self.out / "grades.csv"),
            "solution": str(ROOT / "solutions" / FILE),
            "checks": str(ROOT / "checks" / "exercise_1.py"),
            "course": str(ROOT / "course.yaml"),
            "unix": str(self.root / "bus.sock"),
        }

    def submit(self, a: Attack) -> Path:
        path = self.submissions / ATTACKER / FILE
        text = a.text(self.paths)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return path

    def snapshot(self) -> dict[str, tuple[bytes, int]]:
        """Every file but the attacker's own, with its bytes and mode."""
        files = [p for p in self.root.rglob("*") if ATTACKER not in p.parts]
        files += [Path(self.paths[k]) for k in ("solution", "checks", "course")]
        return {str(p): (p.read_bytes() if p.is_file() else b"", p.stat().st_mode)
                for p in sorted(files)}


def _processes() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, real uid) of every live process, from /proc/*/status.

    Zombies are left out: they run nothing, and reaping orphans is init's job.
    """
    table = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                fields = dict(line.split(":", 1) for line in
                              (proc / "status").read_text().splitlines() if ":" in line)
                if not fields["State"].strip().startswith("Z"):
                    table[int(proc.name)] = (int(fields["PPid"]), int(fields["Uid"].split()[0]))
            except (OSError, KeyError, ValueError):
                continue  # gone meanwhile
    return table


def survivors(sandbox: Any) -> list[int]:
    """Processes left by a sandbox's boxes: a box uid, or below the zygote in the tree."""
    info = sandbox.info
    first, count = int(info.get("uid_base") or 0), int(info.get("uid_range") or 0)
    table = _processes()
    launched = sandbox.process_id
    zygotes = {launched}
    if Path(f"/proc/{launched}/comm").read_text().strip() == "unshare":
        zygotes |= {pid for pid, (parent, _) in table.items() if parent == launched}
    below, frontier = set(), set(zygotes)
    while frontier:
        frontier = {pid for pid, (parent, _) in table.items() if parent in frontier} - below
        below |= frontier
    # The zygote itself (directly or under unshare) is no box; its transient helpers
    # are gone by the time a grading returns.
    below -= zygotes
    return sorted(below | {pid for pid, (_, uid) in table.items() if first <= uid < first + count})


def uid_processes(uid: int) -> set[int]:
    return {pid for pid, (_, owner) in _processes().items() if owner == uid}


def quick_course() -> Any:
    """The shipped course with a short time limit, so loops are caught in seconds."""
    from grader.course import Limits, load_course

    course = load_course(ROOT / "course.yaml")
    return course.model_copy(update={"limits": Limits(time_limit=TIME_LIMIT)})


def grade_attacks(layout: Layout, names: list[str]) -> list[dict[str, Any]]:
    """Grade each named attack from the attacker's folder; results plus what changed."""
    from grader.runner import Grader
    from grader.sandbox.client import Sandbox

    course = quick_course()
    exercise = course.exercise("exercise-1")
    rows = []
    # A UNIX socket of the grader's user, as a session bus would be.
    bus = socket.socket(socket.AF_UNIX)
    bus.bind(layout.paths["unix"])
    bus.listen()
    with bus, Sandbox() as sandbox:
        grader = Grader(course, sandbox)
        for name in names:
            a = attack(name)
            before = layout.snapshot()
            result = grader.grade(exercise, layout.submit(a))
            rows.append({
                "name": name, "score": result.score, "error": result.error,
                "error_kind": result.error_kind, "output": result.output,
                "expected": a.expected(sandbox.isolation, layout.paths),
                "changed": sorted(k for k, v in layout.snapshot().items() if before.get(k) != v),
                "survivors": survivors(sandbox),
                "boxes_left": sorted(os.listdir(sandbox.info["boxes"])),
                "isolation": sandbox.isolation, "weakened": sandbox.weakened,
            })
    os.unlink(layout.paths["unix"])
    return rows


if __name__ == "__main__":
    for row in grade_attacks(Layout(Path(sys.argv[1])), sys.argv[2:]):
        print(json.dumps(row))
