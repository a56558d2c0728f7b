"""Checks for exercise 1, weighted sampling.

Each frequency check draws 10,000 samples after a fixed seed, so a verdict never
changes between runs; the tolerance comes from `grader.checks.stats.tolerance`
(Hoeffding plus a union bound over the outcomes), so a correct sampler fails with
probability below 1e-6 per check. For the distributions below the tolerance is
about 0.03, while every wrong variant misses by far more:

- ``"cloudy": 0.4``: the weights add up to 1.1 (the sum check), and cloudy is drawn
  30% of the time instead of its 36% share of the total (miss 0.064, 2.3 times
  the tolerance);
- ``r > cumulative``: sunny is drawn 40% instead of 60% (miss 0.20);
- ``r < weight``: rainy and cloudy are never drawn (miss 0.30);
- a sampler that ignores its argument returns weather outcomes for other
  distributions (the outcome check), and unseen distributions catch any answer
  tuned to `weather` alone;
- a sampler without the final fallback `return` gives None when rounded weights
  add up to a little under 1 (0.99 below): 1% of draws land past the last stretch,
  so 2,000 draws all missing it has probability 0.99^2000 < 1e-8.

Learners see the public checks, on `weather` and on `EXAMPLE`; the check on
distributions they never saw is hidden (`grade release` leaves it out).

`grade check --mutants` grades every small edit of the solution against these
checks; the ones no check can catch are marked in the solution, with the reason.
"""

from __future__ import annotations

import math
from typing import Any

from grader.checks import Submission, check, fail
from grader.checks.stats import expect_frequencies

DRAWS = 10_000

# A distribution learners see in the public checks, besides their own weather.
EXAMPLE: dict[str, float] = {"red": 0.5, "green": 0.3, "blue": 0.2}
FIVE: dict[str, float] = {"a": 0.2, "b": 0.2, "c": 0.2, "d": 0.2, "e": 0.2}

# Hints deepen, nudge first (each failure on changed code shows one more); none is
# the answer. The main failure mode of both frequency checks: the wrong comparison
# inside sample's loop (`r > cumulative`, `r < weight`).
RULER_HINTS = [
    "an outcome should come up as often as its weight says; which stretch of [0, 1) "
    "belongs to each outcome, and when has r landed in it?",
    "`cumulative` is where the current outcome's stretch of the ruler ends; `weight` is "
    "only its length, so comparing r with weight ignores where the stretch starts",
    "take {'a': 0.5, 'b': 0.25, 'c': 0.25}: r anywhere in [0, 0.5) must give 'a', and r in "
    "[0.5, 0.75) 'b'. On the first pass of the loop, which comparison of r with the running "
    "total is true exactly for the r that must give 'a'?",
]

# Distributions the learner never sees: uneven, with a rare outcome, a certain
# outcome, and the rare outcome first and last so cumulative slices are tested.
UNSEEN: list[dict[str, float]] = [
    {"apple": 0.5, "banana": 0.25, "cherry": 0.125, "date": 0.125},
    {"rare": 0.05, "common": 0.95},
    {"only": 1.0},
    {"x": 0.2, "y": 0.2, "z": 0.6},
]
# Thirds rounded to two decimals: 0.99 in all, as weights written by hand often are.
ROUNDED = {"a": 0.33, "b": 0.33, "c": 0.33}
GIVEN = {"sunny": 0.6, "rainy": 0.1}  # the weights the skeleton gives (only cloudy is blank)


def _weather(submission: Submission) -> dict[str, Any]:
    weather = submission.value("weather")
    if not isinstance(weather, dict) or not weather:
        fail(f"`weather` is a {type(weather).__name__}", "a dict of outcome -> weight",
             hint="keep the shape of the skeleton: {\"sunny\": 0.6, ...}")
    return weather


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _numeric_weather(submission: Submission) -> tuple[dict[str, float], float]:
    """The learner's weather and the total of its weights, or fail if they are not numbers."""
    weather = _weather(submission)
    if not all(_is_number(w) for w in weather.values()):
        fail("some weights are not numbers", "numbers that add up to 1")
    return weather, sum(weather.values())


