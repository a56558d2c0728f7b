"""What this kernel ran and how each run ended (`grader.watch_kernel` records outcomes)."""

from __future__ import annotations

import ast
from typing import Any

from grader import kernel_log
from grader.runner.inputs import Run


def _shell() -> Any:
    from IPython import get_ipython

    return get_ipython()


def _parses(shell: Any, raw: str) -> bool:
    """Whether IPython could run `raw` at all (for runs made before `grader.watch_kernel`)."""
    try:
        ast.parse(shell.transform_cell(raw))
    except (SyntaxError, ValueError):
        return False
    except Exception:  # IPython's own transformers rejecting the cell
        return False
    return True


def kernel_runs() -> list[Run]:
    """Every run this kernel stored in its history, in order, with what IPython reported.

    Runs made before `grader.watch_kernel` (before `import grader`) carry no cell id, and count as
    failed only if they do not parse: IPython kept no other outcome for them.
    """
    shell = _shell()
    if shell is None:
        raise RuntimeError("this runs inside a Jupyter kernel")
    kernel_log.watch_kernel()
    raw = shell.history_manager.input_hist_raw
    runs = []
    for count in range(1, len(raw)):  # [0] is always ""
        reported = kernel_log.kernel_runs.get(count)
        if reported is not None and reported[0] == raw[count]:
            runs.append(Run(*reported))
        else:
            runs.append(Run(raw[count], None, not _parses(shell, raw[count])))
    return runs
