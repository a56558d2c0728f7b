"""The seccomp filter every box installs last: system calls learner code never needs.

A small classic-BPF program, built here by hand (stdlib only: it is assembled in
the zygote's `-S` interpreter and installed in a box after chroot, where no
library can be loaded; libseccomp would add a system dependency for sixty lines).
`tests/test_seccomp.py` checks every syscall number below against libseccomp's own
tables where it is installed. The program, rule by rule:

1. the CPU architecture must be the zygote's (x86-64 or arm64): any other ABI
   (32-bit calls from a 64-bit process) kills the box, so no number can be
   smuggled in under another table; on x86-64 the x32 range (bit 30) is refused;
2. ``socket``, ``socketpair``, ``connect``, ``bind``, ``listen``, ``accept``:
   EPERM. The box keeps the one socket it was given (its channel, already
   connected) and can open no other: no network, no UNIX socket such as a
   session bus, at every level, namespaces or not;
3. ``ptrace``, ``process_vm_readv/writev``, ``kcmp``, ``pidfd_open/getfd/send_signal``:
   EPERM. No reading or steering another process;
4. ``mount`` and the new mount API, ``umount2``, ``pivot_root``, ``chroot``,
   ``unshare``, ``setns``: EPERM. No new view of the file system, no namespace;
5. ``bpf``, ``keyctl``, ``add_key``, ``request_key``, ``perf_event_open``,
   ``userfaultfd``, ``io_uring_*`` (which would run socket calls unfiltered),
   module, kexec, reboot, swap, acct, quotactl, file handles, ``personality``,
   ``syslog``, ``iopl``/``ioperm``: EPERM. Kernel surfaces learner code never needs;
6. ``chmod``, ``chown`` and ``utime`` in all their forms: EPERM. Landlock does
   not cover permission bits, owners or times (a box could change those of files
   it cannot open); learner code never needs them;
7. ``execve``, ``execveat``: EPERM. No new program, whatever is on disk;
8. ``clone``, ``fork``, ``vfork``: EAGAIN, as the process limit already answers
   (so the learner still reads "tried to start another process or thread");
   ``clone3``: ENOSYS, which makes the C library fall back to ``clone``;
9. ``kill``, ``tkill``, ``tgkill``, ``rt_sigqueueinfo``, ``rt_tgsigqueueinfo``: allowed
   only with the box itself as target (its pid, its group 0 or -pid: a box leads its
   own session), EPERM otherwise. A box may end itself; it can signal nothing else,
   even where it shares the grader's uid;
10. everything else is allowed: Python itself needs it.
"""

from __future__ import annotations

import errno
import os
import struct


def machine_name() -> str:
    """`platform.machine()` as Linux answers it (uname), without importing `platform`:
    the zygote imports this module before its first box, on every learner's run."""
    if hasattr(os, "uname"):
        return os.uname().machine
    import platform  # not Linux: no seccomp here, but the name is still asked

    return platform.machine()


# linux/audit.h
ARCHES = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
X32_BIT = 0x40000000

# Syscall numbers (x86-64, arm64); None where the architecture has no such call.
SYSCALLS: dict[str, tuple[int | None, int | None]] = {
    "socket": (41, 198), "socketpair": (53, 199), "connect": (42, 203), "bind": (49, 200),
    "listen": (50, 201), "accept": (43, 202), "accept4": (288, 242),
    "ptrace": (101, 117), "process_vm_readv": (310, 270), "process_vm_writev": (311, 271),
    "kcmp": (312, 272), "pidfd_open": (434, 434), "pidfd_getfd": (438, 438),
    "pidfd_send_signal": (424, 424),
    "mount": (165, 40), "umount2": (166, 39), "pivot_root": (155, 41), "chroot": (161, 51),
    "move_mount": (429, 429), "open_tree": (428, 428), "fsopen": (430, 430),
    "fsconfig": (431, 431), "fsmount": (432, 432), "fspick": (433, 433),
    "mount_setattr": (442, 442), "unshare": (272, 97), "setns": (308, 268),
    "bpf": (321, 280), "keyctl": (250, 219), "add_key": (248, 217),
    "request_key": (249, 218), "perf_event_open": (298, 241), "userfaultfd": (323, 282),
    "io_uring_setup": (425, 425), "io_uring_enter": (426, 426),
    "io_uring_register": (427, 427), "kexec_load": (246, 104), "kexec_file_load": (320, 294),
    "init_module": (175, 105), "finit_module": (313, 273), "delete_module": (176, 106),
    "reboot": (169, 142), "swapon": (167, 224), "swapoff": (168, 225), "acct": (163, 89),
    "quotactl": (179, 60), "name_to_handle_at": (303, 264),
    "open_by_handle_at": (304, 265), "personality": (135, 92), "syslog": (103, 116),
    "iopl": (172, None), "ioperm": (173, None),
    "chmod": (90, None), "fchmod": (91, 52), "fchmodat": (268, 53), "fchmodat2": (452, 452),
    "chown": (92, None), "fchown": (93, 55), "lchown": (94, None), "fchownat": (260, 54),
    "utime": (132, None), "utimes": (235, None), "futimesat": (261, None),
    "utimensat": (280, 88),
    "execve": (59, 221), "execveat": (322, 281),
    "clone": (56, 220), "fork": (57, None), "vfork": (58, None), "clone3": (435, 435),
    "kill": (62, 129), "tkill": (200, 130), "tgkill": (234, 131),
    "rt_sigqueueinfo": (129, 138), "rt_tgsigqueueinfo": (297, 240),
}
PROCESS = ("clone", "fork", "vfork")  # rule 8
NO_CLONE3 = ("clone3",)
SIGNALS = ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")  # rule 9
DENIED = tuple(name for name in SYSCALLS if name not in PROCESS + NO_CLONE3 + SIGNALS)

