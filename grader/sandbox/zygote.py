"""The zygote: a warm interpreter that forks one locked-down box per submission.

Starting Python and importing what learner code needs is paid once, here; each
box is a `fork()` that then shuts every door it can before running learner code:

1. a new session (so the whole group can be killed), SIGKILL if the zygote dies,
   and no inherited descriptors but its channel and /dev/null;
2. a fresh empty directory, made its root with ``chroot`` when allowed (no view of
   solutions, checks, gradebooks or other students);
3. its own unprivileged uid when running as real root (cannot signal or read
   anything else);
4. no capabilities and no way to regain any (matters for "root in a user
   namespace": it could otherwise leave the chroot or signal the zygote);
5. Landlock, where the kernel has it: no file outside the box, no TCP, no signals
   to processes outside the box, whatever the uid;
   and a capped disk: a tmpfs of `disk_kb` and `disk_files` mounted on the box's
   folder in a mount namespace of its own, where the machine allows mounting
   (root, or root of a user namespace); elsewhere the zygote tracks the folder's
   size and file count every `DISK_POLL` seconds and kills a box over budget;
6. a seccomp filter, at every level (`seccomp.py`): no socket but its channel,
   no ptrace, mount, namespace, bpf, keyctl or new program, and no signal to
   anything but itself;
7. rlimits on memory, CPU time, file size, descriptors and processes (none: a
   box cannot fork);
8. an empty environment (the zygote empties its own before its first box).

The zygote itself is started inside new network and PID namespaces where the
machine allows it (see `client.launch_commands`). It speaks to the trusted side
over a SOCK_SEQPACKET socket, one JSON message per packet, and hands back each
box's channel as a passed file descriptor. `argv[2]` is the isolation level:
``full``, ``no-namespaces`` (the client did not use unshare) or ``plain`` (no
chroot and no Landlock either: what a machine without any of them gets).
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # the C module signal wraps: no stub
import contextlib
import gc
import json
import os
import select
import signal
import socket
import sys
import time

from grader.sandbox import modules
from grader.sandbox.asked import LINUX_LEVELS
from grader.sandbox.codes import CONFINE_FAILED, HOST_BROKEN
from grader.sandbox.confine import PR_SET_PDEATHSIG, Kernel
from grader.sandbox.rlimits import set_rlimits
from grader.sandbox.trees import remove_tree as remove_tree

TYPE_CHECKING = False  # typing's own is an import, and boxes import typing on demand
if TYPE_CHECKING:  # the messages' types, for checking only: building them costs the boot
    from collections.abc import Sequence

    from grader.sandbox.channel import BoxLimits, BoxStatus, Hello, Isolation, Spawned

# What learner code may import: after chroot nothing else can be loaded from disk
# (modules.py: what every zygote loads as it boots, and what it loads on demand).
PRELOAD = modules.AT_BOOT + modules.ON_DEMAND
UID_BASE = 1_500_000  # far above any real account
UID_RANGE = 1_000  # uids one zygote cycles through; boxes are cleaned before reuse
UID_RANGES = 1_000
LEVELS = LINUX_LEVELS


def claim_uid_range() -> tuple[int, int]:
    """A uid range no other live zygote uses: held by an flock until this process dies.

    Two zygotes sharing a uid would let one's cleanup (kill every process of the
    uid) kill the other's box. Returns (first uid, lock fd).
    """
    import fcntl  # here, not at the top: importing this module must work on Windows

    # One place for every grader on the machine, whatever its TMPDIR: uids are global.
    folder = "/tmp/grade-uid-locks"
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


def make_folder(prefix: str) -> str:
    """A new private folder in the temporary directory, as `tempfile.mkdtemp` makes it
    (whose import, with shutil's archive formats, is a tenth of the zygote's boot)."""
    homes = [os.environ.get("TMPDIR", ""), "/tmp", "/var/tmp", "/usr/tmp"]
    error: OSError = FileNotFoundError("no temporary directory")
    for home in filter(os.path.isdir, filter(None, homes)):
        for _ in range(100):
            folder = os.path.join(home, prefix + os.urandom(6).hex())
            try:
                os.mkdir(folder, 0o700)
                return folder
            except FileExistsError:
                continue
            except OSError as exc:  # not writable: the next candidate, as tempfile does
                error = exc
                break
    raise error


class TmpfsProbe:
    """Whether a box could mount its own tmpfs here: tried once, in a throwaway child.

    Forked first thing, while the zygote is small and before it imports what learner
    code needs: the child's try runs beside those imports, and is collected after.
    """

    def __init__(self, kernel: Kernel) -> None:
        self.folder = make_folder("grade-probe-")
        self.pid = os.fork()
        if self.pid == 0:
            code = 1
            try:
                kernel.private_tmpfs(self.folder, 64, 8, None)
                code = 0
            finally:
                os._exit(code)

    def result(self) -> bool:
        try:
            return os.waitpid(self.pid, 0)[1] == 0
        finally:
            os.rmdir(self.folder)


def _mounts_tmpfs(is_root: bool, kernel: Kernel, tmpfs: TmpfsProbe | None) -> bool:
    if tmpfs is not None:  # collected whatever the answer: it is a child of ours
        return tmpfs.result() and is_root
    return is_root and TmpfsProbe(kernel).result()


def probe(level: str, kernel: Kernel, tmpfs: TmpfsProbe | None = None) -> Isolation:
    """What isolation this process can actually apply to its boxes (`tmpfs`: the try
    at a box's own tmpfs, already started; else one is tried now)."""
    is_root = os.geteuid() == 0
    names = {name for _, name in socket.if_nameindex()}
    try:
        with open("/proc/self/uid_map") as f:
            in_userns = f.read().split() != ["0", "0", "4294967295"]
    except OSError:
        in_userns = False
    return {
        "level": level,
        "chroot": is_root and level != "plain",  # root, or root of a user namespace
        # Only real root owns other uids; kept even in "plain": a box running as
        # root would ignore the process cap and could fork-bomb the machine.
        "setuid": is_root and not in_userns,
        "network": names <= {"lo"},  # empty network namespace
        "pid_namespace": os.getpid() == 1,
        "user_namespace": in_userns,
        "landlock": kernel.landlock_abi if level != "plain" else 0,
        "seccomp": kernel.has_seccomp,  # every level: it needs no privilege
        # every level too: a tmpfs of the box's own, else a budget the zygote tracks
        "disk": "tmpfs" if _mounts_tmpfs(is_root, kernel, tmpfs) else "tracked",
    }


def _confine(box: str, uid: int, caps: Isolation, kernel: Kernel, zygote: int,
             limits: BoxLimits) -> None:
    """Shut every door `caps` says this machine allows, in the one order that works.

    With a tmpfs of its own, `box` is the zygote's boxes folder (`Zygote.folder_for`),
    which the tmpfs covers in this box's mount namespace only; else a new folder."""
    if caps["disk"] == "tmpfs":  # before chdir: the box's cwd is the new tmpfs
        kernel.private_tmpfs(box, int(limits["disk_kb"]), int(limits["disk_files"]),
                             uid if caps["setuid"] else None)
    else:
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
    kernel.drop_capabilities()  # after setuid/chroot, which need them
    kernel.lock_privileges()
    kernel.die_with_parent()  # after setuid, which resets it
    if os.getppid() != zygote:
        raise OSError("the zygote died while this box started")
    if caps["landlock"]:
        kernel.landlock(".")
    if caps["seccomp"]:
        kernel.seccomp(os.getpid())  # last: it forbids mount and chroot


def _enter_box(box: str, name: str, uid: int, caps: Isolation, kernel: Kernel,
               limits: BoxLimits, channel: socket.socket, zygote: int,
               hidden: Sequence[str] = ()) -> None:
    """In the forked child: shut the doors, serve the trusted side, then leave at once.

    The box leaves by os._exit from here, with the channel, the host and the learner's
    module still referenced: returning would first tear them down (the channel's
    finalizer alone formats a ResourceWarning, a Python repr and two system calls;
    the module's objects each a free, a copy-on-write fault per page), all for a
    process about to end.
    """
    exit_now = os._exit  # a local: learner code may empty this module's globals
    os.setsid()
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    fd = channel.detach()
    os.dup2(fd, 3)
    # Every other descriptor, the zygote's control socket and its end of this box's
    # channel too: closed here, not by their socket objects' close() (Python work and
    # ~40 page faults per box). Those objects are never used again: a box never
    # returns to the zygote's code, and leaves by os._exit, which finalizes nothing.
    os.closerange(4, 1 << 16)
    # its kind given, not asked of the kernel (getsockname, two getsockopt): a socketpair's
    channel = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, 0, fileno=3)
    try:
        _confine(box, uid, caps, kernel, zygote, limits)
    except OSError:
        os._exit(CONFINE_FAILED)  # never run learner code less boxed than promised
    if os.environ:  # the zygote emptied its own: a box inherits none (prepare_boxes)
        os.environ.clear()
    # _signal's own: signal.signal's wrapper turns the old handler into an enum member
    # (the enum machinery's look-ups, ~30 page faults of a box), which nothing reads.
    # _signal's numbers too: signal's are enum members, more of the zygote's pages.
    _signal.signal(_signal.SIGXFSZ, _signal.SIG_IGN)  # an over-size write raises instead
    _signal.signal(_signal.SIGPIPE, _signal.SIG_DFL)
    set_rlimits(limits)
    sys.argv = [name]
    for module in hidden:  # loaded for another student's box: not importable in this one
        sys.modules.pop(module, None)
    # `import a.b as c`, not `from a import b`: the latter runs importlib's _handle_fromlist
    # in Python, its code and objects a box's copy-on-write faults
    import grader.sandbox.host as host

    served = host.serve(channel, int(limits["output_chars"]))
    exit_now(0 if served is not None else HOST_BROKEN)  # the trusted side hung up


