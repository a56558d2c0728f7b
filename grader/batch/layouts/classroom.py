"""GitHub Classroom: a folder of cloned student repositories, named
`<assignment>-<GitHub login>` (as `gh classroom clone student-repos` makes them).

The student id is the login: the name after the assignment's slug, read from the
`<slug>-submissions` folder `gh classroom clone` makes, else the prefix that all
repositories share up to a hyphen. The submission time is the last commit's committer date, which
the student's own git sets (Classroom's grades CSV has the push time). The files
are those in `exercises/` when the repository has one (a course release), else
those at its top level.
"""

from __future__ import annotations

import os
import subprocess
from datetime import datetime
from pathlib import Path

from grader.batch.layouts.base import Found, Read, as_utc, files_under, folder_names, skip


def looks_like(root: Path, named: list[str] | None = None) -> bool:
    """Some folder of `root` (`named`: their names, if listed already) holds a .git."""
    return any(os.path.exists(os.path.join(root, name, ".git"))
               for name in (folder_names(root) if named is None else named))


SUBMISSIONS = "-submissions"  # gh classroom clone student-repos: `<assignment slug>-submissions/`


def _prefix(names: list[str], root: Path) -> str:
    """The `<assignment>-` that every repository name starts with: the assignment's
    slug where the folder says it (`gh classroom clone` names it
    `<slug>-submissions`), since a login may hold hyphens too (`hw-ann-lee` is `ann-lee`
    of `hw`, and the common prefix of `hw-ann-lee` and `hw-ann-smith` is not `hw-ann-`);
    else what all the names share, up to a hyphen."""
    if root.name.endswith(SUBMISSIONS):
        slug = root.name[: -len(SUBMISSIONS)] + "-"
        if len(slug) > 1 and all(n.startswith(slug) and len(n) > len(slug) for n in names):
            return slug
    if len(names) < 2:
        return names[0].rsplit("-", 1)[0] + "-" if names and "-" in names[0] else ""
    common = os.path.commonprefix(names)  # noqa: RUF071 (a prefix of text, not of paths)
    return common[: common.rfind("-") + 1]


def last_commit(repo: Path) -> datetime | None:
    """The committer date of HEAD, read by git without running anything of the repo's
    (no hooks run for `log`; its config cannot name a pager or monitor that runs)."""
    try:
        done = subprocess.run(
            ["git", "-c", "safe.directory=*", "-c", "core.fsmonitor=false",
             "--no-pager", "--git-dir", str(repo / ".git"), "log", "-1", "--format=%cI"],
            capture_output=True, text=True, timeout=20,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_CONFIG_NOSYSTEM": "1",
                 "HOME": "/nonexistent"})
    except (OSError, subprocess.TimeoutExpired):
        return None
    try:
        return as_utc(datetime.fromisoformat(done.stdout.strip()))
    except ValueError:
        return None


def read_classroom(root: Path) -> Read:
    repos, skipped = [], []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and not entry.is_symlink() and (entry / ".git").is_dir():
            repos.append(entry)
        else:
            skipped.append(skip(entry.name, "not a cloned repository (no .git folder)"))
    prefix = _prefix([r.name for r in repos], root)
    found = []
    for repo in repos:
        exercises = repo / "exercises"
        real = exercises.is_dir() and not exercises.is_symlink()
        files = tuple(files_under(exercises, depth=1) if real else files_under(repo, depth=1))
        found.append(Found(repo.name[len(prefix):] or repo.name, repo, files,
                           last_commit(repo)))
    return found, skipped
