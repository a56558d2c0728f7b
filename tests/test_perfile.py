"""One graded file's cost: the gets a box answers ahead of their asking, and no other change.

A box answers, with a request, the gets the last box of the same file name was asked
next (`sandbox/ahead.py`, `host.Host._ahead`): fewer round trips, the same answers in
the same order, and never one that could have run learner code out of its turn.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.sandbox import protocol
from grader.sandbox.channel import BoxLimits
from grader.sandbox.client import Sandbox
from grader.sandbox.host import Host

LIMITS = BoxLimits(memory_mb=512, cpu_seconds=3, file_size_kb=1024, output_chars=2000,
                   disk_kb=4096, disk_files=64)
SAMPLER = ("import random\nweather = {'sun': 0.5, 'rain': 0.3, 'fog': 0.2}\n"
           "def sample(table):\n    return random.choice(sorted(table))\n")
# what the lesson's three checks ask of one file, in order (bench/lfl-course)
CHECKS: list[tuple[str, dict[str, Any]]] = [
    ("get", {"name": "weather"}), ("get", {"name": "weather"}), ("get", {"name": "sample"}),
    ("call", {"name": "sample", "args": [{"sun": 0.5}], "kwargs": {}, "seed": 0,
              "repeat": 50}),
    ("get", {"name": "weather"}), ("get", {"name": "sample"}),
    ("call", {"name": "sample", "args": [{"sun": 0.5}], "kwargs": {}, "seed": 1,
              "repeat": 5}),
]


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as started:
        yield started


def _frames(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    sent: list[str] = []
    send = protocol.send

    def counted(sock: Any, message: Any) -> None:
        sent.append(str(message.get("op")))
        send(sock, message)

    monkeypatch.setattr(protocol, "send", counted)
    return sent


def _grade(sandbox: Sandbox, source: str, filename: str,
           requests: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every reply of one box (the ids left out: they count frames, not answers)."""
    with sandbox.box(LIMITS, 10) as box:
        replies = [box.request("load", source=source, filename=filename)]
        replies += [box.request(op, **fields) for op, fields in requests]
    return [{k: v for k, v in r.items() if k != "id"} for r in replies]


