"""A submission file's hash: what a batch compares to know a file is still the one it
planned, or graded (no model here: a worker that never imports pydantic hashes too)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def submission_digest(path: Path | None, limit: int, problem: str | None = None) -> str:
    """A hash of the submission's name and content, or of why there is none (`problem`).

    Reads at most `limit` bytes: a file larger than that is refused by the grader
    anyway, and its size alone is then part of the hash.
    """
    digest = hashlib.sha256()
    if path is None:
        digest.update(f"\0missing\0{problem}".encode())
    else:
        size = path.stat().st_size
        # a name that is not UTF-8 (surrogate-escaped on POSIX) is hashed as its bytes
        digest.update(f"\0{path.name}\0{size}\0".encode("utf-8", "surrogateescape"))
        with path.open("rb") as f:
            digest.update(f.read(limit + 1))
    return digest.hexdigest()
