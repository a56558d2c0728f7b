"""One folder per student, named by the student id; and nbgrader's `submitted/`
(`submitted/<student>/<assignment>/` with nbgrader's `timestamp.txt` in each)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from grader.batch.layouts.base import Found, Read, as_utc, entries, files_under, real_folder, skip

TIMESTAMP = "timestamp.txt"


def read_folders(root: Path) -> Read:
    """Every folder of `root` as a student; anything else skipped, with why."""
    found, skipped = [], []
    for entry in entries(root):
        if entry.is_symlink():
            skipped.append(skip(entry.name, "it is a symbolic link; copy the student's "
                                "folder itself"))
        elif not real_folder(entry):
            skipped.append(skip(entry.name, "it is not a folder (each student needs a "
                                "folder of their own)"))
        else:
            folder = root / entry.name
            found.append(Found(entry.name, folder, tuple(files_under(folder))))
    return found, skipped


def read_head(path: Path, limit: int = 100) -> str:
    """The first line of `path`, within its first `limit` bytes: a timestamp is one
    short line, and a learner's 600 MB timestamp.txt must cost no more than that."""
    with path.open("rb") as f:
        return f.read(limit).split(b"\n", 1)[0].decode("utf-8", "replace")


def parse_timestamp(text: str) -> datetime | None:
    """nbgrader's timestamp.txt: `2026-11-30 12:00:00.123456 UTC` (or ISO 8601)."""
    text = text.strip()
    zone = None
    for suffix in (" UTC", "Z"):
        if text.endswith(suffix):
            text, zone = text[: -len(suffix)].strip(), timezone.utc
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=zone) if zone else as_utc(moment)


def read_nbgrader(root: Path) -> Read:
    """`root/submitted/<student>/<assignment>/...`: each file's time is its
    assignment's timestamp.txt."""
    found = []
    students, skipped = read_folders(root / "submitted")
    for student in students:
        times = {}
        files = []
        for path in student.files:
            if path.name == TIMESTAMP and path.parent != student.folder:
                continue
            stamp = path.parent / TIMESTAMP
            if path.parent != student.folder and stamp.is_file() and not stamp.is_symlink():
                moment = parse_timestamp(read_head(stamp))
                if moment:
                    times[path] = moment
            files.append(path)
        latest = max(times.values(), default=None)
        found.append(Found(student.id, student.folder, tuple(files), latest, times=times))
    return found, skipped
