"""The zygote: a warm interpreter that forks one locked-down box per submission.

Starting Python and importing what learner code needs is paid once, here; each
box is a `fork()` that then shuts every door it can before running learner code:

1. a new session (so the whole group can be killed) and no inherited descriptors
   but its channel and /dev/null;
2. a fresh empty directory, made its root with ``chroot`` when allowed (no view of
   solutions, checks, gradebooks or other students);
3. its own unprivileged uid when running as root (cannot signal or read anything
   else, and a per-uid process cap stops fork bombs);
4. rlimits on memory, CPU time, file size, descriptors and processes;
5. an empty environment.

The zygote itself is started inside new network and PID namespaces where the
machine allows it (see `client.launch_command`). It speaks to the trusted side
over a SOCK_SEQPACKET socket, one JSON message per packet, and hands back each
box's channel as a passed file descriptor.
"""

from __future__ import annotations

import fcntl
import json
import os
import resource
import shutil
import signal
import socket
import sys
import tempfile
from typing import Any

# What learner code may import: after chroot nothing else can be loaded from disk.
PRELOAD = (
    "bisect", "collections", "copy", "dataclasses", "functools", "heapq",
    "itertools", "json", "math", "operator", "random", "re", "statistics",
    "string", "textwrap", "typing",
)
UID_BASE = 1_500_000  # far above any real account
UID_RANGE = 1_000  # uids one zygote cycles through; boxes are cleaned before reuse
UID_RANGES = 1_000


def claim_uid_range() -> tuple[int, int]:
    """A uid range no other live zygote uses: held by an flock until this process dies.

    Two zygotes sharing a uid would let one's cleanup (kill every process of the
    uid) kill the other's box. Returns (first uid, lock fd).
    """
    folder = os.path.join(tempfile.gettempdir(), "grade-uid-locks")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    for index in range(UID_RANGES):
        fd = os.open(os.path.join(folder, str(index)), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return UID_BASE + index * UID_RANGE, fd
    raise RuntimeError("every sandbox uid range is in use")


def probe() -> dict[str, Any]:
    """What isolation this process can actually apply to its boxes."""
    is_root = os.geteuid() == 0
    names = {name for _, name in socket.if_nameindex()}
    try:
        with open("/proc/self/uid_map") as f:
            in_userns = f.read().split() != ["0", "0", "4294967295"]
    except OSError:
        in_userns = False
    return {
        "chroot": is_root,  # root, or root of a user namespace
        "setuid": is_root and not in_userns,  # only real root owns other uids
        "network": names <= {"lo"},  # empty network namespace
        "pid_namespace": os.getpid() == 1,
        "user_namespace": in_userns,
    }


def _set_limits(limits: dict[str, Any], separate_uid: bool) -> None:
    memory = int(limits["memory_mb"]) * 1024 * 1024
    cpu = int(limits["cpu_seconds"])
    fsize = int(limits["file_size_kb"]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if separate_uid:  # counts per uid: with a uid of its own, 1 means "no fork"
        resource.setrlimit(resource.RLIMIT_NPROC, (1, 1))


def _enter_box(box: str, uid: int, caps: dict[str, Any], limits: dict[str, Any],
               channel: socket.socket) -> None:
    """In the forked child: shut the doors, then serve the trusted side."""
    os.setsid()
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    fd = channel.detach()
    os.dup2(fd, 3)
    os.closerange(4, 1 << 16)
    channel = socket.socket(fileno=3)
    os.mkdir(box, 0o700)
    if caps["setuid"]:
        os.chown(box, uid, uid)
    os.chdir(box)
    if caps["chroot"]:
        os.chroot(box)
        os.chdir("/")
    if caps["setuid"]:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    os.environ.clear()
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an over-size write raises instead
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    _set_limits(limits, caps["setuid"])
    sys.argv = [os.path.basename(box)]
    from grader.sandbox import host

    host.serve(channel, int(limits["output_chars"]))


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _kill_uid(uid: int) -> None:
    """Kill every process owned by `uid`: a forked helper drops to it and kill(-1)s."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setuid(uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


class Zygote:
    def __init__(self, control: socket.socket) -> None:
        self.control = control
        self.caps = probe()
        self.base = tempfile.mkdtemp(prefix="grade-boxes-")
        os.chmod(self.base, 0o711)
        self.count = 0
        self.uid_base = claim_uid_range()[0] if self.caps["setuid"] else 0

    def spawn(self, limits: dict[str, Any]) -> None:
        self.count += 1
        box = os.path.join(self.base, f"box-{self.count}")
        uid = self.uid_base + self.count % UID_RANGE
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            try:
                self.control.close()
                ours.close()
                _enter_box(box, uid, self.caps, limits, theirs)
            finally:
                os._exit(0)
        theirs.close()
        reply = {"pid": pid, "box": box, "uid": uid if self.caps["setuid"] else None}
        socket.send_fds(self.control, [json.dumps(reply).encode()], [ours.fileno()])
        ours.close()

    def cleanup(self, pid: int, box: str, uid: int | None) -> None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if uid is not None:
            _kill_uid(uid)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        if box.startswith(self.base + os.sep):
            shutil.rmtree(box, ignore_errors=True)
        self.control.send(json.dumps({"done": pid}).encode())

    def serve(self) -> None:
        self.control.send(json.dumps({"hello": self.caps, "pid": os.getpid()}).encode())
        try:
            while True:
                data = self.control.recv(1 << 16)
                if not data:
                    return
                _reap()
                request = json.loads(data)
                if request["op"] == "spawn":
                    self.spawn(request["limits"])
                elif request["op"] == "cleanup":
                    self.cleanup(request["pid"], request["box"], request.get("uid"))
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def main() -> None:
    for name in PRELOAD:
        __import__(name)
    from grader.sandbox import host  # noqa: F401  (preloaded for the boxes)

    control = socket.socket(fileno=int(sys.argv[1]))
    Zygote(control).serve()


if __name__ == "__main__":
    main()
