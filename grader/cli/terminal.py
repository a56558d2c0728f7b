"""Terminals as they are: consoles that cannot print every character, NO_COLOR, pipes.

Every character stdout or stderr cannot take is written with a plain stand-in
(`grader.reports.plain`), never a UnicodeEncodeError. Colour follows click (only
on a terminal) and https://no-color.org.
"""

from __future__ import annotations

import io
import json
import os
import sys

from grader.reports.plain import ERRORS


def plain_streams() -> None:
    """Make stdout and stderr write a stand-in for what their encoding cannot take."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors=ERRORS)


def colour() -> bool | None:
    """False when NO_COLOR is set (and not empty); else None: click colours only a TTY."""
    return False if os.environ.get("NO_COLOR") else None


def json_text(text: str) -> str:
    """JSON `text` as stdout can print it: non-ASCII escaped only where it must be.

    A stand-in inside a JSON string (a `"` for a curly quote) would break the JSON.
    """
    try:
        text.encode(sys.stdout.encoding or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return json.dumps(json.loads(text), separators=(",", ":"))  # ensure_ascii
    return text
