"""The zygote's boot is a learner's critical path: it imports only what boxes and learner
code need (the rest when a file names it), and a learner's command does not wait for it
to end, yet leaves nothing."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from grader.sandbox.channel import BoxLimits
from grader.sandbox.client import Sandbox
from grader.sandbox.modules import AT_BOOT, ON_DEMAND, named
from grader.sandbox.zygote import PRELOAD

LIMITS = BoxLimits(memory_mb=512, cpu_seconds=3, file_size_kb=1024, output_chars=2000,
                   disk_kb=4096, disk_files=64)
# Never needed in a box: tempfile and shutil's archive formats, the message types
NOT_NEEDED = {"tempfile", "shutil", "bz2", "lzma", "grader.sandbox.channel", "subprocess"}


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


NAMES = "import sys\nnames = sorted(sys.modules)\n"


def _modules_of(sandbox: Sandbox, source: str, modules: list[str] | None) -> set[str]:
    """The modules a box that loaded `source` holds, asked for with `modules`."""
    with sandbox.box(LIMITS, 10, modules) as box:
        loaded = box.request("load", source=source + NAMES, filename="names.py")
        assert loaded.get("ok"), loaded
        return set(box.request("get", name="names")["value"])


def test_a_box_holds_every_boot_module_but_nothing_the_zygote_need_not_import() -> None:
    with Sandbox() as sandbox:
        names = _modules_of(sandbox, "", named(NAMES))
    assert set(AT_BOOT) <= names, fail(sorted(set(AT_BOOT) - names), [],
                                       "learner code may import every boot module")
    assert not names & NOT_NEEDED, fail(sorted(names & NOT_NEEDED), [],
                                        "imported by the zygote's boot, used by no box")
    assert not names & set(ON_DEMAND), fail(sorted(names & set(ON_DEMAND)), [],
                                            "loaded only for a file that names them")


def test_a_box_sees_the_on_demand_modules_its_file_names_and_no_other_students() -> None:
    source = "import statistics\nfrom dataclasses import dataclass\n"
    with Sandbox() as sandbox:
        first = _modules_of(sandbox, source, named(source))
        after = _modules_of(sandbox, "", named(NAMES))  # its zygote has them loaded now
        unknown = _modules_of(sandbox, "", None)
    assert {"statistics", "dataclasses"} <= first, fail(
        sorted(first & set(ON_DEMAND)), ["dataclasses", "statistics"],
        "the zygote loads what a file names before its box forks")
    assert not {"fractions", "inspect", "typing"} & first, fail(
        sorted(first & {"fractions", "inspect", "typing"}), [],
        "what those bring along is seen only by a file that names it too")
    assert not after & set(ON_DEMAND), fail(
        sorted(after & set(ON_DEMAND)), [], "what a box can import depends on its own "
        "file alone, never on what another student's box needed")
    assert set(PRELOAD) <= unknown, fail(sorted(set(PRELOAD) - unknown), [],
                                         "a box of unknown source sees every module")


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def test_closing_to_leave_returns_at_once_and_the_zygote_still_ends_and_cleans_up() -> None:
    sandbox = Sandbox()
    sandbox.start()
    with sandbox.box(LIMITS, 10) as box:
        assert box.request("load", source="x = 1\n", filename="x.py").get("ok")
    launched, folder = sandbox.process_id, sandbox.info["boxes"]
    assert launched is not None and os.path.isdir(folder)
    sandbox.close_to_leave()
    deadline = time.monotonic() + 5
    while _state(launched) not in ("Z", "gone") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _state(launched) in ("Z", "gone"), fail(_state(launched), "Z",
                                                   "the zygote ends on its control's close")
    assert not os.path.exists(folder), fail(folder, None, "the zygote removes its folder")
    with contextlib.suppress(ChildProcessError):  # subprocess may have reaped it
        os.waitpid(launched, 0)


def test_the_zygote_boots_without_collecting_and_a_box_has_the_collector_on() -> None:
    source = "import gc\nstate = [gc.isenabled(), [g['collections'] for g in gc.get_stats()]]\n"
    with Sandbox() as sandbox, sandbox.box(LIMITS, 10) as box:
        assert box.request("load", source=source, filename="gc_state.py").get("ok")
        enabled, collections = box.request("get", name="state")["value"]
    assert enabled, fail(enabled, True, "learner code runs with the collector on")
    # a box inherits its zygote's counts: its own load runs a few young collections
    # (6 here), never an older one; a zygote that collected as it booted gave 25, 2, 0
    assert collections[1:] == [0, 0], fail(collections, "[any, 0, 0]", "the zygote's boot "
                                           "runs with gc disabled (sandbox/zygote.py main)")
