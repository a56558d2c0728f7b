"""Friendly sentences for what learner code did wrong, from the host's error data."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

# Each reads after a subject: "your file ...", "sample({...}) ...".
_WHAT = {
    "exit": "called sys.exit() or exit()",
    "interrupt": "raised KeyboardInterrupt",
    "memory": "used more memory than allowed",
    "recursion": "recursed too deeply (a function that keeps calling itself?)",
    "process": "tried to start another process or thread",
    "missing": "is missing",
    "disk": "filled the disk space the grader gives your code (too many bytes or files)",
    "file_size": "wrote a file larger than the grader allows",
}
_ADVICE = {
    "too_large": "the grader expects a few values, not millions",
    "disk": "does it write files in a loop?",
    "file_size": "does a loop keep writing to one file?",
    "exit": "remove that call: the grader runs your functions itself",
    "memory": "is a list or string growing without end?",
    "process": "the grader does not allow that",
}


# What a box can import (grader/sandbox/modules.py): said where an import failed in one.
MODULES = ("the grader runs your code with a set of standard modules (random, math, "
           "collections, itertools, statistics, dataclasses, typing...), each imported "
           "by its name in your file")


# A trailing authoring marker (`# BLANK: ...`, grader.authoring.markers), quoted cut off
# at 80 characters otherwise.
_MARKER = re.compile(r"\s*#\s*BLANK:.*$")


def megabytes(limit: Any) -> str:
    """A box's size limit as people read it ("4 MB")."""
    return f"{limit / 2**20:g} MB" if isinstance(limit, int) else "the size limit"


def _line(line: int) -> str:
    return f"line {line}"


def explain(error: Mapping[str, Any], source: str | None = None,
            where: Callable[[int], str] = _line) -> str:
    """A predicate for an error reported by the box, e.g. "raised KeyError: 'x' (line 3: ...)".

    With `source`, the offending line is quoted, so the learner sees where without
    any traceback; `where` names a line ("code cell 3, line 2" in a notebook).
    """
    kind = str(error.get("kind", "exception"))
    line = error.get("line")
    if kind == "syntax":
        what = f"has a syntax error: {error.get('message', 'invalid syntax')}"
    elif kind == "exception":
        message = str(error.get("message", ""))
        what = f"raised {error.get('type', 'Exception')}{': ' + message if message else ''}"
    elif kind == "forbidden":  # a file, signal or socket outside the box
        what = (f"tried something the grader's sandbox forbids "
                f"({error.get('type', 'PermissionError')}: {error.get('message', '')})")
    elif kind == "too_large":
        what = (f"returned a value too large for the checks to read (over "
                f"{megabytes(error.get('limit'))} as JSON)")
    elif kind == "opaque":
        what = f"returned a {error.get('type', 'value')}, which the checks cannot read"
    else:
        what = _WHAT.get(kind, f"failed ({kind})")
    if isinstance(line, int):
        lines = source.splitlines() if source else []
        code = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        code = _MARKER.sub("", code)  # an author's marked solution: the code, not its marker
        what += f" ({where(line)}: {code[:80]})" if code else f" ({where(line)})"
    advice = _ADVICE.get(kind)
    if kind == "exception" and error.get("type") == "ModuleNotFoundError":
        advice = MODULES
    return f"{what}; {advice}" if advice else what
