"""Launch the sandbox's zygote with nothing imported but `os`: a learner's command does it first.

The zygote's boot (a fresh interpreter, its preloads) is the longest step of a learner's
run, and the grader's own imports before a `subprocess.Popen` (subprocess, socket,
threading, the models' typing, json) cost a quarter of it. `launch_early` spawns the
zygote exactly as `Sandbox` would (the same command, environment, cwd "/", stdio on
/dev/null, no descriptor but its control socket) before anything else imports;
the first `Sandbox` of the process adopts it (`adopt`), and one nobody adopts is
closed at the end of the command (`discard`).
"""

from __future__ import annotations

import os
import sys

from grader.sandbox.asked import (
    LEVEL_VARIABLE,
    LINUX_LEVELS,
    PORTABLE,
    SandboxError,
    requested_level,
)

_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
# Not -I: that would ignore PYTHONHASHSEED. -s -S and an environment we write
# ourselves do the same isolating; the first thing run drops '' (the cwd) from
# sys.path so nothing in the grader's folder can shadow a module.
# The collector is off while the zygote boots (zygote.py's `main` says why and turns it
# on for its boxes), from the first import on.
_BOOT = (
    "import gc; gc.disable(); import sys; sys.path[:] = [p for p in sys.path if p]; "
    "sys.path.insert(0, sys.argv.pop(1)); "
    "from grader.sandbox.zygote import main; main()"
)
# A fixed hash seed: learner code that iterates a set prints the same in every box.
_ZYGOTE_ENV = {"PATH": os.defpath, "PYTHONHASHSEED": "0"}
_AF_UNIX, _SOCK_SEQPACKET = 1, 5  # <sys/socket.h> on Linux: `socket` imports enum


def zygote_environment() -> dict[str, str]:
    """The zygote's whole environment: ours, plus TMPDIR (where box folders go) if set."""
    tmpdir = os.environ.get("TMPDIR")
    return {**_ZYGOTE_ENV, "TMPDIR": tmpdir} if tmpdir else dict(_ZYGOTE_ENV)


def isolation_level() -> str:
    """The level asked for in $GRADE_SANDBOX (see `zygote.LEVELS`)."""
    level = os.environ.get(LEVEL_VARIABLE, "full") or "full"
    if level not in LINUX_LEVELS:
        raise SandboxError(f"{LEVEL_VARIABLE}={level!r} is not one of "
                           f"{', '.join(LINUX_LEVELS)}")
    return level


def linux_sandbox_runs() -> bool:
    """Whether this interpreter has what the Linux sandbox's zygote and boxes use."""
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    try:
        import fcntl  # noqa: F401
        import resource  # noqa: F401
    except ImportError:
        return False
    return True


def portable_here() -> bool:
    """Whether `make_sandbox` gives the portable box (forced, or no Linux sandbox here).

    An unknown $GRADE_SANDBOX is said when a sandbox starts (a skeleton never starts one).
    """
    try:
        forced = requested_level() == PORTABLE
    except SandboxError:
        forced = False
    return forced or not linux_sandbox_runs()


def which(name: str) -> str | None:
    """`shutil.which` for a plain name, without importing shutil (and its archive formats)."""
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        path = os.path.join(folder or ".", name)
        if os.access(path, os.X_OK) and not os.path.isdir(path):
            return path
    return None


def launch_commands(fd: int, level: str = "full") -> list[list[str]]:
    """Ways to start the zygote, strongest isolation first."""
    python = [sys.executable, "-s", "-S", "-c", _BOOT, _PACKAGE_ROOT, str(fd), level]
    unshare = which("unshare")
    if not unshare or level != "full":
        return [python]
    namespaces = [unshare, "--net", "--pid", "--fork", "--kill-child"]
    if os.geteuid() != 0:
        namespaces[1:1] = ["--user", "--map-root-user"]
    return [namespaces + python, python]


class Launched:
    """A zygote process `launch` started: what `Sandbox` uses of a `subprocess.Popen`
    (its pid, `kill`, `wait`), and our end of its control socket (a descriptor)."""

    def __init__(self, pid: int, control: int, level: str,
                 environment: dict[str, str]) -> None:
        self.pid = pid
        self.control = control
        self.level = level  # what it was launched for: adopted only by the same
        self.environment = environment
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self._reaped(os.WNOHANG)
        return self.returncode

    def _reaped(self, options: int) -> None:
        try:
            pid, status = os.waitpid(self.pid, options)
        except ChildProcessError:  # reaped elsewhere: as subprocess says it
            self.returncode = 0
            return
        if pid == self.pid:
            self.returncode = os.waitstatus_to_exitcode(status)

    def wait(self, timeout: float | None = None) -> int:
        """Its exit status once it ended (subprocess.TimeoutExpired past `timeout`)."""
        if timeout is None:
            while self.returncode is None:
                self._reaped(0)
            return self.returncode
        import time

        end, delay = time.monotonic() + timeout, 0.0005
        while self.poll() is None:
            left = end - time.monotonic()
            if left <= 0:
                import subprocess

                raise subprocess.TimeoutExpired(["zygote"], timeout)
            time.sleep(min(delay, left))
            delay = min(delay * 2, 0.05)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, 9)  # SIGKILL: `signal` imports enum


