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
from pathlib import Path

from grader.reports.ansi import unstyle
from grader.reports.plain import ERRORS


def echo(text: str, err: bool = False) -> None:
    """`text` and a newline on stdout (stderr with `err`) as `click.echo` prints them in
    `grade`: styled only on a terminal, never with NO_COLOR (`colour`). For what prints
    before click loads (cli/skeleton.py), and the same bytes as click's."""
    stream = sys.stderr if err else sys.stdout
    styled = stream.isatty() and colour() is None
    stream.write((text if styled else unstyle(text)) + "\n")
    stream.flush()


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


def shown(path: Path) -> str:
    """`path` as the user typed it relative to here, when it is inside this folder."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
