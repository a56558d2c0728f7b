"""Every check can fail: for each one, a mutant of the solution that fails exactly it.

And the wrong answers learners really write fail the checks they should.
"""

from __future__ import annotations

import pytest

from grader.course import Course
from grader.runner import Grader
from tests.conftest import exercise_of

SAMPLE_HEAD = "def sample(dist):\n"
GENERATE_HEAD = "def generate(chain, start, length):\n"

# (exercise, the one check that must fail, text in the solution, its replacement)
MUTANTS = [
    ("exercise-1", "test_weights_are_numbers", '"cloudy": 0.3,', '"foggy": 0.3,'),
    ("exercise-1", "test_weights_sum_to_one",
     # weights add to 1.1, but the sampler scales by the total, so draws still match them
     '"cloudy": 0.3,', '"cloudy": 0.4,'),
    ("exercise-1", "test_sample_returns_outcomes", SAMPLE_HEAD,
     SAMPLE_HEAD + '    if len(dist) == 5:\n        return "surprise"\n'),
    ("exercise-1", "test_weather_frequencies", SAMPLE_HEAD,
     SAMPLE_HEAD + '    if set(dist) == {"sunny", "rainy", "cloudy"}:\n        return "sunny"\n'),
    ("exercise-1", "test_example_frequencies", SAMPLE_HEAD,
     SAMPLE_HEAD + '    if set(dist) == {"red", "green", "blue"}:\n        return "red"\n'),
    ("exercise-1", "test_unseen_frequencies", SAMPLE_HEAD,
     SAMPLE_HEAD + "    if len(dist) == 4:\n        return sorted(dist)[0]\n"),
    ("exercise-1", "test_deterministic", "    r = random.random()  # uniform in [0, 1)",
     "    r = _own.random()  # a private generator that random.seed() does not reach"),
    ("exercise-2", "test_starts_with_start", GENERATE_HEAD,
     GENERATE_HEAD + '    if start == "love":\n        start = "i"\n'),
    ("exercise-2", "test_length_limit", "for _ in range(length - 1):", "for _ in range(length):"),
    ("exercise-2", "test_bigrams_in_corpus", "        word = random.choice(options)",
     '        word = random.choice(list(chain) if length == 10 and "love" in chain else options)'),
    ("exercise-2", "test_dead_end", "            break  # a dead end",
     '            if word != "rug":\n                raise KeyError(word)\n            break  #'),
    ("exercise-2", "test_unseen_corpus", "        word = random.choice(options)",
     '        word = random.choice(list(chain) if "cat" in chain else options)'),
    ("exercise-2", "test_sampled", "        word = random.choice(options)",
     "        word = options[0] if length > 2 else random.choice(options)"),
    ("exercise-2", "test_next_word_frequencies", "        word = random.choice(options)",
     "        word = random.choice(sorted(set(options)))"),
    ("exercise-3", "test_corpus", '    "the river runs to the sea and the sea runs to the sky "\n'
     '    "and the sky rains on the river"', '"the cat and the dog and the"'),
    ("exercise-3", "test_chain_matches_corpus",
     "    chain.setdefault(current, []).append(following)",
     "    if following not in chain.setdefault(current, []):\n"
     "        chain[current].append(following)"),
    ("exercise-3", "test_generate_in_corpus", "    word = start\n",
     "    if length >= 10:\n"
     "        return ' '.join([start] + random.sample(words, length - 1))\n    word = start\n"),
    ("exercise-3", "test_length", "while len(out) < length", "while len(out) <= length"),
    ("exercise-3", "test_printed_sentence", 'print(generate("the", 8))',
     'print("Generated:", generate("the", 8))'),
    ("exercise-3", "test_sampled", "        word = random.choice(chain[word])",
     "        word = chain[word][0] if length == 2 else random.choice(chain[word])"),
]

EXTRA = {  # supporting edits a mutant needs besides its one replacement
    "test_weights_sum_to_one": ("    r = random.random()  # uniform in [0, 1)",
                                "    r = random.random() * sum(dist.values())"),
    "test_deterministic": ("import random\n", "import random\n\n_own = random.Random(0)\n"),
}


def _failed_checks(grader: Grader, course: Course, exercise_id: str, source: str) -> set[str]:
    exercise = exercise_of(course, exercise_id)
    result = grader.grade_source(exercise, source, "mutant.py")
    assert result.error is None, result.error
    ids = [c.id for c in grader.checks(exercise)]
    return {check_id for check_id, r in zip(ids, result.checks) if not r.passed}


@pytest.mark.parametrize(("exercise_id", "check_id", "old", "new"), MUTANTS,
                         ids=[f"{m[0]}-{m[1]}" for m in MUTANTS])
def test_mutant_fails_exactly_its_check(grader: Grader, course: Course, mutant,
                                        exercise_id: str, check_id: str, old: str,
                                        new: str) -> None:
    source = mutant(exercise_id, old, new)
    if check_id in EXTRA:
        before, after = EXTRA[check_id]
        assert source.count(before) == 1
        source = source.replace(before, after)
    assert _failed_checks(grader, course, exercise_id, source) == {check_id}


def test_every_check_has_a_mutant(grader: Grader, course: Course) -> None:
    covered = {(m[0], m[1]) for m in MUTANTS}
    declared = {(e.id, c.id) for e in course.exercises for c in grader.checks(e)}
    assert declared == covered


# The wrong variants learners write (docs/learners.md shows some), with the checks each
# must fail at least.
WRONG = [
    ("exercise-1", '"cloudy": 0.3,', '"cloudy": 0.4,', {"test_weights_sum_to_one"}),
    ("exercise-1", "if r < cumulative:", "if r > cumulative:",
     {"test_weather_frequencies", "test_unseen_frequencies"}),
    ("exercise-1", "if r < cumulative:", "if r < weight:",
     {"test_weather_frequencies", "test_unseen_frequencies"}),
    ("exercise-1", "for outcome, weight in dist.items():",
     "for outcome, weight in weather.items():",
     {"test_sample_returns_outcomes", "test_unseen_frequencies"}),
    ("exercise-2", "random.choice(options)", "options[0]",
     {"test_sampled", "test_next_word_frequencies"}),
    ("exercise-2", "random.choice(options)", "random.choice(words)",
     {"test_bigrams_in_corpus", "test_unseen_corpus", "test_next_word_frequencies"}),
]


@pytest.mark.parametrize(("exercise_id", "old", "new", "must_fail"), WRONG,
                         ids=[f"{w[0]}:{w[2]}" for w in WRONG])
def test_wrong_variants_fail(grader: Grader, course: Course, mutant, exercise_id: str,
                             old: str, new: str, must_fail: set[str]) -> None:
    failed = _failed_checks(grader, course, exercise_id, mutant(exercise_id, old, new))
    assert must_fail <= failed


def test_fixed_next_word_message_names_the_word(grade_text, mutant) -> None:
    source = mutant("exercise-3", "        word = random.choice(chain[word])",
                    "        word = chain[word][0]")
    result = grade_text("exercise-3", source)
    sampled = next(c for c in result.checks if c.name.startswith("generate samples"))
    assert not sampled.passed
    assert "the next word was always 'and'" in sampled.message
