"""Counting the server's SQL statements and commits, for bench/server.py's figures that
do not depend on the machine's load (GRADE_SERVE_STATS=FILE: written when it stops)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

_COUNTS: dict[str, int] = {}
_LOCK = threading.Lock()


def _seen(sql: str) -> None:
    """Count `sql` in all, and by kind of thread (waitress's HTTP threads, dispatcher...)."""
    commit = sql.lstrip()[:6].upper() == "COMMIT"
    who = threading.current_thread().name.split("-")[0]
    with _LOCK:
        for key in ("statements", f"statements_{who}"):
            _COUNTS[key] = _COUNTS.get(key, 0) + 1
        if commit:
            for key in ("commits", f"commits_{who}"):
                _COUNTS[key] = _COUNTS.get(key, 0) + 1


def _traced(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":  # SQLite reports every statement, COMMIT included
        connection.connection.set_trace_callback(_seen)


def start() -> Path | None:
    """Count from now on every connection's statements, if GRADE_SERVE_STATS asks."""
    where = os.environ.get("GRADE_SERVE_STATS")
    if not where:
        return None
    from django.db import connections
    from django.db.backends.signals import connection_created

    connection_created.connect(_traced)
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None:
            _traced(None, connection)
    return Path(where)


def reset() -> None:
    """Count from zero (start-up's statements are not the files')."""
    with _LOCK:
        _COUNTS.clear()


def write(path: Path | None) -> None:
    if path is not None:
        with _LOCK:
            path.write_text(json.dumps(_COUNTS))
