"""A box's own CPU, cut where its isolation does not change (the boxcpu branch)."""

from __future__ import annotations

import errno
import os
import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.sandbox import protocol
from grader.sandbox.channel import BoxLimits
from grader.sandbox.client import Sandbox

LIMITS = BoxLimits(memory_mb=512, cpu_seconds=5, file_size_kb=1024, output_chars=2000,
                   disk_kb=4096, disk_files=64)
WRITES = """\
import os, sys
with open("mine.txt", "w") as f:
    f.write(sys.argv[0])
seen = sorted(os.listdir("/"))
name = sys.argv[0]
"""


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


def test_a_box_with_a_tmpfs_of_its_own_makes_no_folder_and_sees_only_its_own_files() -> None:
    with Sandbox() as sandbox:
        if sandbox.isolation.get("disk") != "tmpfs":
            pytest.skip("this machine gives no box a tmpfs of its own")
        base = sandbox.info["boxes"]
        with sandbox.box(LIMITS, 10) as first, sandbox.box(LIMITS, 10) as second:
            for box in (first, second):
                assert box.request("load", source=WRITES, filename="w.py").get("ok")
            # both alive: each sees its own file only, the zygote's folder stays empty
            seen = [box.request("get", name="seen")["value"] for box in (first, second)]
            names = [box.request("get", name="name")["value"] for box in (first, second)]
            assert seen == [["mine.txt"], ["mine.txt"]], fail(
                seen, [["mine.txt"]] * 2, "a box's root is its own tmpfs, nothing else")
            assert names[0] != names[1] and all(n.startswith("box-") for n in names), fail(
                names, "box-N, box-M", "each box is still named for its number")
            assert os.listdir(base) == [], fail(
                os.listdir(base), [], "a box's tmpfs covers the boxes folder in its own "
                "mount namespace: no folder per box to make, chown and remove")
        assert os.listdir(base) == [], fail(os.listdir(base), [], "nothing left behind")


PLUGGED = """\
import gc, os, resource, sys
from grader.sandbox.zygote import _free_blocks, plug_pools
gc.disable()
kept = [bytes(15) for _ in range(50_000)]  # 48-byte blocks
del kept[::10]  # 5,000 holes, spread over every page of them

def faults_of_a_child():
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        made = [bytes(15) for _ in range(5_000)]
        after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        os.write(write, str(after - before).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    os.close(write)
    return int(os.read(read, 100))

holes = faults_of_a_child()
plugs = plug_pools()
print(len(_free_blocks()), holes, faults_of_a_child())
"""


def test_after_plug_pools_a_forked_childs_allocations_fault_fresh_pages_not_holes() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", PLUGGED], capture_output=True, text=True,
                          check=True)
    classes, holes, plugged = map(int, done.stdout.split())
    assert classes == 32, fail(classes, 32, "_debugmallocstats' table is read (else no plug)")
    # 5,000 objects in holes 1 in 10: a page written per ~8 objects (~600 faults); in
    # fresh pools, 85 objects a page (~60 faults, and the list's own ~10)
    assert plugged * 3 < holes, fail((holes, plugged), "a third or less",
                                    "a child's allocations fill fresh pages, not the holes")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(st.characters(blacklist_categories=())),  # lone surrogates too
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=5), children, max_size=5),
    max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), JSON, max_size=6))
def test_a_box_reads_a_request_as_recv_would(message: dict[str, object]) -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        protocol.send(ours, message)
        protocol.send(ours, message)
        expected = protocol.recv(theirs)
        assert protocol.read_request(theirs) == expected, fail(
            "another message", expected, "json's scanner reads what json.loads reads")


@pytest.mark.parametrize("frame", [b"[1]", b'{"a": 1} x', b'{"a":', b"\xff", b" {}", b""])
def test_a_frame_that_is_not_one_json_object_is_refused_by_the_boxs_reader(
        frame: bytes) -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.sendall(protocol.HEADER.pack(len(frame)) + frame)
        with pytest.raises(protocol.ProtocolError):
            protocol.read_request(theirs)


def _reference(machine: str, number: int, arch: int, arg0: int, pid: int) -> int:
    """What seccomp.py's rules answer, written out from its docstring."""
    from grader.sandbox import seccomp as sc

    column = 0 if machine == "x86_64" else 1
    named = {numbers[column]: name for name, numbers in sc.SYSCALLS.items()
             if numbers[column] is not None}
    eperm = sc.RET_ERRNO | errno.EPERM
    if arch != sc.ARCHES[machine]:
        return sc.RET_KILL_PROCESS
    if machine == "x86_64" and number >= sc.X32_BIT:
        return eperm
    name = named.get(number)
    if name in sc.PROCESS:
        return sc.RET_ERRNO | errno.EAGAIN
    if name in sc.NO_CLONE3:
        return sc.RET_ERRNO | errno.ENOSYS
    if name in sc.SIGNALS:
        own = arg0 & 0xFFFFFFFF in (pid, 0, (-pid) & 0xFFFFFFFF)
        return sc.RET_ALLOW if own else eperm
    return eperm if name in sc.DENIED else sc.RET_ALLOW


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_the_seccomp_program_answers_every_call_as_its_rules_say_in_one_test_per_call(
        machine: str) -> None:
    from grader.sandbox import seccomp as sc
    from tests.test_seccomp import run

    pid = 4321
    code = sc.program(pid, machine)
    tested = sum(1 for numbers in sc.SYSCALLS.values()
                 if numbers[0 if machine == "x86_64" else 1] is not None)
    # the arch check (3-5), the tests, ALLOW and the 3 answers, the signals' check (6)
    assert len(code) <= tested + 16, fail(len(code), f"<= {tested + 16}",
                                          "one instruction per call, one RET per rule")
    arch = sc.ARCHES[machine]
    for number in [*range(1024), *(n | sc.X32_BIT for n in range(0, 600, 7))]:
        for arg0 in (0, pid, pid + 1, -pid, -1):
            for where in (arch, 0x40000003):
                answer = run(code, number, where, arg0)
                expected = _reference(machine, number, where, arg0, pid)
                assert answer == expected, fail(answer, expected, f"call {number}, {arg0}")
