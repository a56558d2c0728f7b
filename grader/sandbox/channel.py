"""The contract across the wall: the messages, and the `Channel` every host is reached by.

Three things implement `Channel`: a sandbox `Box` (learner code in a locked-down
process), an `InProcess` host (no isolation: nbgrader's kernel, the benchmark's lower
bound) and `grade check`'s recording channel. `Boxes` hands out channels, one per
submission; `Grader` and the pipeline are typed on these protocols only.
"""

from __future__ import annotations

from typing import Any, Protocol, TypedDict

# Their own module, so that the zygote and the host (what every box imports before its
# lock-down) need not build these types at run time.
from grader.sandbox.codes import CONFINE_FAILED as CONFINE_FAILED
from grader.sandbox.codes import HOST_BROKEN as HOST_BROKEN
from grader.sandbox.codes import READY as READY


class LearnerErrorInfo(TypedDict, total=False):
    """What learner code did wrong, as the host describes it (host.describe_error)."""

    kind: str  # syntax | exception | exit | interrupt | memory | recursion | process |
    #            forbidden | disk | file_size | opaque | missing | timeout | protocol
    type: str
    module: str  # the exception class's __module__ ("builtins")
    bases: list[str]  # its base classes, qualified ("builtins.Exception"), nearest first
    message: str
    line: int | None
    limit: int  # too_large: the largest JSON text a value may be


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
    limit: int  # get of a value too large to send: the largest JSON text a value may be
    draws: Any  # call, from a box: its results as draws of few outcomes (host._draws)
    then: Any  # the replies to the request's `then` gets, answered ahead (host.Host._ahead)


class BoxLimits(TypedDict):
    """The limits a zygote applies to a box (runner.box_limits of course.Limits)."""

    memory_mb: int
    cpu_seconds: int
    file_size_kb: int
    output_chars: int
    disk_kb: int
    disk_files: int


class LimitsFrame(TypedDict):
    """A portable box's first frame from the trusted side (portable.py, portable_box.py)."""

    limits: BoxLimits


class Isolation(TypedDict, total=False):
    """What a sandbox can apply to its boxes (zygote.probe; portable.PortableSandbox's)."""

    level: str
    chroot: bool
    setuid: bool
    network: bool
    pid_namespace: bool
    user_namespace: bool
    landlock: int  # the Landlock ABI version; 0: none
    seccomp: bool
    disk: str  # tmpfs | tracked | none
    rlimits: bool  # portable only
    job_object: bool  # portable only (Windows)
    audit_hook: bool  # portable only


class SandboxInfo(TypedDict):
    """Where a sandbox keeps its boxes: the zygote's pid (None: no zygote), its uid
    range and its box folder."""

    pid: int | None
    uid_base: int
    uid_range: int
    boxes: str


class Hello(SandboxInfo):
    """The zygote's first message: what it can isolate, and its `SandboxInfo`."""

    hello: Isolation


class SpawnRequest(TypedDict):
    """Ask the zygote for a box with these limits (its channel comes as a descriptor)
    that sees these on-demand modules (`sandbox/modules.py`; None: every one)."""

    op: str  # "spawn"
    limits: BoxLimits
    modules: list[str] | None


class CleanupRequest(TypedDict):
    """Ask the zygote to kill a box and everything it started, and say how it ended."""

    op: str  # "cleanup"
    pid: int
    box: str
    uid: int | None
    hung_up: bool


class Spawned(TypedDict):
    """The zygote's answer to a spawn: the box's pid, folder and uid."""

    pid: int
    box: str
    uid: int | None


class BoxInfo(Spawned):
    """A box as its `Box` knows it: what the spawn said, and which zygote made it."""

    generation: int


class BoxStatus(TypedDict, total=False):
    """How a box ended, from its zygote (zygote.describe_status, portable.status_of),
    as client.stop_from_status reads it; empty if unknown."""

    done: int  # the box's pid
    signal: int  # the signal that ended it
    exit: int  # or its exit status
    killed: bool  # we had to kill it (it had not ended by itself)
    cpu: float  # CPU seconds it used
    faults: int  # page faults it took (Linux zygote): what its fork and run cost in memory
    disk: bool  # killed by its zygote for its disk use


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
    """Gives one fresh channel per submission: `box(limits, seconds)` for `with`;
    `modules`, the on-demand modules its source names (`modules.named`; None: unknown,
    every one), where a box imports only what its sandbox loaded for it."""

    def box(self, limits: BoxLimits, seconds: float,
            modules: list[str] | None = None) -> OpenChannel: ...