# seccomp(2) itself, to install with SECCOMP_FILTER_FLAG_SPEC_ALLOW (checked in tests too)
SECCOMP_SYSCALL = {"x86_64": 317, "aarch64": 277}
SET_MODE_FILTER, FLAG_SPEC_ALLOW = 1, 4

# linux/filter.h, linux/seccomp.h
LD_W_ABS, JEQ, JGE, RET = 0x20, 0x15, 0x35, 0x06
RET_KILL_PROCESS, RET_ALLOW, RET_ERRNO = 0x80000000, 0x7FFF0000, 0x00050000
OFFSET_NR, OFFSET_ARCH, OFFSET_ARG0 = 0, 4, 16  # struct seccomp_data; arg 0's low half

Instruction = tuple[int, int, int, int]  # code, jump if true, jump if false, k
_WORD = struct.Struct("=I")  # compiled here, once: not by struct's cache in every box


def _number(name: str, machine: str) -> int | None:
    return SYSCALLS[name][0 if machine == "x86_64" else 1]


def program(own_pid: int, machine: str | None = None) -> list[Instruction]:
    """The filter for a box whose pid (as it sees itself) is `own_pid`."""
    machine = machine or machine_name()
    if machine not in ARCHES:
        raise OSError(errno.ENOSYS, f"no seccomp filter for {machine}")
    eperm, eagain = RET_ERRNO | errno.EPERM, RET_ERRNO | errno.EAGAIN
    code: list[Instruction] = [
        (LD_W_ABS, 0, 0, OFFSET_ARCH),  # rule 1
        (JEQ, 1, 0, ARCHES[machine]),
        (RET, 0, 0, RET_KILL_PROCESS),
        (LD_W_ABS, 0, 0, OFFSET_NR),
    ]
    if machine == "x86_64":
        code += [(JGE, 0, 1, X32_BIT), (RET, 0, 0, eperm)]

    # One test per call, each jumping to its rule's one answer: a RET per rule, not one
    # per call, so the kernel checks, converts and compiles a program ~40% shorter in
    # every box (~0.1 ms of its CPU), and every call gets the same answer as before.
    answers = (eperm, eagain, RET_ERRNO | errno.ENOSYS)
    rules = ((DENIED, 0), (PROCESS, 1), (NO_CLONE3, 2), (SIGNALS, len(answers)))  # rules 2-9
    tests = [(number, target) for names, target in rules
             for number in (_number(name, machine) for name in names) if number is not None]
    # after the tests: ALLOW (rule 10), the answers, then the signals' target check
    for index, (number, target) in enumerate(tests):
        code.append((JEQ, len(tests) - index + target, 0, number))
    code.append((RET, 0, 0, RET_ALLOW))  # rule 10
    code += [(RET, 0, 0, action) for action in answers]
    own = own_pid & 0xFFFFFFFF
    code += [
        (LD_W_ABS, 0, 0, OFFSET_ARG0),
        (JEQ, 3, 0, own),  # itself
        (JEQ, 2, 0, 0),  # its own process group
        (JEQ, 1, 0, (-own_pid) & 0xFFFFFFFF),  # its group, by number (it leads it)
        (RET, 0, 0, eperm),
        (RET, 0, 0, RET_ALLOW),
    ]
    return code


def pack(code: list[Instruction]) -> bytes:
    """`code` as the kernel's array of struct sock_filter."""
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in code)


class Filter:
    """The program packed once, in the zygote; each box patches in its own pid.

    A box then spends no Python work (nor copy-on-write pages) building it.
    """

    def __init__(self, machine: str | None = None) -> None:
        code = program(0, machine)
        self.packed = pack(code)
        # the two instructions that name the box by pid: JEQ own, JEQ -own
        self.slots = (len(code) - 5, len(code) - 3)

    def for_pid(self, own_pid: int) -> bytes:
        data = bytearray(self.packed)
        self.patch(data, own_pid)
        return bytes(data)

    def patch(self, data: bytearray | memoryview, own_pid: int) -> None:
        """Write `own_pid` into `data`, a copy of `packed` (a box's, made by its zygote)."""
        for slot, value in zip(self.slots, (own_pid, -own_pid)):
            _WORD.pack_into(data, slot * 8 + 4, value & 0xFFFFFFFF)
