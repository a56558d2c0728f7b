"""Canvas's "Download submissions" zip: every file at the top level, named
`<name>_<user id>_<submission id>_<original name>`, with `_LATE_` after the name of
a late submission; a resubmitted file gets `-1`, `-2` before its extension.

`<name>` is Canvas's squashed sortable name (`doejane`), not a login; the student id
is the Canvas user id, which is canvas.csv's `ID` column. The download records no
submission time, only the late mark.
"""

from __future__ import annotations

import re
from pathlib import Path

from grader.batch.layouts.base import Found, Read, files_under, skip

NAME = re.compile(r"^(?P<name>[^_]+?)(?P<late>_LATE)?_(?P<user>\d+)_(?P<sub>\d+)_(?P<file>.+)$")


def looks_like(root: Path) -> bool:
    """Most top-level files are named as Canvas names them."""
    files = [p for p in files_under(root, depth=1) if p.is_file()]
    return bool(files) and sum(bool(NAME.match(p.name)) for p in files) * 2 > len(files)


def _original(path: Path) -> str:
    match = NAME.match(path.name)
    return match["file"] if match else path.name


def read_canvas(root: Path) -> Read:
    groups: dict[str, list[Path]] = {}
    names: dict[str, str] = {}
    late: set[str] = set()
    skipped = []
    for path in files_under(root, depth=1):
        match = NAME.match(path.name)
        if match is None:
            skipped.append(skip(path.name, "not named as Canvas names submissions "
                                "(<name>_<user id>_<submission id>_<file>)"))
            continue
        user = match["user"]
        groups.setdefault(user, []).append(path)
        names[user] = match["name"]
        if match["late"]:
            late.add(user)
    found = [Found(user, root, tuple(paths), late=user in late, name=names[user],
                   original={p: _original(p) for p in paths})
             for user, paths in sorted(groups.items())]
    return found, skipped
