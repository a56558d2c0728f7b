"""A zygote's boot: its CPU and wall time from launch to hello, and the modules it holds.

    python bench/zygote_boot.py [--zygotes 20] [--rounds 3] [--before CHECKOUT_FOLDER]

Every `grade exercise-N` boots one zygote and every `grade batch` one per worker, each
a fresh interpreter that imports what its boxes may need (grader/sandbox/modules.py).
Each round is a fresh process of its own that launches, greets and closes --zygotes
zygotes one after the other (`Sandbox.start`, then `close`), and reads the CPU of
everything each left behind once reaped (the unshare process, the zygote, its tmpfs
probe: getrusage(RUSAGE_CHILDREN)). With --before, that checkout's rounds interleave
with this tree's, so load hits both alike. Prints the median per zygote over the rounds
(and the least), and how many modules a box of a file that imports nothing sees.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from boxcpu_spawn import run_round  # noqa: E402

ROUND = r"""
import json, os, resource, sys, time
from pathlib import Path
import grader
assert Path(grader.__file__).resolve().parents[1] == Path(os.environ["PYTHONPATH"]).resolve()
from grader.sandbox.channel import BoxLimits
from grader.sandbox.client import Sandbox
limits = BoxLimits(memory_mb=512, cpu_seconds=5, file_size_kb=1024, output_chars=2000,
                   disk_kb=4096, disk_files=64)
def children_ms():
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (used.ru_utime + used.ru_stime) * 1000
count = int(sys.argv[1])
walls, cpus = [], []
for _ in range(count):
    sandbox = Sandbox()
    before, started = children_ms(), time.perf_counter()
    sandbox.start()
    walls.append((time.perf_counter() - started) * 1000)
    sandbox.close()  # waits for the zygote to end: its CPU is then ours to read
    cpus.append(children_ms() - before)
with Sandbox() as sandbox:
    try:  # its file names no on-demand module (a checkout before them takes no such list)
        opened = sandbox.box(limits, 10, [])
    except TypeError:
        opened = sandbox.box(limits, 10)
    with opened as box:
        source = "import sys\nnames = sorted(sys.modules)\n"
        assert box.request("load", source=source, filename="names.py").get("ok")
        held = len(box.request("get", name="names")["value"])
print(json.dumps({"wall": walls, "cpu": cpus, "modules": held}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--zygotes", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", type=Path, default=None, metavar="CHECKOUT_FOLDER")
    options = parser.parse_args()
    trees = {"this": REPO, **({"before": options.before} if options.before else {})}
    walls: dict[str, list[float]] = {name: [] for name in trees}
    cpus: dict[str, list[float]] = {name: [] for name in trees}
    held: dict[str, int] = {}
    for index in range(options.rounds):
        order = list(trees.items()) if index % 2 == 0 else list(trees.items())[::-1]
        for name, root in order:
            result = run_round(ROUND, root, str(options.zygotes))
            walls[name] += result["wall"]  # type: ignore[arg-type]
            cpus[name] += result["cpu"]  # type: ignore[arg-type]
            held[name] = int(result["modules"])  # type: ignore[call-overload]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"a zygote's launch to hello, per zygote ({options.zygotes} zygotes x "
          f"{options.rounds} rounds; load average {load}):")
    for name in trees:
        print(f"{name:8s} wall ms median {statistics.median(walls[name]):5.1f} "
              f"(min {min(walls[name]):5.1f})  CPU ms median {statistics.median(cpus[name]):5.1f} "
              f"(min {min(cpus[name]):5.1f})  modules a plain box sees {held[name]}")


if __name__ == "__main__":
    main()
