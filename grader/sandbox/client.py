"""The trusted side of the sandbox: start a zygote, ask it for boxes, talk to them.

`Sandbox` owns one zygote process (thread-safe; a batch gives each worker
process a sandbox of its own). Each `Box` is one submission's locked-down
process, with a wall-clock deadline enforced here over every whole frame: a box
that does not answer in time is killed with its whole process group and uid,
whatever it does to its own signal handlers.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from grader.sandbox.ahead import Script, Step, script_for, step
from grader.sandbox.asked import LEVEL_VARIABLE as LEVEL_VARIABLE
from grader.sandbox.asked import PORTABLE as PORTABLE
from grader.sandbox.asked import SandboxError as SandboxError
from grader.sandbox.asked import requested_level as requested_level
from grader.sandbox.codes import CONFINE_FAILED, HOST_BROKEN, READY
from grader.sandbox.launch import Launched, adopt, isolation_level, zygote_environment
from grader.sandbox.launch import launch_commands as launch_commands
from grader.sandbox.launch import which as which
from grader.sandbox.trees import remove_tree

# A learner's zygote is spawned before this module imports (sandbox/launch.py), but
# what it imports is still on the main process's way to its first box: the messages'
# types are for checking only, and the frames' and texts' modules are imported by the
# first box's request, subprocess by a launch of our own.
if TYPE_CHECKING:
    import subprocess  # a learner's zygote is launched without it (sandbox/launch.py)

    # A TypeVar bound to a class named as text builds a ForwardRef at import, whose
    # compile() sets up the parser: 1.3 ms of a learner's run (Self is 3.11's).
    from typing_extensions import Self

    from grader.sandbox.channel import (
        BoxInfo,
        BoxLimits,
        BoxStatus,
        CleanupRequest,
        Hello,
        Isolation,
        LearnerErrorInfo,
        Reply,
        SandboxInfo,
        SpawnRequest,
    )

    # The zygote's process: started here, or launched as the command began (`launch`).
    Zygote = subprocess.Popen[bytes] | Launched

GRACE = 1.0  # seconds past the deadline the host's own alarm gets before we kill
FULL_ISOLATION = ("chroot", "network", "pid_namespace", "seccomp")
SIGKILL, SIGSEGV, SIGXCPU = 9, 11, 24


class StopReason(str, Enum):
    """Why a box stopped answering."""

    TIMEOUT = "timeout"    # past its wall-clock deadline, or its CPU rlimit (`limit` says)
    EXIT = "exit"          # it ended its own process: os._exit (`detail`: "os._exit(3)")
    #                        or a signal it sent itself (`detail`: "SIGKILL, signal 9")
    SEGFAULT = "segfault"  # the interpreter crashed
    CRASH = "crash"        # its channel closed for another reason (killed, out of memory)
    PROTOCOL = "protocol"  # it wrote something on the channel that is not a reply
    DISK = "disk"          # killed by its zygote for writing past its disk budget


class BoxStopped(Exception):
    """A box stopped answering: it ran out of time, crashed, or broke the protocol.

    `limit` names the limit a timeout hit, "time_limit" (wall clock) or "cpu_seconds",
    and `value` is that limit's value; `seconds` is the submission's wall-clock time
    limit, which the learner's sentence names whichever limit was hit (None: untimed).
    An EXIT carries the `exit_code` of os._exit, or else the `signal` it sent itself.
    """

    def __init__(self, reason: StopReason, detail: str = "", line: int | None = None,
                 limit: str | None = None, exit_code: int | None = None,
                 signal: str | None = None, value: float | None = None,
                 seconds: float | None = None) -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail
        self.line = line
        self.limit = limit or ("time_limit" if reason is StopReason.TIMEOUT else None)
        self.value = seconds if value is None and self.limit == "time_limit" else value
        self.seconds = seconds
        self.exit_code = exit_code
        self.signal = signal

    @classmethod
    def timeout(cls, seconds: float | None, line: object = None) -> BoxStopped:
        """Past the wall-clock `seconds` a submission had (the host's alarm, or ours)."""
        return cls(StopReason.TIMEOUT, line=line if isinstance(line, int) else None,
                   seconds=seconds)


def stop_from_status(status: BoxStatus, stopped: BoxStopped,
                     cpu_limit: float = float("inf"),
                     seconds: float | None = None) -> BoxStopped:
    """Name what really ended a box, from the exit status its zygote reported.

    The same end gets the same name at every isolation level: the zygote waits for a
    box that hung up to finish exiting, so `killed` means "we had to kill it", and
    the CPU time it used tells the CPU limit's SIGKILL from one it sent itself.
    """
    if status.get("disk"):
        return BoxStopped(StopReason.DISK)  # killed for its disk use, however it looked
    if stopped.reason is not StopReason.CRASH:
        return stopped
    signal_number = status.get("signal")
    killed = bool(status.get("killed"))
    at_cpu_limit = float(status.get("cpu") or 0) >= cpu_limit - 0.05
    if signal_number == SIGXCPU or (signal_number == SIGKILL and not killed and at_cpu_limit):
        # the CPU rlimit: soft SIGXCPU, then SIGKILL
        return BoxStopped(StopReason.TIMEOUT, "cpu", limit="cpu_seconds", value=cpu_limit,
                          seconds=seconds)
    if signal_number == SIGSEGV:
        return BoxStopped(StopReason.SEGFAULT)
    if killed or status.get("exit") == HOST_BROKEN:
        # alive after closing its channel, or its host broken: learner code did it
        return BoxStopped(StopReason.PROTOCOL, "closed or broke its channel")
    if isinstance(signal_number, int):  # it sent itself a signal (os.kill, os.abort)
        name = signal_name(signal_number)
        return BoxStopped(StopReason.EXIT, name, signal=name)
    if "exit" in status:
        code = int(status["exit"])
        return BoxStopped(StopReason.EXIT, f"os._exit({code})", exit_code=code)
    return stopped


def signal_name(number: int) -> str:
    """"SIGKILL, signal 9": how a learner can look it up."""
    try:
        return f"{signal.Signals(number).name}, signal {number}"
    except ValueError:
        return f"signal {number}"



class SandboxBackend(Protocol):
    """What every sandbox offers (the Linux `Sandbox`, `portable.PortableSandbox`):
    a start (now, or in the background), boxes of the same `Box`, their cleanup, and
    what it can isolate."""

    isolation: Isolation
    info: SandboxInfo
    generation: int

    @property
    def weakened(self) -> list[str]: ...
    @property
    def process_id(self) -> int | None: ...
    def start(self) -> None: ...
    def start_soon(self) -> None: ...
    def ready(self) -> None: ...
    def close(self) -> None: ...
    def close_to_leave(self) -> None: ...
    def __enter__(self) -> SandboxBackend: ...
    def __exit__(self, *exc: object) -> None: ...
    def box(self, limits: BoxLimits, seconds: float,
            modules: list[str] | None = None) -> Box: ...
    def cleanup(self, pid: int, box: str, uid: int | None, generation: int,
                hung_up: bool = False) -> BoxStatus: ...


class Booting:
    """What both sandboxes share: their state, `with`, and a start in the background."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.isolation: Isolation = {}
        # the zygote's pid, uid range and box folder ("" until it starts)
        self.info: SandboxInfo = {"pid": None, "uid_base": 0, "uid_range": 0, "boxes": ""}
        self.generation = 0  # bumped per start: a box belongs to one zygote only
        self._booting: threading.Thread | None = None
        self._boot_error: SandboxError | None = None

    def start(self) -> None:
        raise NotImplementedError

    def launch_now(self) -> None:
        """What `start_soon` does before its thread: nothing, unless a sandbox says."""

    def close(self) -> None:
        raise NotImplementedError

    def close_to_leave(self) -> None:
        """Close just before this process ends (a learner's command): see Sandbox's."""
        self.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def weakened(self) -> list[str]:
        """The isolation measures this machine would not allow."""
        return [name for name in FULL_ISOLATION if not self.isolation.get(name)]

    def start_soon(self) -> None:
        """Start the zygote in the background; the first box (or `ready`) waits for it.

        Booting a zygote is a fresh interpreter's start-up: a learner's command overlaps
        it with importing the checks instead of paying for both in turn.
        """
        def boot() -> None:
            try:
                self.start()
            except SandboxError as exc:
                self._boot_error = exc

        self.launch_now()
        self._booting = threading.Thread(target=boot, name="zygote-boot", daemon=True)
        self._booting.start()

    def ready(self) -> None:
        """Wait for a zygote started with `start_soon`; raise why it could not start."""
        if self._booting is not None:
            self._booting.join()
            self._booting = None
        if self._boot_error is not None:
            error, self._boot_error = self._boot_error, None
            raise error

    def ready_quietly(self) -> None:
        """Wait for a background start to end, whatever its outcome (closing needs that)."""
        try:
            self.ready()
        except SandboxError:
            pass


class Sandbox(Booting):
    """One zygote and the boxes it forks; a zygote that dies is restarted."""

    def __init__(self) -> None:
        super().__init__()
        self._process: Zygote | None = None
        self._control: socket.socket | None = None
        # the first way's zygote, launched by `launch_now` and greeted by `start`
        self._launched: tuple[Zygote, socket.socket] | None = None

    def launch_now(self) -> None:
        """Launch the zygote in the calling thread, for `start` to greet in the boot
        thread: a thread's first run waits for the interpreter's lock (up to a switch
        interval, 5 ms) while the main thread imports, and the boot is the longest step."""
        try:
            self._launched = self._launch(isolation_level(), 0)
        except (SandboxError, OSError):  # said, or tried again, by `start`
            self._launched = None

    def adopt_launched(self, launched: Launched) -> None:
        """Take a zygote `launch.launch` started (batch/early.py, as the command began),
        for `start` to greet, as if `launch_now` had."""
        self._launched = (launched, socket.socket(fileno=launched.control))

    @property
    def launched_process(self) -> Zygote | None:
        """The zygote `launch_now` started and `start` has not greeted yet, if any."""
        return self._launched[0] if self._launched is not None else None

    def drop_launched(self) -> None:
        """Close our end of a launched, ungreeted zygote's control socket (it then
        ends): a copy of this sandbox in another process owns it."""
        launched, self._launched = self._launched, None
        if launched is not None:
            launched[1].close()

    @staticmethod
    def _launch(level: str, attempt: int) -> tuple[Zygote, socket.socket]:
        """Start the zygote the `attempt`-th way (`launch_commands`); it and our end of
        its control socket. The first way's may have been launched already, when the
        command began (`launch.launch_early`): then it is taken as it is."""
        early = adopt(level) if attempt == 0 else None
        if early is not None:
            return early, socket.socket(fileno=early.control)
        import subprocess  # here: a learner's command adopts the zygote launch.py started

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            command = launch_commands(theirs.fileno(), level)[attempt]
            try:
                process = subprocess.Popen(
                    command, pass_fds=[theirs.fileno()], env=zygote_environment(), cwd="/",
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            except BaseException:
                ours.close()
                raise
        return process, ours

    def start(self) -> None:
        level = isolation_level()
        attempts = len(launch_commands(0, level))
        for attempt in range(attempts):
            launched, self._launched = self._launched, None
            process, ours = launched if launched and attempt == 0 else self._launch(
                level, attempt)
            if self._greet(process, ours):
                return
            process.kill()
            process.wait()
            ours.close()
        raise SandboxError("could not start the sandbox's zygote process")

    def _greet(self, process: Zygote, ours: socket.socket) -> bool:
        """Wait for a launched zygote's hello and take it on; False if it said none."""
        ours.settimeout(20)
        try:
            hello = json.loads(ours.recv(1 << 16) or b"{}")
        except (OSError, ValueError):
            hello = {}
        if "hello" not in hello:
            return False
        ours.settimeout(None)
        self._process, self._control = process, ours
        said = cast("Hello", hello)
        self.isolation = said["hello"]
        self.info = {"pid": said["pid"], "uid_base": said["uid_base"],
                     "uid_range": said["uid_range"], "boxes": said["boxes"]}
        self.generation += 1
        return True

    def close_to_leave(self) -> None:
        """Close without waiting for the zygote to end, when this process ends at once
        (a learner's command, then `os._exit`). Its boxes were cleaned up and reaped
        already; the control socket's close is what makes it remove its empty folder
        and exit, which it then does while this process exits (the wait would only
        watch its teardown). A zygote that cannot say hello or died is closed as usual."""
        self.ready_quietly()
        if self._control is None or self._process is None:
            self.close()
            return
        self._control.close()
        self._control = None
        self._process = None

    def close(self) -> None:
        self.ready_quietly()
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._process is not None:
            import subprocess  # for TimeoutExpired (a launched zygote's wait raises it too)

            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        # A killed zygote cannot remove its box folder itself (one that ended did).
        folder = Path(self.info["boxes"])
        if folder.name.startswith("grade-boxes-") and os.path.lexists(folder):
            import tempfile  # here: shutil, random and hashes, needed only now

            home = Path(zygote_environment().get("TMPDIR") or tempfile.gettempdir())
            if folder.parent == home:
                remove_tree(str(folder))

    @property
    def process_id(self) -> int | None:
        """The pid of the process started for the zygote (unshare's, or the zygote's)."""
        return self._process.pid if self._process is not None else None

    def _ask(self, request: SpawnRequest | CleanupRequest,
             fds: int = 0) -> tuple[dict[str, Any], list[int]]:
        """Send the zygote `request`; its answer (the raw JSON) and the descriptors sent."""
        if self._control is None:
            raise SandboxError("the sandbox is not running")
        try:
            self._control.send(json.dumps(request).encode())
            data, received, _, _ = socket.recv_fds(self._control, 1 << 16, fds)
        except OSError as exc:
            raise SandboxError(f"the sandbox's zygote is gone ({exc})") from None
        if not data:
            raise SandboxError("the sandbox's zygote is gone")
        return json.loads(data), received

    def box(self, limits: BoxLimits, seconds: float,
            modules: list[str] | None = None) -> Box:
        """A fresh box for one submission, with `seconds` of wall-clock time in all,
        that can import the on-demand `modules` (None: every one; see `Boxes`).

        A dead zygote (killed, or crashed) is replaced first: one lost zygote
        costs at most the submission that was running, never the batch.
        """
        self.ready()
        request: SpawnRequest = {"op": "spawn", "limits": limits, "modules": modules}
        with self._lock:
            try:
                reply, fds = self._ask(request, fds=1)
            except SandboxError:
                self.close()
                self.start()
                reply, fds = self._ask(request, fds=1)
            info: BoxInfo = {"pid": reply["pid"], "box": reply["box"], "uid": reply["uid"],
                             "generation": self.generation}
        channel = socket.socket(fileno=fds[0])
        return Box(self, channel, info, seconds, limits["output_chars"],
                   float(limits["cpu_seconds"]))

    def cleanup(self, pid: int, box: str, uid: int | None, generation: int,
                hung_up: bool = False) -> BoxStatus:
        """Kill a box and everything it started; returns how it ended.

        `hung_up`: the box closed its channel, so it is probably exiting on its own.
        """
        with self._lock:
            if generation != self.generation:  # its zygote died, and the box with it
                raise SandboxError("its zygote process died")
            request: CleanupRequest = {"op": "cleanup", "pid": pid, "box": box, "uid": uid,
                                       "hung_up": hung_up}
            return cast("BoxStatus", self._ask(request)[0])


def _bounded_error(error: dict[str, Any]) -> LearnerErrorInfo:
    """A box's error report with every text field capped: learner code chose them all
    (an exception class may be named with 8 MB of text)."""
    from grader import learner_text as lt  # see the imports: off the zygote's way

    limits = {"type": lt.NAME_CHARS, "kind": lt.NAME_CHARS}
    return cast("LearnerErrorInfo", {
        key: lt.cut(value, limits.get(key, lt.BOX_MESSAGE_CHARS)) if isinstance(value, str)
        else value for key, value in error.items()})


class Box:
    """One submission's process: send requests, get replies, or a `BoxStopped`."""

    def __init__(self, sandbox: SandboxBackend, channel: socket.socket, info: BoxInfo,
                 seconds: float, output_limit: int = 20_000,
                 cpu_limit: float = float("inf")) -> None:
        self._sandbox = sandbox
        self._channel = channel
        self._info = info
        self._seconds = seconds  # the submission's time limit, for the stop's sentence
        self._deadline = time.monotonic() + seconds
        self._next_id = 0
        self._room = output_limit  # characters of output still shown, over all requests
        self._output_limit = output_limit
        self._cpu_limit = cpu_limit
        self.output: list[str] = []
        self.stopped: BoxStopped | None = None
        self.status: BoxStatus = {}
        self._ready = False  # the box said it locked itself down (its first frame)
        # gets it answered ahead (`ahead.Script`): (name, reply), in the order asked
        self._ahead: list[tuple[str, dict[str, Any]]] = []
        self._steps: list[Step] = []  # what this box was asked, in order
        self._script: Script | None = None  # set by its load

    def __enter__(self) -> Box:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _keep_output(self, text: str) -> None:
        if self._room > 0:
            self.output.append(text[: self._room])
            if len(text) > self._room:
                self.output.append("\n[... more output not shown]")
        self._room -= len(text)

    def request(self, op: str, **fields: Any) -> Reply:
        # see the imports: off the zygote's way (`import a.b as c`, unlike `from a
        # import b`, runs no importlib code in Python once the module is loaded)
        import grader.sandbox.protocol as protocol

        if self.stopped:
            raise self.stopped
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise self._stop(BoxStopped.timeout(self._seconds))
        asked = step(op, fields)
        if self._ahead:  # answered with the last request: taken as if asked now
            name, answer = self._ahead.pop(0)
            if asked == ("get", name) and not fields.keys() - {"name"}:
                self._steps.append(asked)
                self._next_id += 1
                return self._checked(answer)
            self._ahead = []  # the checks went another way: ask as usual from here on
        if op == "load":
            self._script = script_for(fields.get("filename"))
        then = self._script.next_gets(self._steps, asked) if self._script else []
        self._steps.append(asked)
        self._next_id += 1
        message = {"op": op, "id": self._next_id, "seconds": remaining, **fields}
        if then:
            message["then"] = [{"op": "get", "name": name} for name in then]
        deadline = self._deadline + GRACE
        self._channel.settimeout(remaining + GRACE)
        try:
            protocol.send(self._channel, message)
            if not self._ready:
                self._ready = protocol.recv(self._channel, deadline) == READY
            reply = protocol.recv(self._channel, deadline)
        except TimeoutError:
            raise self._stop(BoxStopped.timeout(self._seconds)) from None
        except (protocol.ConnectionClosed, OSError) as exc:
            raise self._stop(BoxStopped(StopReason.CRASH, str(exc))) from None
        except protocol.ProtocolError as exc:  # a malformed frame: learner code wrote it
            raise self._stop(BoxStopped(StopReason.PROTOCOL, str(exc))) from None
        answered = reply.pop("then", None)
        checked = self._checked(reply)
        if then and isinstance(answered, list) and len(answered) <= len(then):
            for name, answer in zip(then, answered):
                if not isinstance(answer, dict):
                    break  # a box's data: what follows it would be answered out of turn
                self._ahead.append((name, answer))
        return checked

    def _checked(self, reply: dict[str, Any]) -> Reply:
        """`reply`, if it answers the request just made, its texts capped and its output
        kept; else (or for a timeout) the box is stopped."""
        import grader.learner_text as lt
        import grader.sandbox.protocol as protocol

        if reply.get("id") != self._next_id or not self._ready:
            raise self._stop(BoxStopped(StopReason.PROTOCOL, "a reply that was not asked for"))
        if not isinstance(reply.get("error", {}), dict):
            raise self._stop(BoxStopped(StopReason.PROTOCOL, "a malformed error"))
        if "draws" in reply:  # a call's results, as the host writes draws (host._draws)
            results = protocol.expand_draws(reply.pop("draws"))
            if results is None:
                raise self._stop(BoxStopped(StopReason.PROTOCOL, "malformed draws"))
            reply["results"] = results
        if "error" in reply:
            reply["error"] = _bounded_error(reply["error"])
        if isinstance(reply.get("stdout"), str) and reply["stdout"]:
            self._keep_output(reply["stdout"])
            reply["stdout"] = lt.cut(reply["stdout"], self._output_limit)
        error = reply.get("error")
        if isinstance(error, dict) and error.get("kind") == "timeout":
            raise self._stop(BoxStopped.timeout(self._seconds, error.get("line")))
        return cast("Reply", reply)

    def _stop(self, stopped: BoxStopped) -> BoxStopped | SandboxError:
        """Close the box, then name what stopped it (the exit status tells)."""
        self.close(hung_up=stopped.reason is StopReason.CRASH)
        if self.status.get("exit") == CONFINE_FAILED and not self._ready:
            return SandboxError("a box could not lock itself down")
        if not self.status:
            return SandboxError("its zygote process died")
        self.stopped = stop_from_status(self.status, stopped, self._cpu_limit, self._seconds)
        return self.stopped

    def close(self, hung_up: bool = False) -> None:
        """Kill the box (idempotent). Never raises: a dead zygote took its boxes along."""
        if self._channel.fileno() == -1:
            return
        self._channel.close()
        if self._script is not None:  # the next box of this file name follows these
            self._script.last, self._steps = self._steps, []
        try:
            self.status = self._sandbox.cleanup(self._info["pid"], self._info["box"],
                                                self._info["uid"], self._info["generation"],
                                                hung_up)
        except SandboxError:
            self.status = {}
