"""What a box says without a message: its first frame, and its own exit codes."""

from __future__ import annotations

READY = {"ready": True}  # a box's first frame, sent before any learner code runs
# How a box's process ended when not by learner code's own doing (its exit status):
CONFINE_FAILED = 121  # it could not lock itself down
HOST_BROKEN = 120  # its host stopped serving by an exception (learner code broke it)