# pymalloc's size classes as _debugmallocstats prints them: class, size, pools, blocks
# in use, free blocks in the pools in use
_POOL_ROW = r"(?m)^\s*\d+\s+(\d+)\s+\d+\s+\d+\s+(\d+)\s*$"


def _free_blocks() -> list[tuple[int, int]]:
    """(block size, free blocks in pools in use) per pymalloc size class; [] when
    this interpreter does not say (not CPython, or another format)."""
    import re

    report = os.memfd_create("pools")
    try:
        saved = os.dup(2)
        try:
            os.dup2(report, 2)
            sys._debugmallocstats()  # C code: writes to descriptor 2
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        size = os.lseek(report, 0, os.SEEK_END)
        text = os.pread(report, size, 0).decode(errors="replace")
    finally:
        os.close(report)
    return [(int(size), int(free)) for size, free in re.findall(_POOL_ROW, text)]


def plug_pools() -> list[list[object]]:
    """Fill every free block of pymalloc's pools in use with an object kept for good.

    After the zygote's boot and rehearsal, each size class's pools in use have free
    blocks scattered over many pages (what was freed). A box's allocations would go
    there first: a copy-on-write fault for each page a hole is on. Filled, they go to
    fresh pools, one page after the next (40 fewer page faults per box of the class of
    40; a box that loads `x = 1`, 10 fewer). Costs the zygote the filling's memory
    (a few hundred KB) once. Blocks of 16 bytes are objects, of 32 ints, of 48 and
    more bytes objects (33 bytes and their length).
    """
    plugs: list[list[object]] = []
    try:
        classes = _free_blocks()
    except (OSError, AttributeError, ValueError):  # no memfd, no _debugmallocstats
        return plugs
    for size, free in classes:
        if size == 16:
            plugs.append([object() for _ in range(free)])
        elif size == 32:
            plugs.append([number + 1000 for number in range(free)])
        elif size >= 48:
            plugs.append([bytes(size - 33) for _ in range(free)])
    return plugs


