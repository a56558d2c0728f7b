"""Text that came from learner code: capped in size and made inert for terminals and Markdown.

Learner code controls exception names and messages, returned values quoted in
messages, histogram labels and what it prints. All of it passes through here
where it enters the trusted side (the client, and every result model), so:

- each piece has a maximum length, and a cut piece says so (`cut`);
- control characters (C0 and C1, ESC, DEL), bidirectional overrides and line
  separators are written out as visible escapes such as ``\\x1b`` or ``\\u202e``
  (`inert`): nothing learner code writes can clear a screen, set a window title,
  move the cursor to print a fake score, or make text render in another order.
  Newlines and tabs stay: printed output and histograms are multi-line.

The limits bound one `ExerciseResult` (see `max_result_bytes`, documented in
docs/security.md): a submission cannot make a result, a journal line or an OUTDIR grow
beyond them, whatever it does.
"""

from __future__ import annotations

import re

# Characters per field of a result (text fields of `grader.results`).
ERROR_CHARS = 2_000  # an exercise's error, a check's message
HINT_CHARS = 1_000
DETAIL_CHARS = 8_000  # a histogram or other multi-line detail
NAME_CHARS = 200  # a check's name, an exception's type name
BOX_MESSAGE_CHARS = 1_000  # an exception's message as a box reports it (quoted in a sentence)
OUTPUT_CHARS = 64_000  # printed output, whatever a course's `output_chars` says
MARKER = " [... cut: {} more characters]"
# One result's fields at their caps, every character at its widest in JSON: an
# escaped bidi control is 6 ASCII characters, 7 bytes once JSON doubles its backslash
# (other characters take at most 4 UTF-8 bytes); plus room for numbers and keys.
BYTES_PER_CHAR = 7
BASE_BYTES = 4_096
CHECK_BYTES = 512

# C0 and C1 controls and DEL (but newline and tab), the bidirectional controls
# (embeddings, overrides, isolates, marks) and the Unicode line/paragraph separators.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: str) -> str:
    """`text` with every unsafe character written as a visible escape (idempotent)."""
    return _UNSAFE.sub(_escape, text)


# A text this module already cut at the same limit: cutting again must change nothing
# (a result is capped when made, and again each time it is read back from a journal).
_ALREADY_CUT = re.compile(re.escape(MARKER).replace(r"\{\}", r"[\d,]+"))


def cut(text: str, limit: int) -> str:
    """`text`, or its first `limit` characters and a marker saying how much was cut."""
    if len(text) <= limit or _ALREADY_CUT.fullmatch(text, limit):
        return text
    return text[:limit] + MARKER.format(f"{len(text) - limit:,}")


def bounded(text: str, limit: int) -> str:
    """Learner text made safe to keep and show: cut to `limit`, then made inert.

    Cut first (cheap on megabytes), escape after (an escape never hides the marker).
    Bounding what it made changes nothing (`_bounded_already`): each escape it wrote
    counts as the one character it stands for, not as the 4 or 6 that would otherwise
    be cut again, with a marker counting the escapes' own characters as lost text.
    """
    if _bounded_already(text, limit):
        return str.__str__(text)  # a plain str: a check's str subclass carries its cases
    return inert(cut(text, limit))


# One character made inert, as `_escape` writes it
_ESCAPE = re.compile(r"\\x[0-9a-f]{2}|\\u[0-9a-f]{4}")
_MARKED = re.compile(re.escape(MARKER).replace(r"\{\}", r"[\d,]+") + r"\Z")


def _bounded_already(text: str, limit: int) -> bool:
    """Whether `text` is what `bounded(..., limit)` makes: inert, and at most `limit`
    characters as written before their escapes (a cut marker aside). A learner's own
    text of that form is kept as it is: inert, and at most 6 characters an escape (the
    widest `BYTES_PER_CHAR` allows for). Megabytes are refused by their length alone."""
    if len(text) > 6 * limit + len(MARKER) + 24 or _UNSAFE.search(text) is not None:
        return False
    if len(text) <= limit:
        return True
    marked = _MARKED.search(text)
    body = text[:marked.start()] if marked else text
    return len(_ESCAPE.sub("_", body)) <= limit


def max_result_bytes(checks: int) -> int:
    """The most bytes one result's JSON can take, for an exercise with `checks` checks."""
    marker = len(MARKER) + 16
    exercise = ERROR_CHARS + OUTPUT_CHARS + 2 * marker
    check = NAME_CHARS + ERROR_CHARS + HINT_CHARS + DETAIL_CHARS + 4 * marker
    return BASE_BYTES + BYTES_PER_CHAR * exercise + checks * (CHECK_BYTES + BYTES_PER_CHAR * check)