def _above_stdio(fd: int) -> int:
    """`fd`, moved above 0-2 if it landed there (this process's stdio was closed): the
    child's stdio becomes /dev/null."""
    if fd > 2:
        return fd
    import fcntl

    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    os.close(fd)
    return moved


def _inherited(keep: int) -> list[int]:
    """Our descriptors above stdio that a child would inherit, `keep` aside (Python's own
    close on exec; one a caller of grade left open would not)."""
    found = []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd != keep:
            try:
                if os.get_inheritable(fd):
                    found.append(fd)
            except OSError:  # listdir's own, closed by now
                pass
    return found


def launch(level: str) -> Launched:
    """Start the zygote the first way (`launch_commands`) as `Sandbox._launch` does with
    subprocess (stdio on /dev/null, cwd "/", no descriptor but the control socket,
    SIGPIPE and SIGXFSZ as a new process has them), by `posix_spawn`: no fork of this
    process (whose pages every later write would then copy), no Python in the child.

    posix_spawn cannot change the child's folder: this process steps into "/" for the
    spawn and back to where it was (by descriptor, so a renamed folder is no matter).
    It is single-threaded here, as a command begins."""
    import _signal  # type: ignore[import-not-found]  # no stub; `signal` imports enum
    import _socket

    ours_socket, theirs_socket = _socket.socketpair(_AF_UNIX, _SOCK_SEQPACKET)
    ours, theirs = ours_socket.detach(), _above_stdio(theirs_socket.detach())
    try:
        null = _above_stdio(os.open(os.devnull, os.O_RDWR))
        try:
            command = launch_commands(theirs, level)[0]
            environment = zygote_environment()
            actions: list[tuple[int, int] | tuple[int, int, int]] = [
                (os.POSIX_SPAWN_DUP2, null, fd) for fd in (0, 1, 2)]
            actions += [(os.POSIX_SPAWN_CLOSE, fd) for fd in _inherited(theirs)]
            here = os.open(".", os.O_PATH | os.O_DIRECTORY)
            try:
                os.set_inheritable(theirs, True)
                os.chdir("/")
                pid = os.posix_spawn(command[0], command, environment, file_actions=actions,
                                     setsigdef=(_signal.SIGPIPE, _signal.SIGXFSZ))
            finally:
                os.fchdir(here)
                os.close(here)
        finally:
            os.close(null)
    except BaseException:
        os.close(ours)
        raise
    finally:
        os.close(theirs)
    return Launched(pid, ours, level, environment)


# The zygote launched by `launch_early`, until a Sandbox adopts it (a list: pop is atomic).
_early: list[Launched] = []


def launch_early(level: str) -> None:
    """Launch a zygote for this process's first Sandbox at `level` (a Linux level),
    unless one is waiting already; a machine that cannot is left to the Sandbox."""
    import _thread

    if _early or level not in LINUX_LEVELS or not linux_sandbox_runs() or _thread._count():
        return  # (another thread would see `launch` step into "/")
    try:
        _early.append(launch(level))
    except OSError:  # the Sandbox tries, and says why it cannot
        return


def adopt(level: str) -> Launched | None:
    """The zygote `launch_early` started, now the caller's, if it was launched for
    `level` and today's environment (posix_spawn said whether its exec worked); None
    otherwise (one that does not fit is discarded)."""
    try:
        launched = _early.pop()
    except IndexError:
        return None
    if launched.level != level or launched.environment != zygote_environment():
        _close(launched)
        return None
    return launched


def discard() -> None:
    """Close the zygote `launch_early` started if no Sandbox adopted it: once it said
    hello (or died), so that it removes its box folder as every closed zygote does."""
    try:
        launched = _early.pop()
    except IndexError:
        return
    _close(launched)


def _close(launched: Launched) -> None:
    import socket

    control = socket.socket(fileno=launched.control)
    control.settimeout(20)
    try:
        control.recv(1 << 16)  # its hello, or nothing: it died
    except OSError:
        pass
    control.close()

