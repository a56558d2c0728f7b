"""Checks for exercise-4, temperature. They are public: `grade release` ships them to
learners, so they hold no line of the solution (the reference is computed another way).

Soundness of the frequency check: 10,000 draws after a fixed seed, so the verdict
never changes between runs; the tolerance from `stats.tolerance` (Hoeffding and a
union bound over 3 outcomes) is 2.8%, so a correct sampler fails it with
probability below 1e-6, while sampling the unreshaped weather (60% sunny instead
of 78%) misses by 18 points, six times the tolerance.
"""

from __future__ import annotations

import math

from grader.checks import Submission, approx, check, fail, leaves_arguments_alone, raises
from grader.checks.stats import expect_frequencies

WEATHER = {"sunny": 0.6, "rainy": 0.1, "cloudy": 0.3}


def at_temperature(dist: dict[str, float], t: float) -> dict[str, float]:
    """The expected weights, by logarithms: exp(log(w) / T), over their sum."""
    logs = {o: math.exp(math.log(w) / t) for o, w in dist.items()}
    return {o: v / math.fsum(logs.values()) for o, v in logs.items()}


@check("Temperature 1 leaves the weights as they are", points=1)
def test_temperature_one(submission: Submission) -> None:
    got = submission.function("apply_temperature")(WEATHER, 1)
    if (why := approx(WEATHER).why_not(got)) is not None:
        fail(f"apply_temperature(weather, 1) is off {why}", f"{WEATHER}",
             hint="w ** (1 / 1) is w itself")


@check("Reshaped weights match w ** (1 / T), scaled to add up to 1", points=3,
       cases={"T = 0.5": 0.5, "T = 2": 2, "T = 3": 3})
def test_reshaped(submission: Submission, temperature: float) -> None:
    got = submission.function("apply_temperature")(WEATHER, temperature)
    want = at_temperature(WEATHER, temperature)
    if (why := approx(want).why_not(got)) is not None:
        fail(f"apply_temperature(weather, {temperature}) is off {why}",
             str({k: round(v, 3) for k, v in want.items()}),
             hint="raise each weight to the power 1 / temperature before scaling")


@check("A temperature of 0 or below is refused with a ValueError", points=1)
def test_refuses_zero(submission: Submission) -> None:
    raises(ValueError, submission.function("apply_temperature"), WEATHER, 0,
           hint="before reshaping, raise ValueError when temperature <= 0")


@check("The weights given are left as they were", points=1)
def test_leaves_weights_alone(submission: Submission) -> None:
    leaves_arguments_alone(submission.function("apply_temperature"), WEATHER, 2)


@check("Draws at temperature 0.5 follow the sharpened weights", points=2)
def test_sharpened_draws(submission: Submission) -> str:
    sharp = submission.function("apply_temperature")(WEATHER, 0.5)
    draws = submission.function("sample").draw(sharp, n=10_000, seed=4)
    return expect_frequencies(draws, at_temperature(WEATHER, 0.5), what="at temperature 0.5",
                              hint="sample from the reshaped distribution")
