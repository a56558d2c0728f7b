"""A box's own CPU, cut where its isolation does not change (the boxcpu branch)."""

from __future__ import annotations

import os

import pytest

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
