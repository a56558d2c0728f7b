"""docs/reference.md is generated from the author API's docstrings and kept current."""

from __future__ import annotations

from grader.authoring.reference import render
from tests.conftest import ROOT


def test_the_reference_is_up_to_date_with_the_docstrings() -> None:
    committed = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    assert committed == render(), (
        "docs/reference.md is out of date: run "
        "python -m grader.authoring.reference > docs/reference.md")


def test_the_reference_covers_every_name_the_guide_teaches() -> None:
    text = render()
    for name in ("## `check`", "## `fail`", "## `Submission`", "## `LearnerFunction`",
                 "## `LearnerError`", "## `raises`", "## `approx`", "## `stats`",
                 "`draw(", "`value(", "`function(", "`has(", "`is_a("):
        assert name in text, name
