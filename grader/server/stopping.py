"""SIGINT and SIGTERM as the exception that stops `grade serve` wherever it lands."""

from __future__ import annotations

import signal
from types import FrameType


class Stop(KeyboardInterrupt):
    """SIGINT or SIGTERM: stop serving and grading.

    Raised by the signal handler in the main thread, wherever it is: inside one of
    waitress's event handlers too, which catch every exception but KeyboardInterrupt
    (and their own two) and log it. An Exception there was swallowed, the signal lost,
    and the server ran on (a test's stop waited 30 s for it)."""


def raise_stop(signum: int, frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)
