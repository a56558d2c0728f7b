"""`grade watch`: re-grade a learner's file on every save and keep the screen current."""

from grader.watch.saves import backend_name, saves, signature
from grader.watch.session import WatchSession

__all__ = ["WatchSession", "backend_name", "saves", "signature"]
