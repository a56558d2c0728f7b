"""Golden files: every contract output of `grade` stays byte for byte what tests/golden holds.

The outputs come from the real commands (tests/golden/produce.py); a difference
fails with the first differing line. A change that is meant: regenerate with
`python tests/golden/regenerate.py` and say why in the commit (tests/golden/README.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from golden.produce import EXPECTED, produce

REGENERATE = "python tests/golden/regenerate.py"
# About 30 real `grade` processes: seconds on an idle machine, minutes on a loaded one.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return produce(tmp_path_factory.mktemp("golden"))


def expected_names() -> list[str]:
    return sorted(p.relative_to(EXPECTED).as_posix() for p in EXPECTED.rglob("*") if p.is_file())


def _first_difference(got: bytes, want: bytes) -> str:
    got_lines, want_lines = got.splitlines(), want.splitlines()
    for number, (a, b) in enumerate(zip(got_lines, want_lines), 1):
        if a != b:
            return f"line {number}:\n  got:      {a[:300]!r}\n  expected: {b[:300]!r}"
    return (f"the files differ in length ({len(got_lines)} lines, expected "
            f"{len(want_lines)}) or in their last newline")


def test_every_command_writes_exactly_the_files_the_golden_folder_holds(produced):
    assert sorted(produced) == expected_names(), (
        f"new: {sorted(set(produced) - set(expected_names()))}; "
        f"gone: {sorted(set(expected_names()) - set(produced))}; "
        f"if that is meant, run {REGENERATE}")


@pytest.mark.parametrize("name", expected_names())
def test_each_output_is_byte_for_byte_its_golden_file(produced, name):
    want = (EXPECTED / name).read_bytes()
    got = produced.get(name)
    assert got is not None, f"{name} was not produced"
    assert got == want, (f"{name} differs from tests/golden/expected/{name} at "
                         f"{_first_difference(got, want)}\nif the change is meant, run "
                         f"{REGENERATE} and say why in the commit")


def test_the_golden_inputs_cover_every_kind_of_submission_the_contract_names():
    names = {p.stem for p in (Path(__file__).parent / "golden" / "inputs").iterdir()}
    assert {"solution", "wrong", "skeleton", "syntax", "timeout", "notebook"} <= names
