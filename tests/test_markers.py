"""Solution markers -> skeletons, and appending to course.yaml, on small texts."""

from __future__ import annotations

import pytest
import yaml

from grader.authoring.markers import MarkerError, fill_blanks, make_skeleton, strip_markers
from grader.authoring.scaffold import ScaffoldError, append_exercise


def problems_of(solution: str) -> list[tuple[int | None, str]]:
    with pytest.raises(MarkerError) as caught:
        make_skeleton(solution)
    return caught.value.problems


def test_inline_blank_with_and_without_learner_comment() -> None:
    solution = ("x = 0.3  # BLANK: 0.3 | replace ___ with the weight\n"
                "if r < total:  # BLANK: total\n"
                "    pass  # an ordinary comment stays\n")
    skeleton = make_skeleton(solution)
    assert skeleton.text == ("x = ___  # replace ___ with the weight\n"
                             "if r < ___:\n"
                             "    pass  # an ordinary comment stays\n")
    assert (skeleton.blanks, skeleton.regions, skeleton.parts) == ([1, 2], [], 2)


def test_blank_keeps_windows_line_endings_and_unicode() -> None:
    skeleton = make_skeleton('name = "café"  # BLANK: "café" | a string\r\nprint(name)\r\n')
    assert skeleton.text == "name = ___  # a string\r\nprint(name)\r\n"


def test_region_becomes_default_outline_at_its_indentation() -> None:
    solution = ("def f(x):\n"
                "    # BEGIN SOLUTION\n"
                "    y = x * 2\n"
                "    return y\n"
                "    # END SOLUTION\n"
                "\n"
                "print(f(2))\n")
    skeleton = make_skeleton(solution)
    assert skeleton.text == "def f(x):\n    # your code here\n\nprint(f(2))\n"
    assert (skeleton.blanks, skeleton.regions) == ([], [2])


def test_region_outline_lines_replace_it_verbatim() -> None:
    solution = ("### BEGIN SOLUTION\n"  # nbgrader's spelling works too
                "# OUTLINE: def generate(start, length):\n"
                "#   OUTLINE:     ...\n"
                "def generate(start, length):\n"
                "    return start\n"
                "    # OUTLINE:\n"
                "### END SOLUTION\n")
    assert make_skeleton(solution).text == "def generate(start, length):\n    ...\n\n"


def test_outline_keeps_relative_indentation() -> None:
    solution = ("# BEGIN SOLUTION\n"
                "# OUTLINE: for word in words:\n"
                "# OUTLINE:     pass  # your code here\n"
                "print(1)\n"
                "# END SOLUTION\n")
    assert make_skeleton(solution).text == "for word in words:\n    pass  # your code here\n"


@pytest.mark.parametrize(("solution", "expected"), [
    ("x = 1  # BLANK: 2\n", [(1, "the blank '2' does not occur in the code of this line; "
                                 "name a piece of code that occurs exactly once")]),
    ("x = x + 1  # BLANK: x\n", [(1, "the blank 'x' occurs 2 times in the code of this line; "
                                     "name a piece of code that occurs exactly once")]),
    ("total = cumulative  # BLANK: cum\n",
     [(1, "the blank 'cum' is part of a longer name; blank whole names")]),
    ("x = 1  # BLANK:\n", [(1, "BLANK: names no code; write # BLANK: <the code to blank>")]),
    ("# BLANK: x\n", [(1, "BLANK: on its own line needs a line of code right after it")]),
    ('print("hello")  # BLANK: hello\n',
     [(1, "this blank lands inside a string or comment, where the grader cannot see that "
          "it is still empty")]),
    ("a = 1\n# BEGIN SOLUTION\nb = 2\n", [(2, "BEGIN SOLUTION is never closed by an END "
                                              "SOLUTION")]),
    ("# END SOLUTION\n", [(1, "END SOLUTION without a BEGIN SOLUTION before it")]),
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n",
     [(2, "BEGIN SOLUTION inside the region begun on line 1; close it first with END "
          "SOLUTION")]),
    ("# OUTLINE: x = ...\n", [(1, "OUTLINE: outside a BEGIN/END SOLUTION region")]),
    ("# BEGIN SOLUTION\nx = 1  # BLANK: 1\n# END SOLUTION\n",
     [(2, "BLANK: inside a solution region, which is hidden whole")]),
    ("x = 1  # blank 1\n", [(1, "'# blank 1' looks like a marker but is not one; write "
                                "'# BLANK: code | comment', '# OUTLINE: text', "
                                "'# BEGIN SOLUTION' or '# END SOLUTION'")]),
    ('x = """never closed\n', [(1, "Python cannot read this file: EOF in multi-line string")]),
])
def test_marker_problems_name_their_line(solution: str, expected: list[tuple[int, str]]) -> None:
    assert problems_of(solution) == expected


