"""What each new lock-down step costs a box: fork+exit, plus a private tmpfs, plus seccomp.

    sudo python bench/confine_cost.py [--runs 60]   # root: the tmpfs needs mounting

Medians of `runs` children, interleaved per round so a loaded machine hurts all alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from grader.sandbox.confine import Kernel

STEPS = ("fork + exit", "+ private tmpfs", "+ tmpfs + seccomp")


def child(kernel: Kernel, step: int) -> float:
    folder = tempfile.mkdtemp(prefix="grade-cost-")
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            if step >= 1:
                kernel.private_tmpfs(folder, 8192, 256, None)
            if step >= 2:
                kernel.seccomp(os.getpid())
            code = 0
        finally:
            os._exit(code)
    status = os.waitpid(pid, 0)[1]
    elapsed = time.perf_counter() - started
    os.rmdir(folder)
    if status != 0:
        raise SystemExit(f"step {STEPS[step]!r} failed here (needs root for the tmpfs)")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=60)
    runs = parser.parse_args().runs
    kernel = Kernel()
    times: list[list[float]] = [[] for _ in STEPS]
    for _ in range(runs):
        for step in range(len(STEPS)):
            times[step].append(child(kernel, step))
    base = statistics.median(times[0])
    for step, name in enumerate(STEPS):
        median = statistics.median(times[step])
        print(f"{name:<20} median {median * 1000:6.2f} ms  (+{(median - base) * 1000:.2f} ms)")


if __name__ == "__main__":
    main()
