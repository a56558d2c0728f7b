"""What a box does per submission, cut to what it must: each saving keeps its guarantee.

The host measures a call's results before encoding them (`host._json_size`) with
C loops and built-in methods only; the trusted side skips tokenizing a file with no
blank in it; the zygote kills a box's uid itself rather than in a forked helper.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.runner.source import find_blanks
from grader.sandbox import protocol
from grader.sandbox.host import Host, _json_size


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


def _call(source: str, name: str = "f") -> dict[str, Any]:
    host = Host()
    loaded = host.handle({"op": "load", "source": source, "filename": "s.py", "id": 1})
    assert loaded.get("ok"), loaded
    return dict(host.handle({"op": "call", "name": name, "args": [], "kwargs": {},
                             "repeat": 1, "id": 2}))


def test_a_str_subclass_is_measured_by_strs_own_length_not_its_len() -> None:
    # json's encoder writes a str subclass's characters without calling its __len__;
    # the size check must not run learner code json itself would not run either.
    reply = _call("class S(str):\n    def __len__(self):\n        raise RuntimeError('mine')\n"
                  "def f():\n    return [S('ab'), S('c')]\n")
    assert reply.get("results") == [["ab", "c"]], fail(
        reply, {"results": [["ab", "c"]]}, "the values are sent; S.__len__ never runs")


def test_a_flat_list_too_large_to_send_is_still_refused() -> None:
    # 500,000 strings of 10 characters: 6 MB of JSON, over protocol.MAX_VALUE (4 MB)
    reply = _call("def f():\n    return ['abcdefghij'] * 500_000\n")
    error = reply.get("error", {})
    assert error.get("kind") == "too_large", fail(error, "too_large",
                                                  "the fast path counts every string")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=6)
    | st.dictionaries(st.text(max_size=5), children, max_size=6),
    max_leaves=40)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(JSON)
def test_the_measured_size_never_exceeds_the_json_text_but_by_a_comma_per_container(
        value: Any) -> None:
    # Each container is counted with a separator after every item, its last one too:
    # at most one character per container over the text json writes.
    measured = _json_size(value, protocol.MAX_VALUE, {}, set())
    written = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False))
    assert measured <= written + _containers(value), fail(
        measured, f"<= {written} + {_containers(value)}", f"for {value!r}")


def _containers(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + sum(map(_containers, value.values()))
    if isinstance(value, list):
        return 1 + sum(map(_containers, value))
    return 0


def test_a_file_without_blanks_has_none_and_one_with_them_names_their_lines() -> None:
    assert find_blanks("x = 1\ny = 'no blank here'\n") == []
    assert find_blanks("x = ___\ns = '___'\n# ___\ny = ___ + 1\n") == [1, 4], fail(
        find_blanks("x = ___\ns = '___'\n# ___\ny = ___ + 1\n"), [1, 4],
        "only the blanks standing as names count")


# --- the zygote's cleanup kills a box's uid without forking a helper --------------------

OTHER_UIDS = (1_399_001, 1_399_002)  # below every zygote's range (zygote.UID_BASE)


def _sleeper(uid: int | None) -> int:
    """A child process sleeping as `uid` (None: as us)."""
    pid = os.fork()
    if pid == 0:
        try:
            if uid is not None:
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
            time.sleep(60)
        finally:
            os._exit(0)
    return pid


def _alive(pid: int) -> bool:
    done, _ = os.waitpid(pid, os.WNOHANG)
    return done == 0


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="only root owns other uids (the zygote's setuid isolation)")
def test_killing_a_uid_kills_its_processes_only_and_forks_nothing() -> None:
    from grader.sandbox.confine import Kernel
    from grader.sandbox.zygote import kill_uid

    target, bystander = (_sleeper(uid) for uid in OTHER_UIDS)
    ours = _sleeper(None)
    read, write = os.pipe()
    stand_in = os.fork()
    if stand_in == 0:  # the zygote's part, in a process of its own: it changes uids
        try:
            kernel = Kernel()
            kernel.die_with_parent()
            forks: list[int] = []
            os.register_at_fork(before=lambda: forks.append(1))
            kill_uid(OTHER_UIDS[0], kernel)
            after = (list(os.getresuid()), kernel.parent_death_signal(), len(forks))
            os.write(write, json.dumps(after).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        ids, death, forks = json.loads(answer.read() or "null")
    os.waitpid(stand_in, 0)
    time.sleep(0.2)
    try:
        assert not _alive(target), fail("alive", "killed", "a process of the box's uid")
        assert _alive(bystander), fail("killed", "alive", "another uid's process is spared")
        assert _alive(ours), fail("killed", "alive", "root's processes are spared")
        assert ids == [0, 0, 0], fail(ids, [0, 0, 0], "the zygote is root again after")
        assert death == 9, fail(death, 9, "its parent-death signal is set again")
        assert forks == 0, fail(forks, 0, "no helper process is forked per box")
    finally:
        for pid in (target, bystander, ours):
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)


# --- the zygote prepares what every box's lock-down uses -------------------------------


def test_every_libc_function_a_box_calls_is_found_once_in_the_zygote() -> None:
    import re

    from grader.sandbox import confine

    kernel = confine.Kernel()
    called = set(re.findall(r"self\.libc\.(\w+)", Path(confine.__file__).read_text()))
    assert called <= set(confine.LIBC_CALLS), fail(
        sorted(called - set(confine.LIBC_CALLS)), [], "confine.LIBC_CALLS lists every call")
    found = [name for name in confine.LIBC_CALLS if name in vars(kernel.libc)]
    assert found == list(confine.LIBC_CALLS), fail(
        found, list(confine.LIBC_CALLS), "looked up by Kernel(), kept on the CDLL by ctypes")


# --- what every box inherits from its zygote instead of redoing -----------------------

FORK_PROBE = """
import json, os
from grader.sandbox.zygote import preload
preload(("random", "threading"))
import random, threading
lock, state = id(threading._shutdown_locks_lock), random.getstate()
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    same = [random.getstate() == state, id(threading._shutdown_locks_lock) == lock]
    os.write(write, json.dumps(same).encode())
    os._exit(0)
