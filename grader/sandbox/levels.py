"""Which sandbox this machine gets: the Linux one where it can run, else `portable`.

``GRADE_SANDBOX`` forces a level: ``full`` (the default), ``no-namespaces`` and
``plain`` are the Linux sandbox's (see `zygote`), ``portable`` the spawned-process
box every OS has (see `portable`). The Linux sandbox needs Linux, `os.fork`,
`fcntl` and `resource`; without any of them the portable box is used whatever
was asked, and announced like any reduced level.
"""

from __future__ import annotations

from grader.sandbox.asked import LINUX_LEVELS
from grader.sandbox.client import (
    PORTABLE,
    Sandbox,
    SandboxBackend,
    requested_level,
)
from grader.sandbox.launch import linux_sandbox_runs as linux_sandbox_runs
from grader.sandbox.launch import portable_here as portable_here

LEVELS = (*LINUX_LEVELS, PORTABLE)
__all__ = ["LEVELS", "PORTABLE", "make_sandbox", "requested_level"]


def make_sandbox(portable: bool | None = None) -> SandboxBackend:
    """The strongest sandbox this machine allows (or the one $GRADE_SANDBOX forces).

    `portable` overrides the choice (a batch decides once, for all its workers).
    Not started: use it as a context manager, or call `start()`.
    """
    if portable_here() if portable is None else portable:
        from grader.sandbox.portable import PortableSandbox

        return PortableSandbox()
    return Sandbox()  # its start() refuses an unknown $GRADE_SANDBOX
