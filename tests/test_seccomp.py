"""The boxes' seccomp filter: right numbers, right answers, installed for real.

The program is run on a small classic-BPF interpreter (the four instructions it
uses) for every rule; the syscall numbers are compared with libseccomp's own
tables where libseccomp is installed; the attack suite runs it in real boxes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import struct

import pytest

from grader.sandbox import seccomp

PID = 4242


def run(code: list[seccomp.Instruction], nr: int, arch: int, arg0: int = 0) -> int:
    """What the kernel would answer: the program run on one struct seccomp_data."""
    data = struct.pack("=iIQ6Q", nr, arch, 0, arg0 & 0xFFFFFFFFFFFFFFFF, 0, 0, 0, 0, 0)
    accumulator, pc = 0, 0
    while True:
        op, jt, jf, k = code[pc]
        pc += 1
        if op == seccomp.LD_W_ABS:
            accumulator = struct.unpack_from("=I", data, k)[0]
        elif op == seccomp.JEQ:
            pc += jt if accumulator == k else jf
        elif op == seccomp.JGE:
            pc += jt if accumulator >= k else jf
        elif op == seccomp.RET:
            return k
        else:
            raise AssertionError(f"unknown instruction {op:#x}")


@pytest.mark.parametrize("machine", list(seccomp.ARCHES))
def test_every_rule_answers_as_documented(machine: str) -> None:
    code = seccomp.program(PID, machine)
    arch = seccomp.ARCHES[machine]
    column = 0 if machine == "x86_64" else 1

    def answer(name: str, arg0: int = 0) -> int:
        number = seccomp.SYSCALLS[name][column]
        assert number is not None
        return run(code, number, arch, arg0)

    eperm = seccomp.RET_ERRNO | errno.EPERM
    for name in seccomp.DENIED:
        if seccomp.SYSCALLS[name][column] is not None:
            assert answer(name) == eperm, name
    assert answer("clone") == seccomp.RET_ERRNO | errno.EAGAIN
    assert answer("clone3") == seccomp.RET_ERRNO | errno.ENOSYS
    for name in seccomp.SIGNALS:
        assert answer(name, PID) == seccomp.RET_ALLOW, name  # itself
        assert answer(name, PID + 1) == eperm, name  # anyone else
    assert answer("kill", 0) == seccomp.RET_ALLOW  # its own group
    assert answer("kill", -PID) == seccomp.RET_ALLOW
    assert answer("kill", -1) == eperm  # everything it may signal
    assert run(code, 0, arch) == seccomp.RET_ALLOW  # read (0 on x86-64) / io_setup (arm64)
    assert run(code, 63, arch) == seccomp.RET_ALLOW  # uname / read
    assert run(code, 59, 0x40000003) == seccomp.RET_KILL_PROCESS  # i386's ABI
    if machine == "x86_64":
        assert run(code, 41 | seccomp.X32_BIT, arch) == eperm  # x32's socket


def _libseccomp() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("seccomp")
    return ctypes.CDLL(name) if name else None


def test_syscall_numbers_match_libseccomp() -> None:
    library = _libseccomp()
    if library is None:
        pytest.skip("libseccomp is not installed here")
    resolve = library.seccomp_syscall_resolve_name_arch
    resolve.restype = ctypes.c_int
    for machine, arch in seccomp.ARCHES.items():
        column = 0 if machine == "x86_64" else 1
        for name, numbers in seccomp.SYSCALLS.items():
            known = resolve(arch, name.encode())
            expected = known if known >= 0 else None  # negative: no such call there
            assert numbers[column] == expected, (machine, name)
        assert seccomp.SECCOMP_SYSCALL[machine] == resolve(arch, b"seccomp")


@pytest.mark.parametrize("machine", list(seccomp.ARCHES))
def test_the_zygotes_prepacked_filter_is_the_boxs_program(machine: str) -> None:
    prepared = seccomp.Filter(machine)
    for pid in (1, 4242, 2**22 - 1):
        assert prepared.for_pid(pid) == seccomp.pack(seccomp.program(pid, machine))


@pytest.mark.skipif(seccomp.machine_name() not in seccomp.ARCHES, reason="no filter here")
def test_the_zygotes_program_buffer_patched_in_a_box_is_that_boxs_program() -> None:
    """Kernel builds the program's buffer once (in the zygote); a box only writes its pid
    into its copy. Each pid's patch leaves exactly that pid's program, whatever came before."""
    import os

    from grader.sandbox.confine import Kernel

    kernel = Kernel()
    assert kernel.seccomp_filter is not None
    for pid in (4242, 1, 2**22 - 1):
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # the patch, as a box makes it, in a process of its own
            try:
                kernel.seccomp_filter.patch(memoryview(kernel._program).cast("B"), pid)
                os.write(write, bytes(kernel._program))
            finally:
                os._exit(0)
        os.close(write)
        with os.fdopen(read, "rb") as answer:
            patched = answer.read()
        os.waitpid(child, 0)
        assert patched == seccomp.pack(seccomp.program(pid)), f"the program for pid {pid}"
    assert bytes(kernel._program) == kernel.seccomp_filter.packed, \
        "the zygote's own buffer is never patched"
