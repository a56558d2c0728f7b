"""The learner's code as checks see it: values and functions behind the sandbox wall.

Every answer arrives as JSON data from the box. A check never runs learner code
in its own process, so nothing the learner patches can change a verdict. Values
cross the wall as JSON both ways: a call's arguments are copies (tuples become
lists, dict keys strings), and so are its return values and `value`s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from grader.checks.api import CheckFailed, fail
from grader.checks.errors import explain, megabytes

if TYPE_CHECKING:  # types only: a checks file imports this on a skeleton's report too
    from grader.sandbox.channel import Channel, LearnerErrorInfo, Reply

Where = Callable[[int], str]  # a line of the source -> how the learner finds it


def _line(line: int) -> str:
    return f"line {line}"


class LearnerError(CheckFailed):
    """Learner code raised, exited or returned something unreadable during a check.

    Besides the learner-facing sentence (`observed`), what happened as fields:
    `kind` ("exception", "exit", "timeout", "opaque", ...), and for an exception its
    `type_name` ("ValueError"), `module` ("builtins"), `bases` (qualified, nearest
    first), `error_message` (capped) and the learner's `line` (None when unknown).
    Decide on these, never on the sentence; `is_a(ValueError)` matches by type.
    """

    def __init__(self, observed: str, hint: str | None = None,
                 error: LearnerErrorInfo | None = None) -> None:
        super().__init__(observed, hint=hint)
        info: LearnerErrorInfo = error or {}
        self.kind = str(info.get("kind", "protocol"))
        self.type_name = str(info["type"]) if "type" in info else None
        self.module = str(info["module"]) if "module" in info else None
        bases = info.get("bases")
        self.bases = [str(b) for b in bases] if isinstance(bases, list) else []
        self.error_message = str(info["message"]) if "message" in info else None
        line = info.get("line")
        self.line = line if isinstance(line, int) else None

    @property
    def qualified_name(self) -> str | None:
        """`module.type_name` ("builtins.ValueError"), when learner code raised."""
        return f"{self.module}.{self.type_name}" if self.type_name and self.module else None

    def is_a(self, exc_type: type[BaseException]) -> bool:
        """Whether learner code raised `exc_type` or a subclass of it."""
        wanted = f"{exc_type.__module__}.{exc_type.__qualname__}"
        return self.kind in ("exception", "forbidden") and (
            self.qualified_name == wanted or wanted in self.bases)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class LearnerFunction:
    """A function defined in the learner's file; calling it runs it in the box."""

    def __init__(self, channel: Channel, name: str, params: list[str], source: str = "",
                 where: Where = _line) -> None:
        self._channel = channel
        self.name = name
        self.params = params
        self._source = source
        self._where = where

    def shown(self, args: tuple[Any, ...]) -> str:
        """The call as a learner would type it, arguments shortened: `f(1, [2, 3])`."""
        return f"{self.name}({', '.join(_short(a) for a in args)})"

    def _request(self, args: tuple[Any, ...], seed: int | None, repeat: int,
                 echo_args: bool = False) -> Reply:
        reply = self._channel.request("call", name=self.name, args=list(args), kwargs={},
                                      seed=seed, repeat=repeat, echo_args=echo_args)
        if "error" in reply:
            error = reply["error"]
            raise LearnerError(f"{self.shown(args)} "
                               f"{explain(error, self._source, self._where)}",
                               hint="run that call yourself and read the error", error=error)
        results = reply.get("results")
        if not isinstance(results, list) or len(results) != repeat:
            raise LearnerError(f"{self.name} gave an answer the grader did not ask for")
        return reply

    def __call__(self, *args: Any, seed: int | None = None) -> Any:
        """One call, after seeding `random` with `seed` (when given).

        The arguments reach the function as JSON copies and its result comes back as
        JSON data: a change it makes to an argument in place is not seen here (use
        `call_in_place`).
        """
        return self._request(args, seed, 1)["results"][0]

    def draw(self, *args: Any, n: int, seed: int) -> list[Any]:
        """`n` calls in a row after one `random.seed(seed)`: a reproducible sample."""
        results: list[Any] = self._request(args, seed, n)["results"]
        return results

    def call_in_place(self, *args: Any, seed: int | None = None) -> tuple[Any, list[Any]]:
        """One call, returning its result and its arguments as the function left them.

        For checking in-place changes: `leaves_arguments_alone` in grader.checks.compare
        fails a function that changes what it was given.
        """
        reply = self._request(args, seed, 1, echo_args=True)
        after = reply.get("args")
        if not isinstance(after, list) or len(after) != len(args):
            raise LearnerError(f"{self.shown(args)} left its arguments unreadable for the "
                               "checks", hint="return a new value instead of changing "
                               "the argument")
        return reply["results"][0], after


class Submission:
    """One loaded learner file. `printed` is what it printed while loading."""

    def __init__(self, channel: Channel, filename: str, printed: str = "",
                 source: str = "", where: Where = _line) -> None:
        self._channel = channel
        self.filename = filename
        self.printed = printed
        self.source = source
        self.where = where

    def _describe(self, name: str) -> Reply:
        return self._channel.request("get", name=name)

    def has(self, name: str) -> bool:
        """Whether the learner's file defines `name` at the top level (any kind of value)."""
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
                               self.source, self.where)
