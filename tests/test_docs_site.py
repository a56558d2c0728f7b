"""The documentation site builds with warnings as errors, and every relative link resolves."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

# Every page that links: the README (the front door, read on GitHub), the site's pages and
# the benchmark results beside the code they measure.
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench/RESULTS.md"]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~)")


def fail(observed: object, expected: object, hint: str) -> str:
    return f"observed {observed!r}, expected {expected!r}: {hint}"


def prose(text: str, *, code_spans: bool = False) -> list[str]:
    """The page's lines outside fenced code; inline code blanked unless `code_spans`."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line.lstrip()):
            fenced = not fenced
        elif not fenced:
            lines.append(line if code_spans else re.sub(r"`[^`]*`", "``", line))
    return lines


def anchors(page: Path) -> set[str]:
    """The anchors a page's headings get: the site's slugify (GitHub's rule, mkdocs.yml)."""
    from pymdownx.slugs import slugify

    slug = slugify(case="lower")
    found = set()
    # headings keep their code spans: a heading may name a command
    for line in prose(page.read_text(encoding="utf-8"), code_spans=True):
        heading = re.match(r"^#{1,6} (.+?)\s*#*$", line)
        if heading:
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading[1]).replace("`", "")
            found.add(slug(text, "-"))
    return found


def broken_links(page: Path) -> list[str]:
    broken = []
    for line in prose(page.read_text(encoding="utf-8")):
        for target in LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # https:, mailto: ...: not a file of this repository
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            if not resolved.exists():
                broken.append(f"{target} (no {resolved.relative_to(ROOT.resolve())})")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                broken.append(f"{target} (no heading '{anchor}' in {resolved.name})")
    return broken


def test_every_relative_link_of_the_readme_and_the_docs_resolves_to_a_file_and_heading() -> None:
    broken = {page.relative_to(ROOT).as_posix(): links for page in PAGES
              if (links := broken_links(page))}
    assert not broken, fail(broken, {}, "fix the link or the heading it names")


def test_the_site_builds_with_warnings_as_errors(tmp_path: Path) -> None:
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                            "--site-dir", str(tmp_path / "site")],
                           cwd=ROOT, capture_output=True, text=True, timeout=300,
                           env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})  # no banner
    assert built.returncode == 0, fail(built.stderr[-3000:], "a clean build",
                                       "mkdocs build --strict (the docs extra) must pass")
    for page in ("learners", "ta", "course", "platforms", "security", "architecture"):
        assert (tmp_path / "site" / page / "index.html").is_file(), fail(
            page, "a built page", "every audience's page is in mkdocs.yml's nav")


def test_the_readme_is_a_front_door_that_links_every_page_of_the_site() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = text.count("\n")
    assert lines <= 200, fail(lines, "at most 200 lines", "move sections into docs/")
    pages = {p.name for p in (ROOT / "docs").glob("*.md")} - {"index.md"}
    linked = {Path(t.partition("#")[0]).name for t in LINK.findall(text)}
    assert pages <= linked, fail(sorted(pages - linked), [], "link each page from the README")