def test_a_files_second_box_is_asked_in_three_frames_not_eight_and_answers_alike(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _grade(sandbox, SAMPLER, "ahead_1.py", CHECKS)  # learns what its checks ask
    sent = _frames(monkeypatch)
    second = _grade(sandbox, SAMPLER, "ahead_1.py", CHECKS)
    assert sent == ["load", "call", "call"], fail(
        sent, ["load", "call", "call"], "each get answered with the request before it")
    assert second == first, fail(second, first, "the same answers as when asked one by one")


def test_a_get_of_a_dict_subclass_is_never_answered_ahead_its_items_ran_in_turn(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    # json's encoder calls a dict subclass's items(): learner code, which here counts
    # its runs. Answered ahead, it would run before the call that reads the count.
    source = ("runs = []\nclass D(dict):\n    def items(self):\n        runs.append(1)\n"
              "        return super().items()\nweather = D(sun=1.0)\n"
              "def count():\n    return len(runs)\n")
    asked: list[tuple[str, dict[str, Any]]] = [
        ("get", {"name": "weather"}),
        ("call", {"name": "count", "args": [], "kwargs": {}, "seed": None, "repeat": 1}),
        ("get", {"name": "weather"}),
        ("call", {"name": "count", "args": [], "kwargs": {}, "seed": None, "repeat": 1}),
    ]
    _grade(sandbox, source, "ahead_2.py", asked)
    sent = _frames(monkeypatch)
    replies = _grade(sandbox, source, "ahead_2.py", asked)
    counts = [replies[2].get("results"), replies[4].get("results")]
    assert counts == [[1], [2]], fail(counts, [[1], [2]], "items() ran once per get, in turn")
    assert sent.count("get") == 2, fail(sent, "both gets asked", "none answered ahead")


def test_checks_that_go_another_way_get_the_answers_they_ask_for(
        sandbox: Sandbox) -> None:
    # the last box's script says weather, weather, sample; this one asks otherwise
    _grade(sandbox, SAMPLER, "ahead_3.py", CHECKS)
    other: list[tuple[str, dict[str, Any]]] = [
        ("get", {"name": "sample"}), ("get", {"name": "absent"}),
        ("get", {"name": "weather"})]
    replies = _grade(sandbox, SAMPLER, "ahead_3.py", other)
    kinds = [r.get("kind") for r in replies[1:]]
    assert kinds == ["function", "missing", "value"], fail(
        kinds, ["function", "missing", "value"], "each answer is the name's own")


@pytest.mark.parametrize("value", ["{'a': [1, 2.5, None, True, 'x']}", "(1, 2)", "max",
                                   "lambda x: x"])
def test_a_get_answered_ahead_is_the_reply_the_get_itself_gets(value: str) -> None:
    host = Host(encoded=True)
    source = f"value = {value}\n"
    loaded = host.handle({"op": "load", "source": source, "filename": "s.py", "id": 1,
                          "then": [{"op": "get", "name": "value"},
                                   {"op": "get", "name": "absent"}]})
    ahead = json.loads(protocol.encode(loaded))["then"]
    asked = [json.loads(protocol.encode(host.handle({"op": "get", "name": name, "id": n})))
             for n, name in ((2, "value"), (3, "absent"))]
    assert ahead == asked, fail(ahead, asked, "the same reply, ids included")


@pytest.mark.parametrize("value", ["D(a=1)", "[D()]", "{'k': C()}", "S('text')",
                                   "{S('key'): 1}"])
def test_no_value_whose_reading_could_run_learner_code_is_answered_ahead(value: str) -> None:
    host = Host(encoded=True)
    source = ("class D(dict):\n    pass\nclass C:\n    pass\nclass S(str):\n    pass\n"
              f"value = {value}\n")
    loaded = host.handle({"op": "load", "source": source, "filename": "s.py", "id": 1,
                          "then": [{"op": "get", "name": "value"}]})
    assert "then" not in loaded, fail(loaded.get("then"), None,
                                      "only exact built-in data is read ahead")


# --- a call's draws cross the wall as their outcomes and one character per draw -------


def test_ten_thousand_draws_come_back_as_the_same_list_in_a_frame_of_ten_kilobytes(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[int] = []
    recv = protocol._recv_exactly

    def measured(sock: Any, size: int, deadline: float | None) -> bytes:
        sizes.append(size)
        return recv(sock, size, deadline)

    source = "import random\ndef f():\n    return random.choice(['sun', 'rain', 'fog'])\n"
    with sandbox.box(LIMITS, 10) as box:
        assert box.request("load", source=source, filename="draws.py").get("ok")
        monkeypatch.setattr(protocol, "_recv_exactly", measured)
        results = box.request("call", name="f", args=[], kwargs={}, seed=0,
                              repeat=10_000).get("results")
    import random
    random.seed(0)
    expected = [random.choice(["sun", "rain", "fog"]) for _ in range(10_000)]
    assert results == expected, fail(str(results)[:60], str(expected)[:60],
                                     "the draws of the same seed, in order")
    assert max(sizes) < 11_000, fail(max(sizes), "< 11,000 bytes",
                                     "one character per draw, not its JSON string")


DRAWS = st.lists(st.sampled_from(["sun", "rain", "\ud800", "\"\\", "\x00\n", "é", ""]),
                 max_size=80)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(DRAWS)
def test_draws_expand_to_the_very_list_json_would_have_carried(draws: list[str]) -> None:
    from grader.sandbox.host import _draws, _encode

    compact = _draws(draws)
    plain = _encode(draws)
    if compact is None:
        return  # sent as a JSON list, as before
    assert plain is not None
    expanded = protocol.expand_draws(json.loads(compact))
    assert expanded == json.loads(plain), fail(expanded, json.loads(plain),
                                               f"for {draws!r}")


# 13 n + 1 characters around 4 MiB (the exact length), then 2 + 12 n (the first look)
@pytest.mark.parametrize("count", [322_638, 322_639, 349_525, 349_526])
def test_draws_are_refused_as_too_large_exactly_when_their_list_would_be(count: int) -> None:
    from grader.sandbox.host import TooLarge, _draws, _encode

    draws = ["abcdefghij", "abcdefghik"] * (count // 2) + ["abcdefghij"] * (count % 2)
    outcomes = []
    for encode in (_draws, _encode):
        try:
            outcomes.append("sent" if encode(draws) is not None else "None")
        except TooLarge:
            outcomes.append("too large")
    assert outcomes[0] == outcomes[1], fail(outcomes[0], outcomes[1], "the same limit")
    assert outcomes[1] == ("sent" if count == 322_638 else "too large"), outcomes


@pytest.mark.parametrize("draws", [
    [], {"outcomes": ["a"]}, {"outcomes": ["a"], "picks": "#$"},  # a pick with no outcome
    {"outcomes": [1], "picks": "#"}, {"outcomes": ["a"] * 92, "picks": "#"},
    {"outcomes": ["a"], "picks": "#", "more": 1}, {"outcomes": "a", "picks": "#"},
    {"outcomes": [""], "picks": "#" * (protocol.MAX_VALUE // 3 + 1)},  # more than fit
])
def test_malformed_draws_from_a_box_are_refused_not_guessed(draws: object) -> None:
    assert protocol.expand_draws(draws) is None, fail(protocol.expand_draws(draws), None,
                                                      "a box's frame is learner data")


# --- the zygote warms a box's code once, before its second box ------------------------

QUICKENED = ("import dis, sys\nhost = sys.modules['grader.sandbox.host']\n"
             "quick = [i.opname for i in dis.get_instructions(host.Host.get, adaptive=True)"
             " if i.opname.startswith('RESUME')]\n")


def test_boxes_after_the_first_inherit_the_hosts_code_already_quickened() -> None:
    # Python 3.11 rewrites a function's bytecode at its 8th call: in every box anew
    # (CPU, and a copied page per page written) unless the zygote did it once.
    quick = []
    with Sandbox() as sandbox:
        for _ in range(2):
            with sandbox.box(LIMITS, 10) as box:
                assert box.request("load", source=QUICKENED, filename="quick.py").get("ok")
                quick.append(box.request("get", name="quick").get("value"))
    assert quick == [["RESUME"], ["RESUME_QUICK"]], fail(
        quick, [["RESUME"], ["RESUME_QUICK"]],
        "a learner's one box is not kept waiting; every later box starts warm")
