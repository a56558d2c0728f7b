"""A box's end, cut to what it must: once its trusted side hangs up, it leaves at once."""

from __future__ import annotations

import sys

import pytest

from grader.sandbox.channel import BoxLimits
from grader.sandbox.client import Sandbox

LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux zygote")
LIMITS = BoxLimits(memory_mb=512, cpu_seconds=5, file_size_kb=1024, output_chars=2000,
                   disk_kb=4096, disk_files=64)

# An object whose finalizer never returns, reachable from the module's globals only
# (no function of the module refers back to them): a box that tore the learner's module
# down on its way out would run it, and spin until killed.
SPINS_WHEN_FREED = """\
scratch = {}
exec("def spin(self):\\n    while True:\\n        pass\\n", scratch)
Spins = type("Spins", (), {"__del__": scratch["spin"]})
kept = Spins()
del scratch, Spins
"""


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


@LINUX
def test_a_box_whose_trusted_side_hung_up_leaves_without_freeing_the_learners_objects(
        ) -> None:
    with Sandbox() as sandbox:
        box = sandbox.box(LIMITS, 10)
        assert box.request("load", source=SPINS_WHEN_FREED, filename="spins.py").get("ok")
        box.close(hung_up=True)  # the zygote waits up to a second for it to end itself
    ended = {key: box.status.get(key) for key in ("exit", "signal", "killed")}
    assert ended == {"exit": 0, "signal": None, "killed": False}, fail(
        ended, "exit 0, not killed", "a box leaves by os._exit as soon as its channel "
        "closes: tearing the learner's module down first is work for a process about to "
        "end (and runs its finalizers)")
