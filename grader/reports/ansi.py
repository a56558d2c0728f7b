"""Terminal styles as click writes them, without importing click (a skeleton's report)."""

from __future__ import annotations

import re

COLOURS = {"red": 31, "green": 32, "yellow": 33}
RESET = "\033[0m"
# click's own pattern for its escape sequences (click._compat._ansi_re)
ESCAPES = re.compile(r"\033\[[;?0-9]*[a-zA-Z]")


def style(text: str, fg: str | None = None, bold: bool | None = None) -> str:
    """`text` in colour `fg` and/or bold, byte for byte as `click.style` makes it (so a
    report is the same whichever path printed it: tests/test_ansi.py compares them)."""
    bits = [f"\033[{COLOURS[fg]}m"] if fg is not None else []
    if bold is not None:
        bits.append(f"\033[{1 if bold else 22}m")
    return "".join((*bits, text, RESET))


def unstyle(text: str) -> str:
    """`text` without its styles, as `click.echo` prints it to a pipe or a file."""
    return ESCAPES.sub("", text)