def disk_usage(folder: str, most_bytes: int, most_files: int) -> tuple[int, int]:
    """(bytes allocated, entries) under `folder`; stops counting once over either budget.

    A folder learner code shut with chmod is opened again (same uid, when not root).
    """
    used = entries = 0
    stack = [folder]
    while stack and used <= most_bytes and entries <= most_files:
        current = stack.pop()
        try:
            listing = list(os.scandir(current))
        except PermissionError:
            with contextlib.suppress(OSError):
                os.chmod(current, 0o700)
                stack.append(current)
            continue
        except OSError:
            continue
        for entry in listing:
            entries += 1
            with contextlib.suppress(OSError):
                used += entry.stat(follow_symlinks=False).st_blocks * 512
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
    return used, entries


DISK_POLL = 0.05  # seconds between two looks at the boxes' folders (tracked budget)


def kill_uid(uid: int, kernel: Kernel, death: int | None = None) -> None:
    """Kill every process owned by `uid`: the zygote (root) takes the uid for one kill(-1).

    kill(-1) signals every process its caller may signal, the caller itself excepted.
    With real and effective uid `uid` and no effective capability (the kernel clears
    them when the effective uid leaves 0), those are exactly the processes whose real
    or saved uid is `uid`: what a forked helper that drops to `uid` reaches, without
    forking one (a fork of the zygote and its exit cost more CPU than the rest of a
    box's cleanup). The saved uid stays root, so the next call takes root back. No
    process of `uid` can act meanwhile: the box was SIGKILLed before this, and no box
    can start another process. Changing uids clears the parent-death signal, which is
    set again; a parent that died in between is seen by its pid changing. `death`: that
    signal, when the caller knows it (the zygote reads it once: only this changes it).
    """
    if death is None:
        death = kernel.parent_death_signal()
    ids, parent = os.getresuid(), os.getppid()
    os.setresuid(uid, uid, 0)
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:  # no process of `uid` left
        pass
    finally:
        os.setresuid(*ids)
    if death:
        kernel.prctl(PR_SET_PDEATHSIG, death)
        if os.getppid() != parent:  # died while the signal was off: go as it would have
            os._exit(1)


