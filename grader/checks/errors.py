"""Friendly sentences for what learner code did wrong, from the host's error data."""

from __future__ import annotations

from typing import Any

_EXPLAIN = {
    "exit": "called sys.exit() or exit(); remove that call, the grader runs your functions itself",
    "interrupt": "raised KeyboardInterrupt",
    "memory": "used more memory than allowed (is something growing without end?)",
    "recursion": "recursed too deeply (a function that keeps calling itself?)",
    "opaque": "returned something the checks cannot read",
    "missing": "is missing",
}


def explain(error: dict[str, Any]) -> str:
    """One sentence for an error reported by the box, without any grader traceback."""
    kind = str(error.get("kind", "exception"))
    line = error.get("line")
    where = f" on line {line}" if isinstance(line, int) else ""
    if kind == "syntax":
        return f"Python cannot read your file: {error.get('message', 'syntax error')}{where}"
    if kind == "exception":
        message = str(error.get("message", ""))
        name = str(error.get("type", "Exception"))
        return f"raised {name}{': ' + message if message else ''}{where}"
    if kind == "opaque" and error.get("type"):
        return f"returned a {error['type']}, which the checks cannot read{where}"
    return _EXPLAIN.get(kind, f"failed ({kind})") + where
