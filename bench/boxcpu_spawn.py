"""A box's fixed cost: the CPU and page faults of a box that loads `x = 1` and ends.

    python bench/boxcpu_spawn.py [--boxes 60] [--rounds 5] [--before CHECKOUT_FOLDER]

What every graded file pays before and after its learner code (fork, lock-down, the
host's start, one request, exit), as its zygote reaped it (wait4's rusage: exact CPU
of the box alone, its page faults). Each round is a fresh process with its own
zygote; with --before, that checkout's rounds interleave with this tree's, so load
hits both alike. Per box: the mean CPU (the zygote reports it to the millisecond),
the median page faults, the least of each over every box of every round (load
inflates the least least), and the zygote's own CPU per box (/proc ticks).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

ROUND = r"""
import json, os, sys
from pathlib import Path
import grader
assert Path(grader.__file__).resolve().parents[1] == Path(os.environ["PYTHONPATH"]).resolve()
from grader.sandbox.channel import BoxLimits
from grader.sandbox.client import Sandbox
limits = BoxLimits(memory_mb=512, cpu_seconds=5, file_size_kb=1024, output_chars=2000,
                   disk_kb=4096, disk_files=64)
boxes = int(sys.argv[1])
rows = []
with Sandbox() as sandbox:
    launched = sandbox.process_id
    children = Path(f"/proc/{launched}/task/{launched}/children").read_text().split()
    zygote = int(children[0]) if children else launched
    def ticks():
        fields = Path(f"/proc/{zygote}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    for index in range(boxes + 3):  # the first two: the zygote's once-only work
        if index == 3:
            start = ticks()
        with sandbox.box(limits, 10) as box:
            assert box.request("load", source="x = 1\n", filename="x.py").get("ok")
        if index >= 3:
            rows.append((box.status["cpu"] * 1000, box.status["faults"]))
    zygote_ms = (ticks() - start) * 1000 / os.sysconf("SC_CLK_TCK") / boxes
print(json.dumps({"rows": rows, "zygote": zygote_ms}))
"""


def run_round(script: str, root: Path, *args: str) -> dict[str, object]:
    """`script` run by a fresh interpreter that imports grader from checkout `root`; the
    JSON object its last line prints (bench/zygote_boot.py runs its rounds so too)."""
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                          text=True, check=False, cwd="/",
                          env={**os.environ, "PYTHONPATH": str(root)})
    if done.returncode:
        raise SystemExit(f"{root}: {done.stderr.strip()[-2000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def one_round(root: Path, boxes: int) -> dict[str, object]:
    return run_round(ROUND, root, str(boxes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--boxes", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--before", type=Path, default=None, metavar="CHECKOUT_FOLDER")
    options = parser.parse_args()
    trees = {"this": REPO, **({"before": options.before} if options.before else {})}
    rows: dict[str, list[tuple[float, int]]] = {name: [] for name in trees}
    zygote: dict[str, list[float]] = {name: [] for name in trees}
    for index in range(options.rounds):
        order = list(trees.items()) if index % 2 == 0 else list(trees.items())[::-1]
        for name, root in order:
            result = one_round(root, options.boxes)
            rows[name] += [tuple(r) for r in result["rows"]]  # type: ignore[attr-defined]
            zygote[name].append(float(result["zygote"]))  # type: ignore[arg-type]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"a box that loads `x = 1`, per box ({options.boxes} boxes x {options.rounds} "
          f"rounds; load average {load}):")
    for name in trees:
        cpu = [r[0] for r in rows[name]]
        faults = [r[1] for r in rows[name]]
        # the mean: the zygote reports CPU to the millisecond, a box takes a few
        print(f"{name:8s} box CPU ms mean {statistics.fmean(cpu):5.2f} "
              f"(min {min(cpu):5.2f})  faults median {statistics.median(faults):5.0f} "
              f"(min {min(faults):4d})  zygote ms/box {statistics.median(zygote[name]):5.2f}")


if __name__ == "__main__":
    main()
