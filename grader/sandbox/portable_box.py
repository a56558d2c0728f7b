"""Inside a portable box: connect back, take limits, refuse what a box must not do, serve.

Runs in a fresh interpreter that `portable.PortableSandbox` spawned (no fork:
Windows has none), with an empty temporary folder as its working directory.
Standard library only. The order matters and is the same as the Linux box's:
nothing from the learner runs before every limit below is in place, and the
first frame sent back (`host.READY`) says so.

1. connect to the trusted side over loopback TCP and prove who we are with the
   one-time token read from stdin (sockets are the channel every OS has);
2. read the limits frame; apply the rlimits the OS has (memory, CPU, file size,
   descriptors, processes); on Windows the trusted side has already put this
   process in a Job Object before sending the frame;
3. an audit hook (PEP 578) that refuses new processes, signals to other
   processes, network connections, ctypes, `chroot`, and files outside the box
   folder and Python's own library (`os.mkfifo` and `os.mknod`, which raise no
   event, are wrapped to refuse paths outside the box folder). PEP 578 says it
   plainly: an audit hook is not a security boundary. It turns the common
   mistakes and the simple attacks into the same clear messages the Linux box
   gives; determined hostile code is contained only
   by the Linux sandbox (docs/portability.md);
4. an empty environment, then `host.serve`.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
from typing import Any, cast

from grader.sandbox import host, protocol
from grader.sandbox.channel import BoxLimits, LimitsFrame
from grader.sandbox.rlimits import set_rlimits

CONFINE_FAILED = 121  # the zygote's statuses (grader.sandbox.zygote), same meaning here
HOST_BROKEN = 120
CHANNEL_FD = 3  # where the Linux box keeps its channel: the same number here, on POSIX

PROCESS_EVENTS = frozenset({
    "os.fork", "os.forkpty", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
    "os.startfile", "subprocess.Popen", "_winapi.CreateProcess", "pty.spawn",
})
NETWORK_EVENTS = frozenset({"socket.connect", "socket.bind", "socket.sendto",
                            "socket.sendmsg", "socket.getaddrinfo"})
NATIVE_EVENTS = frozenset({"ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle",
                           "ctypes.cdata", "ctypes.call_function", "ctypes.string_at",
                           "ctypes.wstring_at", "ctypes.PyObj_FromPtr"})
SIGNAL_EVENTS = frozenset({"os.kill", "os.killpg"})
# Events whose path arguments must all lie inside the box folder.
WRITE_EVENTS = frozenset({
    "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.link",
    "os.symlink", "os.truncate", "os.utime", "os.chflags", "os.lchflags", "shutil.rmtree",
    "shutil.copyfile", "shutil.copymode", "shutil.copystat", "shutil.copytree",
    "shutil.move", "os.setxattr", "os.removexattr",
})
READ_EVENTS = frozenset({"os.listdir", "os.scandir", "os.getxattr", "os.listxattr"})
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _inside(path: Any, folders: tuple[str, ...]) -> bool:
    """Whether `path` (str, bytes or PathLike; relative to the cwd) resolves into `folders`."""
    if isinstance(path, int) or path is None:
        return True  # an open descriptor: opened (and checked) before
    try:
        real = os.path.normcase(os.path.realpath(os.fsdecode(path)))
    except (TypeError, ValueError):
        return False
    return any(real == folder or real.startswith(folder.rstrip(os.sep) + os.sep)
               for folder in folders)


def _folder(path: str) -> str:
    """`path` as `_inside` compares it: real, and in one case where the OS ignores case."""
    return os.path.normcase(os.path.realpath(path))


def _writes(mode: Any, flags: Any) -> bool:
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    return isinstance(flags, int) and bool(flags & WRITE_FLAGS)


def make_audit_hook(box: str, library: tuple[str, ...]) -> Any:
    """The hook that refuses, with the errors a locked-down Linux box would raise."""
    own_pid = os.getpid()
    readable = (box, *library)
    writable = (box,)
    refused = PermissionError  # bound now: learner code may rebind the builtins

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode, flags = (*args, None, None, None)[:3]
            if not _inside(path, writable if _writes(mode, flags) else readable):
                raise refused(errno.EACCES, "outside the box", os.fsdecode(path))
        elif event in PROCESS_EVENTS:
            # What the Linux box's process limit (RLIMIT_NPROC=0) raises for a fork.
            raise BlockingIOError(errno.EAGAIN, "no new process in a box")
        elif event in SIGNAL_EVENTS:  # itself, or its own group (0: it leads its session)
            if args and args[0] not in (own_pid, 0):
                raise refused(errno.EPERM, "no signals outside the box")
        elif event in NETWORK_EVENTS:  # as in the Linux box's empty network namespace
            raise OSError(errno.ENETUNREACH, "no network in a box")
        elif event in NATIVE_EVENTS:
            raise refused(errno.EACCES, f"{event} is not allowed in a box")
        elif event in WRITE_EVENTS:
            if not all(_inside(a, writable) for a in args if isinstance(a, (str, bytes))):
                raise refused(errno.EACCES, "outside the box")
        elif event in READ_EVENTS and args and not _inside(args[0], readable):
            raise refused(errno.EACCES, "outside the box")

    return hook


def _refuse_chroot(*args: Any, **kwargs: Any) -> None:
    raise PermissionError(errno.EPERM, "Operation not permitted")


def remove_chroot() -> None:
    """Python raises no audit event for chroot, and a box started by root could leave its
    folder's view with it: the function itself is replaced, in `os` and in `posix`."""
    for module in (os, sys.modules.get("posix")):
        if module is not None and hasattr(module, "chroot"):
            module.chroot = _refuse_chroot  # type: ignore[union-attr]