def describe_status(status: int, killed: bool, cpu: float = 0.0, faults: int = 0
                    ) -> BoxStatus:
    """How a box ended, as data: its exit code or signal, whether we killed it, the
    CPU seconds it used (a SIGKILL at the CPU limit is the limit, not the box) and
    the page faults it took (what a box's fork costs: bench/ and tests read it)."""
    ended: BoxStatus = ({"signal": os.WTERMSIG(status)} if os.WIFSIGNALED(status)
                        else {"exit": os.WEXITSTATUS(status)})
    return {**ended, "killed": killed, "cpu": round(cpu, 3), "faults": faults}


HANG_UP_WAIT = 1.0  # seconds a box that closed its channel gets to finish exiting


class Zygote:
    def __init__(self, control: socket.socket, level: str, kernel: Kernel | None = None,
                 tmpfs: TmpfsProbe | None = None) -> None:
        self.control = control
        self.kernel = kernel or Kernel()
        self.caps = probe(level, self.kernel, tmpfs)
        self.base = make_folder("grade-boxes-")
        os.chmod(self.base, 0o711)
        self.count = 0
        self.prepared = False  # prepare_boxes
        self.rehearsed = False  # rehearse
        self.plugs: list[list[object]] = []  # plug_pools: kept for good
        self.uid_base = claim_uid_range()[0] if self.caps["setuid"] else 0
        # its parent-death signal, read once for every kill_uid (which sets it again)
        self.death = self.kernel.parent_death_signal() if self.uid_base else 0
        # reaped: (status, CPU seconds, page faults)
        self.statuses: dict[int, tuple[int, float, int]] = {}
        self.boxes: set[int] = set()  # live boxes' pids: the only ones cleanup may kill
        self.budgets: dict[int, tuple[str, int, int]] = {}  # tracked: box, bytes, files
        self.over_disk: set[int] = set()  # boxes killed for their disk use
        self.at_boot = frozenset(sys.modules)  # what every box sees (`load`)

    def prepare_boxes(self) -> None:
        """What every box would otherwise redo, done once, before the first fork (not
        at boot: a learner's command waits for the hello, not for this).

        Step 4's bounding set is emptied here for every box at once: this process never
        runs another program, and keeps the capabilities a box's set-up needs. Step 8's
        environment too: it was read for the box folder (TMPDIR), and nothing else
        reads it; a box only checks that it inherited none.

        And every object made so far moves to the collector's permanent generation (the
        collector, off while the zygote booted, is on again from here): a
        full collection in a box (learner code that keeps many lists or dicts) then
        walks the box's own objects only, not the zygote's thirteen thousand, each of
        whose headers it would write, a copy-on-write fault per page (60,000 tuples
        kept in 5,000 lists: 120 faults and 1-2 ms fewer per box, measured here).
        """
        self.kernel.drop_bounding_set()
        os.environ.clear()
        gc.freeze()
        gc.enable()  # off while it booted (`main`): on in every box, as in any Python
        self.prepared = True

    def spawn(self, limits: BoxLimits, wanted: Sequence[str] | None = None) -> None:
        """Fork a box with `limits` that sees the on-demand modules its source names
        (`wanted`; None: all of them), and send the trusted side its channel."""
        if not self.prepared:
            self.prepare_boxes()
        elif not self.rehearsed:
            self.rehearse()
        hidden = self.load(wanted)
        self.count += 1
        name = f"box-{self.count}"
        box = self.folder_for(name)
        uid = self.uid_base + self.count % UID_RANGE
        ours, theirs = socket.socketpair()
        zygote = os.getpid()
        exit_now = os._exit  # a local: learner code may empty this module's globals
        pid = os.fork()
        if pid == 0:
            code = HOST_BROKEN
            try:  # the zygote's ends (control, ours) are closed by _enter_box's closerange
                _enter_box(box, name, uid, self.caps, self.kernel, limits, theirs, zygote,
                           hidden)
                code = 0  # the trusted side hung up
            finally:
                exit_now(code)
        theirs.close()
        self.boxes.add(pid)
        if self.caps["disk"] == "tracked":
            self.budgets[pid] = (box, int(limits["disk_kb"]) * 1024,
                                 int(limits["disk_files"]))
        reply: Spawned = {"pid": pid, "box": box, "uid": uid if self.caps["setuid"] else None}
        socket.send_fds(self.control, [json.dumps(reply).encode()], [ours.fileno()])
        ours.close()

    def load(self, wanted: Sequence[str] | None) -> list[str]:
        """Import the on-demand modules in `wanted` (None: every one) that no box of this
        zygote needed before, once; return what the box must not see (`modules.hidden`).

        Imported without fork hooks (`preload`) and frozen like the boot's objects (a box's
        collections never walk them); a module this Python lacks is left out, and the box
        that imports it is told so as for any other."""
        missing = [m for m in modules.ON_DEMAND if m not in sys.modules
                   and (wanted is None or m in wanted)]
        for module in missing:
            try:
                preload((module,))
            except ImportError:
                continue
        if missing and self.prepared:
            gc.freeze()
        if wanted is None:
            return []
        return modules.hidden([m for m in sys.modules if m not in self.at_boot], wanted)

    def folder_for(self, name: str) -> str:
        """Where box `name` mounts its tmpfs, or the folder it makes (a tracked budget).

        A tmpfs is mounted in the box's own mount namespace: over the boxes folder
        itself, every box sees only its own, and the zygote an empty folder. No folder
        per box to make, chown and remove: on ext4 a mkdir and an rmdir cost ~0.1 ms
        of CPU each (journalled), more than the mount. The tmpfs covers the boxes
        folder, not only what lies under it: chrooted there, a box sees nothing else.
        """
        return self.base if self.caps["disk"] == "tmpfs" else os.path.join(self.base, name)

    def rehearse(self) -> None:
        """Warm a box's code here, once, before the second box (`host.rehearse`): a
        learner's run has one box, and never pays for it; a batch's every box after
        the first saves more than the 5 ms it takes. Then `plug_pools` (1-2 ms, once:
        not before the first box either)."""
        self.rehearsed = True
        from grader.sandbox import host

        with contextlib.suppress(Exception):  # a cold box is slower, never wrong
            host.rehearse()
        gc.collect()  # the rehearsal's own cycles (an exception's frames), not frozen
        gc.freeze()
        self.plugs = plug_pools()  # last: after the rehearsal's frees
        gc.freeze()  # the plugs' lists too

    def reap(self) -> None:
        """Collect boxes that ended on their own, keeping how they ended."""
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.statuses[pid] = (status, usage.ru_utime + usage.ru_stime, usage.ru_minflt)

    def await_exit(self, pid: int) -> None:
        """Give a box that hung up a moment to finish exiting on its own.

        Its channel closes while the kernel is still tearing it down: killing it
        then would hide how it really ended (e.g. a box that SIGKILLed itself).
        """
        deadline = time.monotonic() + HANG_UP_WAIT
        while pid not in self.statuses and time.monotonic() < deadline:
            time.sleep(0.002)
            self.reap()

    def cleanup(self, pid: int, box: str, uid: int | None, hung_up: bool = False) -> None:
        """Kill the box's session and uid, collect it, remove its folder, report."""
        self.reap()
        if pid not in self.boxes:
            done: BoxStatus = {"done": pid}
            self.control.send(json.dumps(done).encode())
            return
        if hung_up:
            self.await_exit(pid)
        self.boxes.discard(pid)
        self.budgets.pop(pid, None)
        over_disk = pid in self.over_disk
        self.over_disk.discard(pid)
        killed = pid not in self.statuses
        # A reaped pid may already belong to someone else: only kill a live box.
        for kill in (os.killpg, os.kill) if killed else ():
            try:  # not contextlib.suppress: its Python, every box, in the zygote
                kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if uid is not None:
            kill_uid(uid, self.kernel, self.death)
        status, cpu, faults = self.statuses.pop(pid, (None, 0.0, 0))
        if status is None:
            try:
                _, status, usage = os.wait4(pid, 0)
                cpu, faults = usage.ru_utime + usage.ru_stime, usage.ru_minflt
            except ChildProcessError:
                status = 0
        if box.startswith(self.base + os.sep):
            try:  # empty as the zygote sees it when the box had a tmpfs of its own
                os.rmdir(box)
            except OSError:
                remove_tree(box)
        reply: BoxStatus = {"done": pid, **describe_status(status, killed, cpu, faults),
                            "disk": over_disk}
        self.control.send(json.dumps(reply).encode())

    def police_disk(self) -> None:
        """Kill every box over its disk budget (where no tmpfs can cap it)."""
        for pid, (box, most_bytes, most_files) in list(self.budgets.items()):
            used, entries = disk_usage(box, most_bytes, most_files)
            if used > most_bytes or entries > most_files:
                self.over_disk.add(pid)
                del self.budgets[pid]
                for kill in (os.killpg, os.kill):
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        kill(pid, signal.SIGKILL)

    def wait_for_request(self) -> None:
        """Block until the trusted side asks something, policing disk budgets meanwhile."""
        while self.budgets and not select.select([self.control], [], [], DISK_POLL)[0]:
            self.reap()
            self.police_disk()

    def serve(self) -> None:
        hello: Hello = {"hello": self.caps, "pid": os.getpid(), "uid_base": self.uid_base,
                        "uid_range": UID_RANGE if self.uid_base else 0, "boxes": self.base}
        try:  # a client gone before the hello (a batch killed as it starts): no folder left
            self.control.send(json.dumps(hello).encode())
            while True:
                self.wait_for_request()
                data = self.control.recv(1 << 16)
                if not data:
                    return
                self.reap()
                request = json.loads(data)
                if request["op"] == "spawn":
                    wanted = request.get("modules")
                    self.spawn(request["limits"], None if wanted is None
                               else [m for m in wanted if isinstance(m, str)])
                elif request["op"] == "cleanup":
                    self.cleanup(request["pid"], request["box"], request.get("uid"),
                                 bool(request.get("hung_up")))
        finally:
            remove_tree(self.base)


