"""Where a learner's `grade exercise-1 SOLUTION` spends its wall time: one timeline per run.

    python bench/learner_timeline.py [--repeat 11] [--venvs DIR]

Runs the installs bench/startup.py --learner made (DIR/learner, and DIR/learner-before
when it exists), each on its own copy of the course, interleaved. Each run goes through
a wrapper (the console script's own `import re`, then `grader.cli.main`) that notes the
monotonic time, from just before the process is spawned, of: the interpreter up, the
zygote's launch (the first os.posix_spawn or subprocess.Popen, an audit event), the
main thread asking for the sandbox (`Booting.ready`) with its CPU time then, the
zygote's hello (`Sandbox._greet` returns), the first box, and the report out
(`grader.cli.leave`). Prints the min and median of each, in ms.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synthetic import FILES, course_copy  # noqa: E402

WRAPPER = r'''
import os, sys, time
T0 = float(os.environ["T0"])
LOG = []
def note(what):
    LOG.append(((time.monotonic() - T0) * 1000, what))
note("interpreter up")
def hook(event, args):
    if event in ("subprocess.Popen", "os.posix_spawn", "os.fork"):
        note("zygote launched")
sys.addaudithook(hook)
PathFinder = [f for f in sys.meta_path if getattr(f, "__name__", "") == "PathFinder"][0]
class Patch:
    @classmethod
    def find_spec(cls, name, path, target=None):
        if name not in ("grader.sandbox.client", "grader.cli"):
            return None
        spec = PathFinder.find_spec(name, path, target)
        run = spec.loader.exec_module
        def exec_module(module):
            run(module)
            patch(name, module)
        spec.loader.exec_module = exec_module
        return spec
def wrap(owner, attr, before, after):
    function = getattr(owner, attr)
    def wrapped(*args, **kwargs):
        if before: note(before)
        try:
            return function(*args, **kwargs)
        finally:
            if after: note(after)
    setattr(owner, attr, wrapped)
def patch(name, module):
    if name == "grader.sandbox.client":
        wrap(module.Sandbox, "_greet", None, "zygote said hello")
        wrap(module.Sandbox, "box", None, "first box")
        function = module.Booting.ready
        def ready(self):
            note("main asks for the sandbox")
            LOG.append((time.process_time() * 1000, "main's CPU by then"))
            return function(self)
        module.Booting.ready = ready
    else:
        leave = module.leave
        def noted(code):
            note("report out")
            sys.stderr.write("".join(f"\nTIMELINE {t:.2f} {w}" for t, w in LOG) + "\n")
            leave(code)
        module.leave = noted
sys.meta_path.insert(0, Patch)
sys.argv = ["grade", *sys.argv[1:]]
import re  # as pip's console script does, first
from grader.cli import main
main()
'''
EVENTS = ("interpreter up", "zygote launched", "main asks for the sandbox", "main's CPU by then",
          "zygote said hello", "first box", "report out", "process ended")


def timeline(python: Path, course: Path, wrapper: Path) -> dict[str, float]:
    """One run's first time of each event, in ms."""
    started = time.monotonic()
    done = subprocess.run([str(python), str(wrapper), "exercise-1",
                           f"solutions/{FILES['exercise-1']}"], cwd=course, text=True,
                          capture_output=True, check=False,
                          env={**os.environ, "T0": repr(started)})
    ended = (time.monotonic() - started) * 1000
    seen: dict[str, float] = {}
    for match in re.finditer(r"^TIMELINE ([\d.]+) (.*)$", done.stderr, re.MULTILINE):
        seen.setdefault(match[2], float(match[1]))
    seen["process ended"] = ended
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--venvs", type=Path, default=Path.home() / ".cache" / "grade-anchors")
    args = parser.parse_args()
    installs = {name: args.venvs / name / "bin" / "python"
                for name in ("learner", "learner-before")
                if (args.venvs / name / "bin" / "python").exists()}
    if not installs:
        sys.exit(f"no installs in {args.venvs}: run bench/startup.py --learner first")
    work = Path(tempfile.mkdtemp(prefix="grade-timeline-"))
    wrapper = work / "wrapper.py"
    wrapper.write_text(WRAPPER)
    courses = {name: course_copy(work / name, 10.0).parent for name in installs}
    for name, python in installs.items():  # the course caches, warm
        timeline(python, courses[name], wrapper)
    times: dict[str, dict[str, list[float]]] = {name: {} for name in installs}
    for _ in range(args.repeat):
        for name, python in installs.items():
            for event, at in timeline(python, courses[name], wrapper).items():
                times[name].setdefault(event, []).append(at)
    print(f"load average {os.getloadavg()}; ms since the spawn, min / median of "
          f"{args.repeat} interleaved runs")
    print(f"{'event':<30}" + "".join(f"{name:>22}" for name in installs))
    for event in EVENTS:
        row = [times[name].get(event) for name in installs]
        print(f"{event:<30}" + "".join(
            f"{min(v):>10.1f} / {statistics.median(v):>7.1f}" if v else f"{'-':>22}"
            for v in row))


if __name__ == "__main__":
    main()