def guard_unaudited(box: str) -> None:
    """`os.mkfifo` and `os.mknod` raise no audit event: a FIFO planted where the grader
    reads (a progress file, a journal) would make it wait for ever. Only in the box."""
    refused = PermissionError

    def guarded(make: Any) -> Any:
        def make_inside(path: Any, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("dir_fd") is not None or not _inside(path, (box,)):
                raise refused(errno.EACCES, "outside the box", os.fsdecode(path))
            return make(path, *args, **kwargs)
        return make_inside

    for module in (os, sys.modules.get("posix")):
        for name in ("mkfifo", "mknod"):
            if module is not None and hasattr(module, name):
                setattr(module, name, guarded(getattr(module, name)))


def python_library() -> tuple[str, ...]:
    """Where this interpreter and the grader package read their own code from."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # grader/
    places = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, package}
    return tuple(sorted(_folder(p) for p in places if p))


def set_limits(limits: BoxLimits) -> None:
    """The rlimits of the Linux box, where this OS has `resource` (not on Windows)."""
    try:
        import resource  # noqa: F401  (only to ask whether this OS has rlimits)
    except ImportError:
        return  # Windows: the Job Object set by the trusted side does this
    # Linux has every one of them: never less boxed than promised; elsewhere the
    # wall-clock deadline and the trusted side's kill still hold.
    set_rlimits(limits, tolerant=not sys.platform.startswith("linux"))


def connect(address: str, port: int, token: str) -> socket.socket:
    channel = socket.create_connection((address, port), timeout=30)
    channel.settimeout(None)
    channel.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small frames, no wait
    channel.sendall(token.encode() + b"\n")
    return channel


def lock_down(channel: socket.socket) -> tuple[socket.socket, int]:
    """Take the limits frame and apply everything; returns the channel and output cap."""
    frame = cast(LimitsFrame, protocol.recv(channel))  # the trusted side's first frame
    limits = frame.get("limits") or cast(BoxLimits, {})
    set_limits(limits)
    if os.name == "posix":  # same descriptor as the Linux box (an attack test relies on it)
        os.dup2(channel.fileno(), CHANNEL_FD)
        channel.detach()
        channel = socket.socket(fileno=CHANNEL_FD)
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an over-size write raises instead
    remove_chroot()
    guard_unaudited(_folder(os.getcwd()))
    sys.addaudithook(make_audit_hook(_folder(os.getcwd()), python_library()))
    os.environ.clear()
    sys.argv = [os.path.basename(os.getcwd())]
    return channel, int(limits.get("output_chars", 20_000))


def main() -> None:
    exit_now = os._exit  # a local: learner code may empty this module's globals
    address, port = sys.argv[1], int(sys.argv[2])
    token = sys.stdin.readline().strip()
    sys.stdin.close()
    try:
        channel, output_chars = lock_down(connect(address, port, token))
    except BaseException:
        exit_now(CONFINE_FAILED)  # never run learner code less boxed than promised
    code = HOST_BROKEN
    try:
        host.serve(channel, output_chars)
        code = 0  # the trusted side hung up
    finally:
        exit_now(code)
