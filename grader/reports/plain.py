"""Plain stand-ins for the characters a console's encoding cannot write.

A Windows console redirected to a file writes cp1252; a C-locale shell, ASCII.
Neither can print "✓ ✗ ·" or a learner's emoji, and Python's default answer is
a UnicodeEncodeError: a traceback instead of a grade. Encoding with the
``grade-plain`` error handler writes `PLAIN`'s stand-in instead, else "?".
"""

from __future__ import annotations

import codecs

ERRORS = "grade-plain"
PLAIN = {
    "✓": "+", "✗": "x", "·": "-", "•": "*", "…": "...", "“": '"', "”": '"', "‘": "'",
    "’": "'", "—": "-", "–": "-", "±": "+/-", "×": "x", "→": "->", "←": "<-", "≈": "~",
    "≤": "<=", "≥": ">=", "≠": "!=", "█": "#", "\u00a0": " ",
}


def _plain(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start:error.end]
    return "".join(PLAIN.get(c, "?") for c in text), error.end


codecs.register_error(ERRORS, _plain)


def printable(text: str, encoding: str | None) -> str:
    """`text` with a plain stand-in for each character `encoding` cannot write."""
    try:
        return text.encode(encoding or "utf-8", ERRORS).decode(encoding or "utf-8")
    except LookupError:  # an encoding Python does not know: ASCII is safe
        return text.encode("ascii", ERRORS).decode("ascii")