def _no_fork_hook(**hooks: object) -> None:
    """`os.register_at_fork` while the zygote preloads: the hook is not kept."""


def preload(names: tuple[str, ...]) -> None:
    """Import `names` without the hooks they register to run in
    every forked child: `random` reseeds itself from the OS and `threading` rebuilds
    its thread table (in a bare child of this image, 0.4 ms of CPU and 150 page faults
    of its 0.6 ms and 230; in a box, whose own work touches some of the same pages,
    about 0.2 ms and 45 page faults).

    Neither is needed in a box: the host seeds `random` before any learner code runs
    (`host.Host.load`), and the zygote forks from its only thread, so the table a box
    inherits is the one `threading` would rebuild.
    """
    register = os.register_at_fork
    os.register_at_fork = _no_fork_hook
    try:
        for name in names:
            __import__(name)
    finally:
        os.register_at_fork = register


def main() -> None:
    # No collection while it boots: its imports make ~15,000 objects that all live on
    # (gc.freeze moves them out of reach before the first box, prepare_boxes), and the
    # collections they would trigger cost 3-4 ms of its ~45 ms of CPU to its hello.
    # launch.py's boot line turned it off before the first import; this, for any other.
    gc.disable()
    control = socket.socket(fileno=int(sys.argv[1]))
    level = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] in LEVELS else "full"
    kernel = Kernel()
    tmpfs = TmpfsProbe(kernel) if os.geteuid() == 0 else None
    # Linux-only modules, imported by the functions that use them; loaded here,
    # because a box cannot load a module from disk once it is chrooted.
    preload((*modules.AT_BOOT, "fcntl", "resource", "grader.sandbox.host"))
    Zygote(control, level, kernel, tmpfs).serve()
    # Its boxes are reaped, its folder removed, its stdio is /dev/null: nothing is left to
    # flush, and the client waits for this exit (every learner's run, every batch worker's
    # close), so the interpreter's teardown of ~120 modules is skipped.
    os._exit(0)


if __name__ == "__main__":
    main()
