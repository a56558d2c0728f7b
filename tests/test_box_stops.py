"""A box that stops carries the limit it hit and that limit's value, not only a name."""

from __future__ import annotations

import pytest

from grader.runner.outcomes import describe_stop
from grader.sandbox.channel import BoxLimits
from grader.sandbox.client import BoxStopped, StopReason
from grader.sandbox.levels import make_sandbox

LIMITS = BoxLimits(memory_mb=512, cpu_seconds=3, file_size_kb=1024, output_chars=2000,
                   disk_kb=4096, disk_files=64)


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


def test_a_box_past_its_time_says_the_seconds_it_had() -> None:
    with make_sandbox() as sandbox, sandbox.box(LIMITS, 1.5) as box, \
            pytest.raises(BoxStopped) as stopped:
        box.request("load", source="while True:\n    pass\n", filename="s.py")
    stop = stopped.value
    assert stop.reason is StopReason.TIMEOUT, fail(stop.reason, StopReason.TIMEOUT, "a hang")
    assert (stop.limit, stop.value, stop.seconds) == ("time_limit", 1.5, 1.5), fail(
        (stop.limit, stop.value, stop.seconds), ("time_limit", 1.5, 1.5),
        "the wall-clock limit, with the seconds the box was given")
    sentence = describe_stop(stop)[0]
    assert "within 1.5 s" in sentence, fail(sentence, "within 1.5 s",
                                            "the sentence takes the value from the stop")


def test_a_cpu_stop_carries_the_cpu_rlimit_and_the_submissions_seconds() -> None:
    from grader.sandbox.client import stop_from_status

    crash = BoxStopped(StopReason.CRASH)
    stop = stop_from_status({"signal": 24, "cpu": 3.0}, crash, cpu_limit=3.0, seconds=2.0)
    assert (stop.limit, stop.value, stop.seconds) == ("cpu_seconds", 3.0, 2.0), fail(
        (stop.limit, stop.value, stop.seconds), ("cpu_seconds", 3.0, 2.0),
        "SIGXCPU is the CPU rlimit; the learner is told the wall-clock seconds")
    assert "within 2 s" in describe_stop(stop)[0]