def test_every_marker_problem_is_listed_at_once() -> None:
    solution = "a = 1  # BLANK: 2\nb = 2\n# END SOLUTION\nc = 3  # BLANK: 4\n"
    assert [line for line, _ in problems_of(solution)] == [1, 3, 4]


def test_fill_blanks_replaces_names_only() -> None:
    skeleton = 'x = ___  # replace ___\ny = f(___, "___")\n'
    assert fill_blanks(skeleton) == 'x = None  # replace ___\ny = f(None, "___")\n'


COURSE = """# the course
title: T
exercises:
  # first
  - id: a
    title: A  # trailing comment
    file: a.py
    solution: a.py
    checks: checks/a.py

# after the list
limits:
  time_limit: 5
"""


def test_append_exercise_keeps_comments_and_layout() -> None:
    entry = {"id": "b", "title": "Colon: quoted", "file": "b.py", "points": 2.0}
    updated = append_exercise(COURSE, entry)
    block = ('  - id: b\n    title: "Colon: quoted"\n    file: b.py\n    points: 2\n')
    cut = COURSE.index("\n# after the list")
    assert updated == COURSE[:cut] + block + COURSE[cut:]
    assert yaml.safe_load(updated)["exercises"][1] == {**entry, "points": 2}


def test_append_exercise_to_a_file_without_final_newline() -> None:
    text = "title: T\nexercises:\n- id: a\n  file: a.py"
    assert append_exercise(text, {"id": "b"}) == text + "\n- id: b\n"


def test_append_exercise_refuses_flow_style() -> None:
    with pytest.raises(ScaffoldError, match="flow"):
        append_exercise("title: T\nexercises: [{id: a}]\n", {"id": "b"})


def test_strip_markers_keeps_the_code_and_the_learners_comments() -> None:
    solution = ("x = 0.3  # BLANK: 0.3 | the weight\n"
                "y = 1  # BLANK: 1\n"
                "# BEGIN SOLUTION\n"
                "# OUTLINE: z = ...\n"
                "z = 2\n"
                "# END SOLUTION\n")
    assert strip_markers(solution) == "x = 0.3  # the weight\ny = 1\nz = 2\n"


def test_a_blank_on_its_own_line_marks_the_next_line_within_ruffs_line_length() -> None:
    solution = ("def f(w, t):\n    # BLANK: w ** (1 / t) | w to the power 1 / t\n"
                "    return [w ** (1 / t)]  # a list\n")
    skeleton = make_skeleton(solution)
    assert skeleton.text == ("def f(w, t):\n"
                             "    return [___]  # w to the power 1 / t  # a list\n")
    assert skeleton.solution == ("def f(w, t):\n    return [w ** (1 / t)]  # w to the "
                                 "power 1 / t  # a list\n")
    assert skeleton.blanks == [2]


def test_an_error_in_a_graded_marked_solution_quotes_its_code_not_its_marker() -> None:
    from grader.checks.errors import explain

    source = ('x = 1\nweather = {"a": 1 / 0}  # BLANK: 1 / 0 | replace ___ with a weight '
              "that is long enough to be cut off at eighty characters\n")
    error = {"kind": "exception", "type": "ZeroDivisionError", "message": "division by zero",
             "line": 2}
    assert explain(error, source) == ('raised ZeroDivisionError: division by zero (line 2: '
                                      'weather = {"a": 1 / 0})')


def test_a_marked_solution_maps_each_line_back_to_the_file_the_author_edits() -> None:
    solution = ("def f(w):\n    # BEGIN SOLUTION\n    # OUTLINE: # your code\n"
                "    y = w\n    # END SOLUTION\n    # BLANK: y | twice\n    return 2 * y\n")
    skeleton = make_skeleton(solution)
    assert skeleton.solution.splitlines() == ["def f(w):", "    y = w", "    return 2 * y  # twice"]
    assert skeleton.origins == [1, 4, 7]
