"""The learner's code as checks see it: values and functions behind the sandbox wall.

Every answer arrives as JSON data from the box. A check never runs learner code
in its own process, so nothing the learner patches can change a verdict.
"""

from __future__ import annotations

from typing import Any, Protocol

from grader.checks.api import CheckFailed, fail
from grader.checks.errors import explain, megabytes


class Channel(Protocol):
    """Where requests go: a sandbox `Box`, or an in-process `Host` for benchmarks."""

    def request(self, op: str, **fields: Any) -> dict[str, Any]: ...


class LearnerError(CheckFailed):
    """Learner code raised, exited or returned something unreadable during a check."""


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class LearnerFunction:
    """A function defined in the learner's file; calling it runs it in the box."""

    def __init__(self, channel: Channel, name: str, params: list[str], source: str = "") -> None:
        self._channel = channel
        self.name = name
        self.params = params
        self._source = source

    def _call(self, args: tuple[Any, ...], seed: int | None, repeat: int) -> list[Any]:
        reply = self._channel.request("call", name=self.name, args=list(args), kwargs={},
                                      seed=seed, repeat=repeat)
        if "error" in reply:
            shown = ", ".join(_short(a) for a in args)
            raise LearnerError(f"{self.name}({shown}) {explain(reply['error'], self._source)}",
                               hint="run that call yourself and read the error")
        results = reply.get("results")
        if not isinstance(results, list) or len(results) != repeat:
            raise LearnerError(f"{self.name} gave an answer the grader did not ask for")
        return results

    def __call__(self, *args: Any, seed: int | None = None) -> Any:
        """One call, after seeding `random` with `seed` (when given)."""
        return self._call(args, seed, 1)[0]

    def draw(self, *args: Any, n: int, seed: int) -> list[Any]:
        """`n` calls in a row after one `random.seed(seed)`: a reproducible sample."""
        return self._call(args, seed, n)


class Submission:
    """One loaded learner file. `printed` is what it printed while loading."""

    def __init__(self, channel: Channel, filename: str, printed: str = "",
                 source: str = "") -> None:
        self._channel = channel
        self.filename = filename
        self.printed = printed
        self.source = source

    def _describe(self, name: str) -> dict[str, Any]:
        return self._channel.request("get", name=name)

    def has(self, name: str) -> bool:
        return self._describe(name).get("kind") != "missing"

    def value(self, name: str) -> Any:
        """The value of a module-level variable, as JSON data (tuples become lists)."""
        info = self._describe(name)
        kind = info.get("kind")
        if kind == "value":
            return info.get("value")
        if kind == "missing":
            fail(f"your file does not define `{name}`", f"a variable named `{name}`",
                 hint="check the spelling; the name must match exactly")
        if kind == "too_large":
            fail(f"`{name}` is too large for the checks to read (over "
                 f"{megabytes(info.get('limit'))} as JSON)", "a small value",
                 hint="build the data the exercise asks for, not millions of entries")
        if kind == "function":
            fail(f"`{name}` is a function", "a value", hint=f"`{name}` should hold data")
        fail(f"`{name}` holds a {info.get('type', 'value')} the checks cannot read",
             "numbers, strings, lists or dicts")

    def function(self, name: str) -> LearnerFunction:
        """A function defined in the learner's file."""
        info = self._describe(name)
        if info.get("kind") != "function":
            observed = ("is not defined" if info.get("kind") == "missing"
                        else "is not a function")
            fail(f"`{name}` {observed} in your file", f"a function `def {name}(...)`",
                 hint="check the spelling and that it is defined at the top level")
        params = info.get("params")
        return LearnerFunction(self._channel, name, params if isinstance(params, list) else [],
                               self.source)
