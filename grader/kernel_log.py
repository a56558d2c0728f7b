"""How each run of a Jupyter kernel ended, recorded from `import grader` on (imports nothing)."""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing's own is an import, and `grade` starts here (mypy knows it)
if TYPE_CHECKING:
    from typing import Any

# In a Jupyter kernel: execution count -> (text, cell id, failed) of each run since
# `import grader`, as IPython reported it (grader.notebooks.history reads it).
kernel_runs: dict[int, tuple[str, str | None, bool]] = {}


def _record(result: Any) -> None:
    info = result.info
    if info is not None and info.store_history and result.execution_count is not None:
        kernel_runs[result.execution_count] = (info.raw_cell, getattr(info, "cell_id", None),
                                               not result.success)


def watch_kernel() -> None:
    """In a Jupyter kernel, record how each run ends from now on: `check` grades each
    cell's last run and must know which runs raised (grader.runner.inputs). Once."""
    if "ipykernel" not in sys.modules or "IPython" not in sys.modules:
        return
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None and _record not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", _record)
