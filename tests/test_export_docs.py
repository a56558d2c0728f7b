"""The docs follow the code's registries: every export, every outcome kind, the summary."""

from __future__ import annotations

import re

import pytest

from grader.reports.export import EXPORTS, summary
from tests.conftest import ROOT


def documented(name: str) -> str:
    """A registry file as the docs' tables name it: feedback/*.md is feedback/ID.md."""
    return name.replace("*", "ID")


@pytest.mark.parametrize("doc", ["docs/contracts.md", "docs/ta.md"])
def test_every_registered_export_has_a_row_in_the_docs(doc: str) -> None:
    rows = set(re.findall(r"^\| `([^`]+)` \|", (ROOT / doc).read_text(), re.MULTILINE))
    missing = [e.files for e in EXPORTS if documented(e.files) not in rows]
    assert not missing, f"{doc} has no row for {missing}: add one beside the others"


def test_the_docs_quote_the_summary_grade_batch_prints() -> None:
    for doc in ("docs/ta.md", "docs/cluster.md"):
        # the batch summary's line: the one that names grades.csv
        quoted = re.findall(r"^wrote \S+?/(grades\.csv.*)$", (ROOT / doc).read_text(),
                            re.MULTILINE)
        assert quoted and all(line == summary() for line in quoted), (doc, quoted)


def test_every_error_kind_has_a_row_and_every_check_status_a_word_in_the_contract() -> None:
    from grader.kinds import CheckStatus, ErrorKind

    text = (ROOT / "docs/contracts.md").read_text()
    rows = set(re.findall(r"^\| `([^`]+)` \|", text, re.MULTILINE))
    missing = [k.value for k in ErrorKind if k.value not in rows]
    assert not missing, f"docs/contracts.md has no row for {missing}: add one beside the others"
    unsaid = [s.value for s in CheckStatus if f"`{s.value}`" not in text]
    assert not unsaid, f"docs/contracts.md never names the check status {unsaid}"
