"""Kernel calls Python's standard library lacks: capabilities, no_new_privs, Landlock, seccomp.

Stdlib only (ctypes): it runs in the zygote's `-I -S` interpreter. `Kernel` is
created in the zygote *before* any box chroots, because after chroot libc can no
longer be found on disk. Every call raises `OSError` on failure; the zygote's
probe decides which calls to make.
"""

from __future__ import annotations

import ctypes
import os

from grader.sandbox import seccomp

PR_SET_PDEATHSIG = 1
PR_GET_PDEATHSIG = 2
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 0x4000, 1 << 18
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
CAPABILITY_VERSION_3 = 0x20080522
LIBC_CALLS = ("prctl", "capset", "unshare", "mount", "syscall")  # what a box calls

# Landlock (linux/landlock.h); the syscall numbers are shared by x86-64 and arm64.
LANDLOCK_SYSCALLS = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446)}
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
O_PATH = getattr(os, "O_PATH", 0o10000000)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


_CapSets = _CapData * 2  # capset's two 32-bit halves: the type made once, in the zygote


def _fs_rights(abi: int) -> int:
    """Every file-system right Landlock ABI `abi` can restrict."""
    rights = (1 << 13) - 1  # ABI 1: execute, read, write, make/remove anything
    if abi >= 2:
        rights |= 1 << 13  # refer (link/rename across directories)
    if abi >= 3:
        rights |= 1 << 14  # truncate
    if abi >= 5:
        rights |= 1 << 15  # ioctl on devices
    return rights


class _LandlockCalls:
    """Landlock's arguments for a kernel of ABI `abi`, made once in the zygote: a box only
    writes its folder's descriptor into the rule (no ctypes object, no class look-up)."""

    def __init__(self, abi: int) -> None:
        self.create, self.add_rule, self.restrict = LANDLOCK_SYSCALLS[seccomp.machine_name()]
        self.attr = _RulesetAttr(_fs_rights(abi), 3 if abi >= 4 else 0, 3 if abi >= 6 else 0)
        self.attr_ref = ctypes.byref(self.attr)
        self.size = ctypes.c_size_t(24 if abi >= 6 else 16 if abi >= 4 else 8)
        self.zero = ctypes.c_uint32(0)
        self.rule = _PathBeneath(_fs_rights(abi), -1)
        self.rule_ref = ctypes.byref(self.rule)


