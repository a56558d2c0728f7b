"""Friendly sentences for what learner code did wrong, from the host's error data."""

from __future__ import annotations

from typing import Any

_EXPLAIN = {
    "exit": "called sys.exit() or exit(){where}; remove that call: the grader runs your "
            "functions itself",
    "interrupt": "raised KeyboardInterrupt{where}",
    "memory": "used more memory than allowed{where} (is something growing without end?)",
    "recursion": "recursed too deeply{where} (a function that keeps calling itself?)",
    "process": "tried to start another process or thread{where}, which the grader does "
               "not allow",
    "forbidden": "tried something the grader's sandbox forbids{where} ({message})",
    "opaque": "returned something the checks cannot read{where}",
    "missing": "is missing{where}",
}


def explain(error: dict[str, Any]) -> str:
    """One sentence for an error reported by the box, without any grader traceback."""
    kind = str(error.get("kind", "exception"))
    line = error.get("line")
    where = f" on line {line}" if isinstance(line, int) else ""
    message = str(error.get("message", ""))
    if kind == "syntax":
        return f"has a syntax error{where}: {message or 'Python cannot read it'}"
    if kind == "exception":
        name = str(error.get("type", "Exception"))
        return f"raised {name}{': ' + message if message else ''}{where}"
    if kind == "opaque" and error.get("type"):
        return f"returned a {error['type']}, which the checks cannot read{where}"
    template = _EXPLAIN.get(kind, f"failed ({kind}){{where}}")
    return template.format(where=where, message=f"{error.get('type')}: {message}")
