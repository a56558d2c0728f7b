"""The two sandboxes are siblings behind one protocol, and every box gets one rlimit table."""

from __future__ import annotations

from grader.sandbox import portable_box, zygote
from grader.sandbox.channel import BoxLimits
from grader.sandbox.client import Sandbox, SandboxBackend
from grader.sandbox.portable import PortableSandbox


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


def test_the_portable_sandbox_is_a_sibling_of_the_linux_one_not_a_subclass() -> None:
    bases = PortableSandbox.__mro__
    assert Sandbox not in bases, fail(bases, "no Sandbox", "siblings under SandboxBackend")
    members = {name for name in vars(SandboxBackend) if not name.startswith("_")}
    for backend in (Sandbox, PortableSandbox):
        missing = {name for name in members if not hasattr(backend, name)
                   and name not in ("isolation", "info", "generation")}
        assert not missing, fail(missing, set(), f"{backend.__name__} offers all of it")


def test_zygote_and_portable_boxes_apply_the_same_rlimit_table() -> None:
    from grader.sandbox.rlimits import rlimit_table, set_rlimits

    assert zygote.set_rlimits is set_rlimits and portable_box.set_rlimits is set_rlimits, \
        "both box kinds apply rlimits.set_rlimits"
    limits = BoxLimits(memory_mb=256, cpu_seconds=4, file_size_kb=8, output_chars=1,
                       disk_kb=1, disk_files=1)
    table = dict((name, (soft, hard)) for name, soft, hard in rlimit_table(limits))
    expected = {"RLIMIT_AS": (256 << 20, 256 << 20), "RLIMIT_CPU": (4, 5),
                "RLIMIT_FSIZE": (8192, 8192), "RLIMIT_NOFILE": (32, 32),
                "RLIMIT_CORE": (0, 0), "RLIMIT_NPROC": (0, 0)}
    assert table == expected, fail(table, expected, "the Linux box's limits, once")