@check("weather holds three non-negative numbers", points=1)
def test_weights_are_numbers(submission: Submission) -> None:
    weather = _weather(submission)
    if set(weather) != {"sunny", "rainy", "cloudy"}:
        fail(f"the outcomes are {sorted(weather)}", "sunny, rainy and cloudy",
             hint="fill in the blank; do not rename or remove outcomes")
    for outcome, weight in weather.items():
        if not _is_number(weight):
            fail(f"the weight of {outcome!r} is {weight!r}", "a number",
                 hint="a weight is a plain number such as 0.25, not text")
        if weight < 0:
            fail(f"the weight of {outcome!r} is {weight}", "a number of 0 or more",
                 hint="a probability is never negative")
    for outcome, weight in GIVEN.items():
        if not math.isclose(weather[outcome], weight):
            fail(f"the weight of {outcome!r} is {weather[outcome]}", f"{weight}, as given",
                 hint="only the blank is yours to fill; keep the weights the file gives")


@check("The weights add up to 1", points=2)
def test_weights_sum_to_one(submission: Submission) -> None:
    _, total = _numeric_weather(submission)
    if not math.isclose(total, 1.0, abs_tol=1e-9):
        fail(f"the weights add up to {total:g}", "1",
             hint=["a distribution's probabilities must cover exactly 100%",
                   "sunny and rainy are given; cloudy is the only weight you choose",
                   "cloudy gets what sunny and rainy leave: 1 minus their sum"])


@check("sample returns an outcome of the distribution it is given", points=2)
def test_sample_returns_outcomes(submission: Submission) -> None:
    sample = submission.function("sample")
    for seed, dist in enumerate([_weather(submission), EXAMPLE, FIVE]):
        for drawn in sample.draw(dist, n=200, seed=seed):
            if drawn not in dist:
                fail(f"sample({dist}) returned {drawn!r}", f"one of {sorted(dist)}",
                     hint=["sample must only use the distribution passed to it as `dist`",
                           "the checks call sample with distributions other than weather; "
                           "inside sample, the name `weather` must not appear",
                           "every outcome sample returns must come from the loop over "
                           "dist.items(), and the line after the loop returns the last of "
                           "them"])
    for drawn in sample.draw(ROUNDED, n=2000, seed=99):
        if drawn not in ROUNDED:
            fail(f"sample({ROUNDED}) returned {drawn!r} (these weights add up to 0.99)",
                 f"one of {sorted(ROUNDED)}",
                 hint="when rounding leaves the total under 1, r can land past the last "
                      "stretch: sample must still return an outcome")


@check("Draws from weather follow its weights", points=2)
def test_weather_frequencies(submission: Submission) -> str:
    weather, total = _numeric_weather(submission)
    if total <= 0:
        fail("the weights add up to 0", "positive weights")
    # Shares relative to the total: a wrong weight is the sum check's business.
    shares = {outcome: weight / total for outcome, weight in weather.items()}
    draws = submission.function("sample").draw(weather, n=DRAWS, seed=2024)
    return expect_frequencies(
        draws, shares, what=f"over {DRAWS:,} draws from weather",
        hint=RULER_HINTS)


@check("Draws from another distribution follow its weights", points=1)
def test_example_frequencies(submission: Submission) -> str:
    draws = submission.function("sample").draw(EXAMPLE, n=DRAWS, seed=99)
    return expect_frequencies(
        draws, EXAMPLE, what=f"over {DRAWS:,} draws from {EXAMPLE}",
        hint="sample must work for any distribution it is given, not just weather")


@check("Draws from distributions you never saw follow their weights", points=1,
       visibility="hidden")
def test_unseen_frequencies(submission: Submission) -> str:
    sample = submission.function("sample")
    for seed, dist in enumerate(UNSEEN, start=100):
        draws = sample.draw(dist, n=DRAWS, seed=seed)
        expect_frequencies(
            draws, dist, what=f"over {DRAWS:,} draws from {dist}",
            hint=["sample must work for any distribution it is given, not just weather",
                  *RULER_HINTS[1:]])
    return f"{len(UNSEEN)} other distributions, {DRAWS:,} draws each"


@check("The same seed gives the same draws", points=1)
def test_deterministic(submission: Submission) -> None:
    sample = submission.function("sample")
    dist = EXAMPLE
    first, second = (sample.draw(dist, n=50, seed=7) for _ in range(2))
    if first != second:
        fail("two runs after random.seed(7) drew different outcomes", "identical draws",
             hint="draw your randomness from the `random` module (random.random())")
