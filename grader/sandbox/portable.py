"""The `portable` isolation level: one spawned Python process per box, on any OS.

Where the Linux sandbox cannot run (macOS, Windows, no `fork`), or when
``GRADE_SANDBOX=portable`` forces it, each submission runs in a fresh
interpreter started with `subprocess` (never `fork`), in an empty temporary
folder, speaking the same frames as a Linux box (`protocol`, `host`) over a
loopback socket. The trusted side keeps what matters for a fair verdict: the
wall-clock deadline over every whole frame, killing what the box started (a
cgroup of its own on Linux where the grader may make one; else its process group
and session on POSIX; a Job Object on Windows), and verdicts computed here from
data. What it cannot give is containment: see `portable_box`.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox import protocol, winjob
from grader.sandbox.cgroup import Cgroup
from grader.sandbox.channel import BoxInfo, BoxLimits, BoxStatus, LimitsFrame, SandboxInfo
from grader.sandbox.client import Booting, Box, SandboxError, requested_level
from grader.sandbox.zygote import HANG_UP_WAIT, remove_tree

STARTUP = 30.0  # seconds a box process may take to start on a loaded machine
LOOPBACK = "127.0.0.1"
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
_BOOT = (
    "import sys; sys.path[:] = [p for p in sys.path if p]; "
    "sys.path.insert(0, sys.argv.pop(1)); "
    "from grader.sandbox.portable_box import main; main()"
)
WINDOWS = sys.platform == "win32"
CREATE_NO_WINDOW = 0x08000000  # no console window flashing up per box (Jupyter, pythonw)
SIGSEGV = 11


def box_environment() -> dict[str, str]:
    """What a box process starts with (it empties it before learner code runs)."""
    env = {"PATH": os.defpath, "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    if WINDOWS:  # Windows' socket layer cannot start without it
        env["SYSTEMROOT"] = os.environ.get("SYSTEMROOT", r"C:\Windows")
    return env


def status_of(returncode: int, killed: bool, cpu: float) -> BoxStatus:
    """How a box ended, in the zygote's terms (`client.stop_from_status` reads them).

    No "disk" flag: the portable box has no disk budget (docs/portability.md says so).
    """
    if returncode < 0:  # POSIX: killed by a signal
        ended = BoxStatus(signal=-returncode)
    elif WINDOWS and returncode in winjob.CRASHES:
        ended = BoxStatus(signal=SIGSEGV)
    else:
        ended = BoxStatus(exit=returncode)
    return {**ended, "killed": killed, "cpu": round(cpu, 3)}


def running(process: subprocess.Popen[bytes]) -> bool:
    """Whether a box process still runs. On POSIX it is not collected here (waitid with
    WNOWAIT): its pid, and so its process group, stay ours until it is killed."""
    if os.name != "posix" or not hasattr(os, "waitid"):
        return process.poll() is None
    try:
        return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
    except ChildProcessError:
        return False


def wait_for(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    """Collect an ended (or killed) box process: its return code and the CPU seconds it
    used (POSIX only: a SIGKILL at the CPU rlimit is the limit, not the learner)."""
    try:
        import resource  # noqa: F401  (os.wait4 needs it for its usage, after reaping)
    except ImportError:  # Windows (and no os.wait4 either)
        return process.wait(), 0.0
    try:
        _, status, usage = os.wait4(process.pid, 0)
    except ChildProcessError:  # collected already
        return process.wait(), 0.0
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_utime + usage.ru_stime


@dataclass
class Spawned:
    """A box process that was started and has not connected yet (or is being graded)."""

    process: subprocess.Popen[bytes]
    listener: socket.socket
    token: str
    folder: str
    job: winjob.Job | None = None
    cgroup: Cgroup | None = None

    def kill(self) -> None:
        """Kill the box and everything it started; never raises.

        Learner code that turned the audit hook off can fork as root (RLIMIT_NPROC
        binds no root) and leave the box's group and session with `setsid`: only the
        cgroup (Linux) and the Job Object (Windows) hold such a daemon.
        """
        if self.job is not None:
            self.job.close()
        elif os.name == "posix":
            with contextlib.suppress(OSError):
                os.killpg(self.process.pid, signal.SIGKILL)  # its group, grandchildren too
            kill_session(self.process.pid)  # a child that left the group, not the session
        if self.cgroup is not None:
            self.cgroup.remove()
        with contextlib.suppress(OSError):
            self.process.kill()
        self.listener.close()


def kill_session(session: int) -> None:
    """SIGKILL every process of `session` (the box leads its own), where /proc lists them."""
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return  # macOS and the BSDs: the process group is what is killed there
    for pid in pids:
        with contextlib.suppress(OSError):
            if pid != session and os.getsid(pid) == session:
                os.kill(pid, signal.SIGKILL)


def box_cgroup(pid: int) -> Cgroup | None:
    """A cgroup holding the box process `pid`, or None where none can be made."""
    cgroup = Cgroup.create(f"grade-box-{os.getpid()}-{pid}")
    if cgroup is not None and not cgroup.add(pid):
        cgroup.remove()
        return None
    return cgroup


class PortableSandbox(Booting):
    """Boxes as spawned processes: the Linux `Sandbox`'s sibling, with the same `box()`
    and `Box` (both are `client.SandboxBackend`s).

    From the second box on, the next process is started while the current one is
    graded, so a batch does not wait for an interpreter to start per submission.
    """

    def __init__(self) -> None:
        super().__init__()
        self._spare: Spawned | None = None
        self._live: dict[int, Spawned] = {}
        self._boxes_made = 0
        self.base = ""

    def start(self) -> None:
        requested_level()  # an unknown $GRADE_SANDBOX is refused here, as by the zygote
        self.base = tempfile.mkdtemp(prefix="grade-boxes-")
        self.isolation = {
            "level": "portable", "chroot": False, "setuid": False, "network": False,
            "pid_namespace": False, "user_namespace": False, "landlock": 0, "seccomp": False,
            "disk": "none",  # no disk budget: see docs/portability.md
            "rlimits": not WINDOWS, "job_object": WINDOWS, "audit_hook": True,
        }
        self.info = SandboxInfo(pid=None, boxes=self.base, uid_base=0, uid_range=0)
        self.generation += 1
        self._spare = self._spawn()  # starts while the course and checks are read

    def close(self) -> None:
        self.ready_quietly()  # a start_soon() still booting
        with self._lock:
            for spawned in [*self._live.values(), *([self._spare] if self._spare else [])]:
                spawned.kill()
                spawned.process.wait()
            self._live.clear()
            self._spare = None
        if self.base:
            remove_tree(self.base)

    @property
    def process_id(self) -> int | None:
        return None  # no zygote: each box is its own process

    @property
    def spares(self) -> list[Spawned]:
        """The box process started ahead for the next submission, if any."""
        with self._lock:
            return [self._spare] if self._spare else []

    def _spawn(self) -> Spawned:
        if not self.base:
            raise SandboxError("the sandbox is not running")
        listener = socket.create_server((LOOPBACK, 0))
        token = secrets.token_hex(16)
        folder = tempfile.mkdtemp(prefix="box-", dir=self.base)
        command = [sys.executable, "-s", "-S", "-c", _BOOT, _PACKAGE_ROOT, LOOPBACK,
                   str(listener.getsockname()[1])]
        try:
            process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, cwd=folder, env=box_environment(),
                # no console per box on Windows; a session of its own on POSIX
                creationflags=CREATE_NO_WINDOW if WINDOWS else 0, start_new_session=not WINDOWS)
            assert process.stdin is not None
            process.stdin.write(token.encode() + b"\n")  # not argv: others can read that
            process.stdin.close()
        except OSError as exc:
            listener.close()
            raise SandboxError(f"could not start a box process ({exc})") from None
        return Spawned(process, listener, token, folder)

    def _connect(self, spawned: Spawned) -> socket.socket:
        """The box's channel, once it has connected back with its token."""
        deadline = time.monotonic() + STARTUP
        spawned.listener.settimeout(0.1)
        while time.monotonic() < deadline:
            if spawned.process.poll() is not None:
                raise SandboxError("a box process ended before it connected")
            try:
                channel, _ = spawned.listener.accept()
            except TimeoutError:
                continue
            try:
                channel.settimeout(max(0.1, deadline - time.monotonic()))
                said = channel.recv(len(spawned.token) + 1)
            except OSError:
                said = b""
            if hmac.compare_digest(said, spawned.token.encode() + b"\n"):
                channel.settimeout(None)
                channel.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                spawned.listener.close()
                return channel
            channel.close()  # someone else on this machine: not our box
        raise SandboxError(f"a box process did not start within {STARTUP:g} s")

    def box(self, limits: BoxLimits, seconds: float,
            modules: list[str] | None = None) -> Box:
        """A fresh box process for one submission, with `seconds` of wall-clock time (it
        imports from the disk: `modules` need no loading ahead)."""
        with self._lock:
            spawned = self._spare or self._spawn()
            self._spare = self._spawn() if self._boxes_made else None
            self._boxes_made += 1
            self._live[spawned.process.pid] = spawned
        try:
            try:
                channel = self._connect(spawned)
            except SandboxError:  # a process started ahead may have died waiting: once more
                self.cleanup(spawned.process.pid, spawned.folder, None, self.generation)
                spawned = self._spawn()
                with self._lock:
                    self._live[spawned.process.pid] = spawned
                channel = self._connect(spawned)
            if WINDOWS:  # before the limits frame: no learner code runs outside the job
                spawned.job = winjob.Job(int(spawned.process._handle),  # type: ignore[attr-defined]
                                         limits)
            elif sys.platform.startswith("linux"):  # the same, for a cgroup
                spawned.cgroup = box_cgroup(spawned.process.pid)
            protocol.send(channel, LimitsFrame(limits=limits))
        except (OSError, SandboxError) as exc:
            self.cleanup(spawned.process.pid, spawned.folder, None, self.generation)
            raise exc if isinstance(exc, SandboxError) else SandboxError(str(exc)) from None
        info = BoxInfo(pid=spawned.process.pid, box=spawned.folder, uid=None,
                       generation=self.generation)
        return Box(self, channel, info, seconds, limits["output_chars"],
                   float(limits["cpu_seconds"]))

    def cleanup(self, pid: int, box: str, uid: int | None, generation: int,
                hung_up: bool = False) -> BoxStatus:
        """Kill a box's process tree, remove its folder; returns how it ended.

        `hung_up`: the box closed its channel, so it is probably exiting on its own:
        it gets `HANG_UP_WAIT` to do so, and `killed` then means "we had to".
        """
        with self._lock:
            spawned = self._live.pop(pid, None)
        if spawned is None:
            return {"done": pid}
        give_up = time.monotonic() + (HANG_UP_WAIT if hung_up else 0)
        while running(spawned.process) and time.monotonic() < give_up:
            time.sleep(0.01)
        killed = running(spawned.process)
        spawned.kill()
        returncode, cpu = wait_for(spawned.process)
        remove_tree(spawned.folder)
        return {"done": pid, **status_of(returncode, killed, cpu)}
