"""The isolation level asked for ($GRADE_SANDBOX) and the sandbox's error: nothing started.

A learner's skeleton is reported without a sandbox, yet a mistyped level is said at once;
this is all that takes, so the client (processes, sockets, the zygote's module) loads
only where a sandbox starts.
"""

from __future__ import annotations

import os

LEVEL_VARIABLE = "GRADE_SANDBOX"  # full (default) | no-namespaces | plain: force a fallback
LINUX_LEVELS = ("full", "no-namespaces", "plain")  # the Linux sandbox's (zygote.LEVELS)
PORTABLE = "portable"  # the spawned-process box every OS has (see `portable`)


class SandboxError(Exception):
    """The sandbox itself failed (not the learner's code): the zygote is gone."""


def requested_level() -> str:
    """The level asked for in $GRADE_SANDBOX (default ``full``), or SandboxError: one of
    the Linux sandbox's `zygote.LEVELS`, or ``portable``."""
    level = os.environ.get(LEVEL_VARIABLE, "") or "full"
    if level not in (*LINUX_LEVELS, PORTABLE):
        raise SandboxError(f"{LEVEL_VARIABLE}={level!r} is not one of "
                           f"{', '.join((*LINUX_LEVELS, PORTABLE))}")
    return level
