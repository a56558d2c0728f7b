"""Moodle's assignment "Download all submissions": one folder per student and
submission plugin, `<Full Name>_<participant id>_assignsubmission_file_` (and
`..._assignsubmission_onlinetext_` for online text). The student id is the
participant id; the download records no submission time."""

from __future__ import annotations

import re
from pathlib import Path

from grader.batch.layouts.base import Found, Read, files_under, folder_names, skip

FOLDER = re.compile(r"^(?P<name>.+)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_$")


def looks_like(root: Path, named: list[str] | None = None) -> bool:
    """Some folder of `root` (`named`: their names, if listed already) is named as
    Moodle names a student's."""
    return any(FOLDER.match(name) for name in (folder_names(root) if named is None else named))


def read_moodle(root: Path) -> Read:
    files: dict[str, list[Path]] = {}
    names: dict[str, str] = {}
    folders: dict[str, Path] = {}
    skipped = []
    for entry in sorted(root.iterdir()):
        match = FOLDER.match(entry.name)
        if match is None or not entry.is_dir() or entry.is_symlink():
            skipped.append(skip(entry.name, "not a Moodle submission folder "
                                "(<Full Name>_<id>_assignsubmission_file_)"))
            continue
        files.setdefault(match["id"], []).extend(files_under(entry))
        names[match["id"]] = match["name"]
        folders.setdefault(match["id"], entry)
    return [Found(pid, folders[pid], tuple(paths), name=names[pid])
            for pid, paths in sorted(files.items())], skipped
