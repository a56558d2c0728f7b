"""The shapes a class's submissions arrive in, each read into submitters with ids,
files and, where the LMS records them, submission times."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from grader.batch.layouts import canvas, classroom, moodle
from grader.batch.layouts.base import Found, LayoutError, Read, folder_names
from grader.batch.layouts.canvas import read_canvas
from grader.batch.layouts.classroom import read_classroom
from grader.batch.layouts.folders import read_folders, read_nbgrader
from grader.batch.layouts.gradescope import METADATA, read_gradescope
from grader.batch.layouts.moodle import read_moodle
from grader.batch.names import Layout

READERS: dict[Layout, Callable[[Path], Read]] = {
    Layout.FOLDERS: read_folders,
    Layout.NBGRADER: read_nbgrader,
    Layout.CANVAS: read_canvas,
    Layout.MOODLE: read_moodle,
    Layout.GRADESCOPE: read_gradescope,
    Layout.CLASSROOM: read_classroom,
}


def detect(root: Path) -> Layout:
    """The layout of `root`, from the marks each LMS leaves; plain folders otherwise."""
    if (root / METADATA).is_file():
        return Layout.GRADESCOPE
    if (root / "submitted").is_dir():
        return Layout.NBGRADER
    named = folder_names(root)  # listed once for both (they stat'ed every folder twice)
    if moodle.looks_like(root, named):
        return Layout.MOODLE
    if classroom.looks_like(root, named):
        return Layout.CLASSROOM
    if canvas.looks_like(root):
        return Layout.CANVAS
    return Layout.FOLDERS


def unwrap(folder: Path) -> Path:
    """The download inside `folder`: a zip of one folder (Gradescope's
    `assignment_N_export/`, a TA's `submissions/`) unpacks to that folder."""
    entries = [p for p in folder.iterdir() if p.name not in ("__MACOSX", ".DS_Store")]
    if len(entries) != 1 or not entries[0].is_dir() or entries[0].is_symlink():
        return folder
    inner = entries[0]
    if (inner / METADATA).is_file() or canvas.looks_like(inner) or any(
            p.is_dir() for p in inner.iterdir()):
        return inner
    return folder


def read_layout(root: Path, layout: Layout | None = None) -> tuple[Layout, Read]:
    """The submitters in `root` and the entries skipped; LayoutError when `root` is
    not what `layout` promises."""
    layout = layout or detect(root)
    if layout is Layout.NBGRADER and not (root / "submitted").is_dir():
        raise LayoutError(f"{root} has no submitted/ folder (nbgrader's layout)")
    if layout is Layout.GRADESCOPE and not (root / METADATA).is_file():
        raise LayoutError(f"{root} has no {METADATA} (Gradescope's export)")
    return layout, READERS[layout](root)


__all__ = ["Found", "Layout", "LayoutError", "detect", "read_layout", "unwrap"]