os.close(write)
print(os.read(read, 100).decode())
os.waitpid(pid, 0)
"""


@pytest.mark.skipif(not hasattr(os, "register_at_fork"), reason="no fork here")
def test_a_child_of_the_preloaded_zygote_runs_no_hook_random_or_threading_registered() -> None:
    # random's hook reseeds it from the OS and threading's rebuilds its thread table in
    # every child: about half a millisecond of each box's CPU, for nothing a box needs
    # (the host seeds random before learner code runs; the zygote has one thread).
    import subprocess
    import sys

    import grader

    root = str(Path(grader.__file__).resolve().parents[1])
    done = subprocess.run([sys.executable, "-S", "-c", FORK_PROBE], capture_output=True,
                          text=True, env={"PYTHONPATH": root}, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [True, True], fail(
        done.stdout.strip(), "[true, true]",
        "the child keeps random's state and threading's lock: no at-fork hook ran")


ROOT_ONLY = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                               reason="only root has capabilities to drop")
INHERITED = """
import ctypes, os
libc = ctypes.CDLL(None)
bounding = [libc.prctl(23, cap, 0, 0, 0) for cap in range(41)]  # PR_CAPBSET_READ
environment = dict(os.environ)
c_environment = [libc.getenv(name) for name in (b"PATH", b"PYTHONHASHSEED", b"TMPDIR")]
"""


def _box_values(names: tuple[str, ...]) -> tuple[list[Any], dict[str, Any]]:
    from grader.sandbox.channel import BoxLimits
    from grader.sandbox.client import Sandbox

    limits = BoxLimits(memory_mb=512, cpu_seconds=3, file_size_kb=1024, output_chars=2000,
                       disk_kb=4096, disk_files=64)
    with Sandbox() as sandbox:
        with sandbox.box(limits, 10) as box:
            loaded = box.request("load", source=INHERITED, filename="inherited.py")
            assert loaded.get("ok"), loaded
            values = [box.request("get", name=name).get("value") for name in names]
        return values, dict(box.status)


def test_a_box_has_no_environment_at_all_and_its_status_counts_its_page_faults() -> None:
    (environment, c_environment), status = _box_values(("environment", "c_environment"))
    assert environment == {}, fail(environment, {}, "os.environ is empty in a box")
    assert c_environment == [0, 0, 0], fail(c_environment, [0, 0, 0],
                                            "so is the C library's (the zygote's own)")
    faults = status.get("faults")
    assert isinstance(faults, int) and faults > 0, fail(
        faults, "a count", "the zygote reports the page faults a box took (bench/ reads it)")


@ROOT_ONLY
def test_a_box_and_its_zygote_have_an_empty_capability_bounding_set(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.sandbox.channel import BoxLimits
    from grader.sandbox.client import LEVEL_VARIABLE, Sandbox

    (bounding,), _ = _box_values(("bounding",))
    assert bounding == [0] * 41, fail(bounding, [0] * 41, "a box can gain no capability")
    monkeypatch.setenv(LEVEL_VARIABLE, "no-namespaces")  # the zygote is the process started
    with Sandbox() as sandbox:
        with sandbox.box(BoxLimits(memory_mb=512, cpu_seconds=3, file_size_kb=1024,
                                   output_chars=2000, disk_kb=4096, disk_files=64), 10):
            pass  # the zygote prepares for boxes before its first fork
        status = Path(f"/proc/{sandbox.process_id}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("CapBnd:"))
    assert int(line.split()[1], 16) == 0, fail(
        line, "CapBnd: 0", "the zygote empties it once, for every box it forks")


# --- a function's draws are written once per distinct outcome ------------------------


def test_ten_thousand_draws_of_three_outcomes_are_written_by_jsons_encoder_three_times(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # json's encoder makes (and keeps) a new string object per item: in a box, fresh
    # memory and its page faults. The draws' text is made from each outcome's once.
    import json.encoder

    written: list[str] = []
    encode = json.encoder.encode_basestring_ascii

    def counted(text: str) -> str:
        written.append(text)
        return encode(text)

    monkeypatch.setattr(json.encoder, "encode_basestring_ascii", counted)
    host = Host()
    source = "import random\ndef f():\n    return random.choice(['sun', 'rain', 'fog'])\n"
    assert host.handle({"op": "load", "source": source, "filename": "s.py", "id": 1})["ok"]
    reply = host.handle({"op": "call", "name": "f", "args": [], "kwargs": {}, "seed": 0,
                         "repeat": 10_000, "id": 2})
    assert len(reply["results"]) == 10_000 and set(reply["results"]) == {"sun", "rain", "fog"}
    assert len(written) == 3, fail(len(written), 3, "one encoding per distinct outcome")


OUTCOMES = st.lists(st.text(max_size=4) | st.sampled_from(["\ud800", "\"\\", "\x00\n", "é"]),
                    min_size=1, max_size=5)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(OUTCOMES, st.lists(st.integers(min_value=0, max_value=4), max_size=60))
def test_draws_are_written_exactly_as_jsons_encoder_writes_them(
        outcomes: list[str], picks: list[int]) -> None:
    from grader.sandbox.host import _encode

    draws = [outcomes[i % len(outcomes)] for i in picks]
    expected = json.dumps(draws, separators=(",", ":"), allow_nan=True)
    assert _encode(draws) == expected, fail(_encode(draws), expected, f"for {draws!r}")


# --- the trusted side's part of a request -------------------------------------------


def test_a_request_to_a_box_builds_no_json_encoder_and_runs_no_import_machinery() -> None:
    # Per request, json.dumps(..., separators=...) built a JSONEncoder anew and each
    # `from grader import x` in Box.request ran importlib's _handle_fromlist in Python.
    import sys

    from grader.sandbox.channel import BoxLimits
    from grader.sandbox.client import Sandbox

    limits = BoxLimits(memory_mb=512, cpu_seconds=3, file_size_kb=1024, output_chars=2000,
                       disk_kb=4096, disk_files=64)
    ran: list[str] = []

    def profile(frame: Any, event: str, arg: object) -> None:
        if event == "call":
            ran.append(f"{frame.f_code.co_filename}:{frame.f_code.co_name}")

    with Sandbox() as sandbox, sandbox.box(limits, 10) as box:
        assert box.request("load", source="x = {'a': 1}\n", filename="x.py").get("ok")
        sys.setprofile(profile)
        try:
            value = box.request("get", name="x").get("value")
        finally:
            sys.setprofile(None)
    assert value == {"a": 1}
    waste = [name for name in ran if name.endswith(("encoder.py:__init__", "_handle_fromlist"))]
    assert waste == [], fail(waste, [], "one encoder made at import; `import a.b as c`")


def _reference(value: Any) -> str:
    """What a box sent before draws had their own path: _too_large, then json.dumps."""
    from grader.sandbox.host import _too_large

    if _too_large(value, protocol.MAX_VALUE):
        return "too large"
    text = json.dumps(value, separators=(",", ":"), allow_nan=True)
    return "too large" if len(text) > protocol.MAX_VALUE else text


@pytest.mark.parametrize("draws", [
    ["abcdefghij"] * 349_525, ["abcdefghij"] * 349_526,  # 2 + 12 n around 4 MiB
    ["\""] * 1_398_100, ["\""] * 1_398_101,  # each written as 4 characters, counted as 3
    ["x"] * 2_097_150, ["x"] * 2_097_151,  # over by the length alone
    [str(i) for i in range(5_000)], ["a"], [],
], ids=lambda draws: f"{len(draws)} of {draws[0]!r}" if draws else "none")
def test_draws_are_refused_as_too_large_exactly_when_they_were(draws: list[str]) -> None:
    from grader.sandbox.host import TooLarge, _encode

    try:
        sent = _encode(draws)
    except TooLarge:
        sent = "too large"
    expected = _reference(draws)
    assert sent == expected, fail(str(sent)[:40], expected[:40], "the same limit, as before")


def test_ten_thousand_draws_cost_a_box_under_two_hundred_page_faults_more_than_ten() -> None:
    # Measured here (median of 5 boxes each): 90 more now, 345 more with json.dumps
    # writing each draw anew; fresh memory in a forked box is a page fault per page.
    from grader.sandbox.channel import BoxLimits
    from grader.sandbox.client import Sandbox

    limits = BoxLimits(memory_mb=512, cpu_seconds=3, file_size_kb=1024, output_chars=2000,
                       disk_kb=4096, disk_files=64)
    source = "import random\ndef f():\n    return random.choice(['sun', 'rain', 'fog'])\n"

    def faults(sandbox: Sandbox, repeat: int) -> int:
        with sandbox.box(limits, 10) as box:
            assert box.request("load", source=source, filename="draws.py").get("ok")
            box.request("call", name="f", args=[], kwargs={}, seed=0, repeat=repeat)
        return int(box.status.get("faults", 0))

    with Sandbox() as sandbox:
        faults(sandbox, 10)  # the zygote's first box prepares the rest (prepare_boxes)
        few = sorted(faults(sandbox, 10) for _ in range(5))[2]
        many = sorted(faults(sandbox, 10_000) for _ in range(5))[2]
    assert few > 0 and many - few < 200, fail(
        many - few, "< 200", f"page faults of 10,000 draws ({many}) over 10 ({few})")


def test_a_box_finds_the_zygotes_objects_frozen_out_of_its_collections() -> None:
    # A full collection in a box walked (and wrote to) every object the zygote had
    # imported: copy-on-write faults and CPU for what the box never made.
    from grader.sandbox.channel import BoxLimits
    from grader.sandbox.client import Sandbox

    limits = BoxLimits(memory_mb=512, cpu_seconds=3, file_size_kb=1024, output_chars=2000,
                       disk_kb=4096, disk_files=64)
    source = "import gc\nfrozen = gc.get_freeze_count()\nmine = len(gc.get_objects())\n"
    with Sandbox() as sandbox, sandbox.box(limits, 10) as box:
        assert box.request("load", source=source, filename="gc.py").get("ok")
        frozen = box.request("get", name="frozen").get("value")
        mine = box.request("get", name="mine").get("value")
    assert isinstance(frozen, int) and isinstance(mine, int) and frozen > 10 * mine, fail(
        (frozen, mine), "frozen >> tracked", "the zygote froze what it imported")


@pytest.mark.parametrize(("args", "kwargs"), [([], {}), ([[]], {}), ([[], 2], {}),
                                              ([[]], {"step": 3})])
def test_a_draw_calls_the_function_as_a_loop_of_direct_calls_would(
        args: list[Any], kwargs: dict[str, object]) -> None:
    # Draws of one positional argument skip the */** unpacking per call: the same calls,
    # the same object each time (a list the function appends to grows across the draw).
    source = ("def f(seen=None, step=1, *, step_kw=0):\n"
              "    if seen is None:\n        return 0\n"
              "    seen.append(step)\n    return len(seen)\n")
    kwargs = {"step_kw": kwargs["step"]} if kwargs else {}
    host = Host()
    assert host.handle({"op": "load", "source": source, "filename": "s.py", "id": 1})["ok"]
    reply = host.handle({"op": "call", "name": "f", "args": args, "kwargs": kwargs,
                         "seed": 0, "repeat": 5, "id": 2})
    seen: list[int] = []
    namespace: dict[str, Any] = {}
    exec(source, namespace)
    direct = [namespace["f"](*([seen, *args[1:]] if args else []), **kwargs) for _ in range(5)]
    assert json.loads(json.dumps(reply["results"])) == direct, fail(
        reply["results"], direct, "a draw is `repeat` direct calls, in order")
