"""The statistical helpers: the tolerance formula and its soundness, on real samplers."""

from __future__ import annotations

import math
import random

import pytest

from grader.checks import CheckFailed
from grader.checks.stats import expect_frequencies, histogram, tolerance

WEIGHTS = {"sunny": 0.6, "rainy": 0.1, "cloudy": 0.3}


def draw(weights: dict[str, float], n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return rng.choices(list(weights), weights=list(weights.values()), k=n)


def test_tolerance_is_hoeffding_with_a_union_bound() -> None:
    t = tolerance(10_000, 3)
    assert 3 * 2 * math.exp(-2 * 10_000 * t**2) == pytest.approx(1e-6)
    assert tolerance(40_000, 3) == pytest.approx(t / 2)
    with pytest.raises(ValueError):
        tolerance(0, 3)


def test_correct_sampler_passes_for_every_seed() -> None:
    for seed in range(200):
        expect_frequencies(draw(WEIGHTS, 10_000, seed), WEIGHTS, what="w", hint="h")


@pytest.mark.parametrize("wrong", [
    {"sunny": 0.6, "rainy": 0.1, "cloudy": 0.4},  # what cloudy 0.4 would claim
    {"sunny": 0.4, "rainy": 0.0, "cloudy": 0.6},  # r > cumulative
    {"sunny": 1.0, "rainy": 0.0, "cloudy": 0.0},  # a fixed answer
])
def test_wrong_weights_fail_for_every_seed(wrong: dict[str, float]) -> None:
    for seed in range(50):
        with pytest.raises(CheckFailed) as caught:
            expect_frequencies(draw(WEIGHTS, 10_000, seed),
                               {k: v / sum(wrong.values()) for k, v in wrong.items()},
                               what="w", hint="h")
        assert caught.value.detail and "observed" in caught.value.detail


def test_histogram_lists_expected_and_unexpected_outcomes() -> None:
    text = histogram({"a": 0.5, "b": 0.5}, {"a": 0.25, "z": 0.75}).splitlines()
    assert text[0].split() == ["outcome", "expected", "observed"]
    assert text[1].startswith("a") and "50.0%" in text[1] and "25.0%" in text[1]
    assert text[3].startswith("z") and "75.0%" in text[3]
