"""Grading a whole class: discover student folders, grade on warm workers, journal
every result durably, and hand the class's results to the exporters.

The names load on first use (PEP 562): `grade batch` imports its option choices
(grader.batch.names) and starts its workers before the batch's own modules load.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing's own is an import, before the batch's zygotes launch
if TYPE_CHECKING:
    from typing import Any

    from grader.batch.run import BatchError, BatchRequest, BatchRun, run_batch

__all__ = ["BatchError", "BatchRequest", "BatchRun", "run_batch"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from grader.batch import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