class Kernel:
    """libc, loaded while it can still be found."""

    def __init__(self) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        # Looked up now, in the zygote: ctypes then keeps each function on `libc`, and
        # a box no longer spends about 0.2 ms of its CPU per name finding it.
        for name in LIBC_CALLS:
            getattr(self.libc, name)
        try:
            with open("/proc/sys/kernel/cap_last_cap") as f:
                self.cap_last = int(f.read())
        except (OSError, ValueError):
            self.cap_last = 63
        self.bounding_dropped = False  # see drop_bounding_set
        self.landlock_abi = self._landlock_abi()
        self.has_seccomp = self._has_seccomp()
        try:  # built before any fork: a box only patches its pid in
            self.seccomp_filter: seccomp.Filter | None = seccomp.Filter()
        except OSError:  # an architecture without a filter here
            self.seccomp_filter = None
            self.has_seccomp = False
        # The program's buffer and sock_fprog too: a box writes its pid into its own
        # (copy-on-write) page of the buffer and makes no ctypes object of its own.
        packed = self.seccomp_filter.packed if self.seccomp_filter else b""
        self._program = ctypes.create_string_buffer(packed, len(packed))
        self._fprog = _SockFprog(len(packed) // 8, ctypes.addressof(self._program))
        self._seccomp_args = (ctypes.c_uint(seccomp.SET_MODE_FILTER),
                              ctypes.c_uint(seccomp.FLAG_SPEC_ALLOW), ctypes.byref(self._fprog))
        # capset's header and empty sets, and the mount flags, made here too: a box
        # builds no ctypes object (each a class look-up and fresh memory) to lock down.
        self._cap_header = _CapHeader(CAPABILITY_VERSION_3, 0)
        self._cap_args = (ctypes.byref(self._cap_header), _CapSets())
        self._private_flags = ctypes.c_ulong(MS_REC | MS_PRIVATE)
        self._tmpfs_flags = ctypes.c_ulong(MS_NOSUID | MS_NODEV | MS_NOEXEC)
        self._program_view = memoryview(self._program).cast("B")
        self._seccomp_number = seccomp.SECCOMP_SYSCALL.get(seccomp.machine_name())
        self._landlock = _LandlockCalls(self.landlock_abi) if self.landlock_abi else None

    def _check(self, result: int) -> int:
        if result < 0:
            errno = ctypes.get_errno()
            raise OSError(errno, os.strerror(errno))
        return result

    def prctl(self, option: int, arg: int = 0) -> None:
        self._check(self.libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0))

    def die_with_parent(self) -> None:
        """SIGKILL this process when its parent (the zygote) dies."""
        self.prctl(PR_SET_PDEATHSIG, 9)

    def parent_death_signal(self) -> int:
        """The signal this process gets when its parent dies (0: none)."""
        signal = ctypes.c_int(0)
        self._check(self.libc.prctl(PR_GET_PDEATHSIG, ctypes.byref(signal), 0, 0, 0))
        return signal.value

    def drop_bounding_set(self) -> None:
        """Empty the capability bounding set (needs CAP_SETPCAP): what execve could
        grant. Done once by the zygote, which never runs another program and keeps its
        effective capabilities: every box inherits the empty set, and skips the
        forty-odd prctl calls (a tenth of a millisecond of each box's CPU)."""
        for cap in range(self.cap_last + 1):
            # A refusal is tested, not raised: an OSError's message (strerror, its
            # locale look-up) cost a box more than the rest of this method.
            if self.libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0) < 0:
                break  # not ours to drop (already unprivileged): nothing left to drop
        self.bounding_dropped = True

    def drop_capabilities(self) -> None:
        """Empty the bounding, ambient, effective, permitted and inheritable sets.

        Matters for "root in a user namespace": without it the box could chroot
        out of its chroot or signal the zygote. Bounding first (needs CAP_SETPCAP),
        unless this process inherited it empty (`drop_bounding_set`).
        """
        if not self.bounding_dropped:
            self.drop_bounding_set()
        # A refusal is ignored, not raised and suppressed: kernels before 4.3 have no
        # ambient set (and contextlib's Python, an OSError's strerror, cost a box faults).
        self.libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
        self._check(self.libc.capset(*self._cap_args))

    def lock_privileges(self) -> None:
        """No setuid/file-capability gains via execve; no ptrace/core dumps of the box."""
        self.prctl(PR_SET_NO_NEW_PRIVS, 1)
        self.prctl(PR_SET_DUMPABLE, 0)

    def private_tmpfs(self, folder: str, size_kb: int, files: int, uid: int | None) -> None:
        """Mount a tmpfs of `size_kb` and `files` on `folder`, seen by this process only.

        A mount namespace of its own first (private, so nothing propagates back):
        the mount vanishes with the box, and no other process ever sees it.
        """
        self._check(self.libc.unshare(CLONE_NEWNS))
        self._check(self.libc.mount(None, b"/", None, self._private_flags, None))
        owner = f",uid={uid},gid={uid}" if uid is not None else ""
        # nr_inodes counts the top folder too
        options = f"size={size_kb}k,nr_inodes={files + 1},mode=0700{owner}"
        self._check(self.libc.mount(b"tmpfs", folder.encode(), b"tmpfs", self._tmpfs_flags,
                                    options.encode()))

    @staticmethod
    def _has_seccomp() -> bool:
        """Whether this kernel filters system calls (a `Seccomp:` line in our status)."""
        try:
            with open("/proc/self/status") as f:
                return any(line.startswith("Seccomp:") for line in f)
        except OSError:
            return False

    def seccomp(self, own_pid: int) -> None:
        """Install the box's system-call filter (`seccomp.py`, rule by rule).

        Last of all: after it, no mount, no socket, no chroot. Needs no_new_privs.
        With SPEC_ALLOW: a kernel that ties the speculative-store-bypass mitigation to
        seccomp would otherwise slow the box down to protect its own memory from
        itself, which holds nothing secret (other processes stay protected).
        Kernels before 4.17 lack the flag: prctl then installs the same filter.
        """
        if self.seccomp_filter is None:
            raise OSError(38, "no seccomp filter for this machine")
        self.seccomp_filter.patch(self._program_view, own_pid)
        number = self._seccomp_number
        if number is not None and self.libc.syscall(number, *self._seccomp_args) == 0:
            return
        self._check(self.libc.prctl(PR_SET_SECCOMP, ctypes.c_ulong(SECCOMP_MODE_FILTER),
                                    self._seccomp_args[2], 0, 0))

    def _landlock_abi(self) -> int:
        numbers = LANDLOCK_SYSCALLS.get(seccomp.machine_name())
        if numbers is None:
            return 0
        abi = self.libc.syscall(numbers[0], None, ctypes.c_size_t(0),
                                ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
        return max(int(abi), 0)

    def landlock(self, folder: str) -> None:
        """Confine this process to `folder`: no other file, no TCP, no outside signals.

        Needs no privilege (after no_new_privs). Network rules need ABI 4, signal
        and abstract-socket scoping ABI 6; older kernels enforce what they know.
        """
        calls = self._landlock
        if calls is None:
            raise OSError(38, "no Landlock on this kernel")
        syscall, zero = self.libc.syscall, calls.zero
        ruleset = self._check(syscall(calls.create, calls.attr_ref, calls.size, zero))
        try:
            folder_fd = os.open(folder, O_PATH | os.O_DIRECTORY)
            try:
                calls.rule.parent_fd = folder_fd  # the box's own copy-on-write page
                self._check(syscall(calls.add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH,
                                    calls.rule_ref, zero))
            finally:
                os.close(folder_fd)
            self._check(syscall(calls.restrict, ruleset, zero))
        finally:
            os.close(ruleset)
