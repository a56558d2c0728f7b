"""The contract across the wall: the messages, and the `Channel` every host is reached by.

Three things implement `Channel`: a sandbox `Box` (learner code in a locked-down
process), an `InProcess` host (no isolation: nbgrader's kernel, the benchmark's lower
bound) and `grade check`'s recording channel. `Boxes` hands out channels, one per
submission; `Grader` and the pipeline are typed on these protocols only.
"""

from __future__ import annotations

from typing import Any, Protocol, TypedDict


class LearnerErrorInfo(TypedDict, total=False):
    """What learner code did wrong, as the host describes it (host.describe_error)."""

    kind: str  # syntax | exception | exit | interrupt | memory | recursion | process |
    #            forbidden | disk | file_size | opaque | missing | timeout | protocol
    type: str
    module: str  # the exception class's __module__ ("builtins")
    bases: list[str]  # its base classes, qualified ("builtins.Exception"), nearest first
    message: str
    line: int | None


class Reply(TypedDict, total=False):
    """One answer of a host. Every field is optional: learner code may have written it."""

    id: int | None
    stdout: str
    error: LearnerErrorInfo
    ok: bool  # load
    kind: str  # get: value | function | missing | opaque
    value: Any  # get: the JSON value
    params: list[str]  # get: a function's parameters
    type: str  # get: the type of an opaque value
    results: Any  # call: one JSON value per repeat
    args: Any  # call with echo_args: the arguments after the call, as JSON (None: unreadable)


class BoxLimits(TypedDict):
    """The limits a zygote applies to a box (runner.box_limits of course.Limits)."""

    memory_mb: int
    cpu_seconds: int
    file_size_kb: int
    output_chars: int
    disk_kb: int
    disk_files: int


class Spawned(TypedDict):
    """The zygote's answer to a spawn: the box's pid, folder and uid."""

    pid: int
    box: str
    uid: int | None


class BoxStatus(TypedDict, total=False):
    """How a box ended, from its zygote (zygote.describe_status); empty if unknown."""

    done: int
    signal: int
    exit: int
    killed: bool


class Channel(Protocol):
    """Where a submission's requests go; `output` is what its code printed so far."""

    @property
    def output(self) -> list[str]: ...

    def request(self, op: str, **fields: Any) -> Reply: ...


class OpenChannel(Channel, Protocol):
    """A channel that is closed (its host stopped) when the `with` block ends."""

    def __enter__(self) -> OpenChannel: ...

    def __exit__(self, *exc: object) -> None: ...


class Boxes(Protocol):
    """Gives one fresh channel per submission: `box(limits, seconds)` for `with`."""

    def box(self, limits: BoxLimits, seconds: float) -> OpenChannel: ...
