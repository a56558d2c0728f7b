"""Which gets a box may answer ahead of their asking: the last file's sequence of requests."""

from __future__ import annotations

from typing import Any

Step = tuple[str, object]  # a request's op and what it names (its name or filename)


def step(op: str, fields: dict[str, Any]) -> Step:
    return op, fields.get("filename") if op == "load" else fields.get("name")


class Script:
    """The requests one exercise's checks made of the last box that loaded its file.

    Checks are code: what they ask is known only as they ask it. But each file of an
    exercise meets the same checks, which mostly ask the same things in the same
    order ("weather", "weather", "sample", then a call). So while a box's requests
    follow the last box's, the gets that came next there are sent along with its
    request, and the box answers them in the same reply (`host.Host._ahead`). A file
    whose checks go another way costs nothing but those answers, unused.
    """

    def __init__(self) -> None:
        self.last: list[Step] = []

    def next_gets(self, now: list[Step], asked: Step) -> list[str]:
        """The names of the gets that followed `asked` last time, if a box's requests
        so far (`now`) are the last box's and `asked` came next there too."""
        last, position = self.last, len(now)
        if last[position:position + 1] != [asked] or last[:position] != now:
            return []
        names: list[str] = []
        for op, name in last[position + 1:]:
            if op != "get" or not isinstance(name, str):
                break
            names.append(name)
        return names


_SCRIPTS: dict[object, Script] = {}  # per file name loaded: one exercise's checks
MAX_SCRIPTS = 64


def script_for(filename: object) -> Script:
    """The script of boxes that load a file of this name."""
    script = _SCRIPTS.get(filename)
    if script is None:
        if len(_SCRIPTS) >= MAX_SCRIPTS:
            _SCRIPTS.clear()
        script = _SCRIPTS[filename] = Script()
    return script
