"""Sound, deterministic statistical checks for samplers.

Why these numbers. A check draws `n` samples after `random.seed(s)` with a fixed
`s`, so its verdict on a given submission never changes between runs. What we
must still bound is the chance that a *correct* sampler is unlucky for the seed
we picked. For one outcome of probability p, the observed frequency f of n
independent draws obeys Hoeffding's inequality

    P(|f - p| >= t) <= 2 exp(-2 n t^2),

and over k outcomes a union bound gives at most 2 k exp(-2 n t^2). Setting that
to the false-alarm rate alpha (1e-6 by default) gives the tolerance

    t = sqrt(ln(2 k / alpha) / (2 n)).

With n = 10,000 draws and k = 3 outcomes, t = 0.028: a correct sampler fails
with probability below one in a million, while the classic wrong answers (a
missing weight, `r > cumulative`, `r < weight`, a fixed answer) miss by 0.1 or
more, three to ten times the tolerance. Hoeffding needs no normal approximation,
so the bound also holds for rare outcomes and small n.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping

from grader.checks.api import Drift, fail

FALSE_ALARM = 1e-6


def tolerance(draws: int, outcomes: int, false_alarm: float = FALSE_ALARM) -> float:
    """Largest |frequency - probability| a correct sampler reaches with prob. <= false_alarm."""
    if draws <= 0 or outcomes <= 0:
        raise ValueError("draws and outcomes must be positive")
    return math.sqrt(math.log(2 * outcomes / false_alarm) / (2 * draws))


def frequencies(samples: Iterable[object]) -> dict[str, float]:
    """Share of each distinct sample, keyed by its string form."""
    counts = Counter(str(s) for s in samples)
    total = sum(counts.values())
    return {key: count / total for key, count in counts.items()} if total else {}


def histogram(expected: Mapping[str, float], observed: Mapping[str, float],
              width: int = 20) -> str:
    """Expected and observed shares side by side, as text bars."""
    label = max([len("outcome"), *(len(k) for k in expected)])
    rows = [f"{'outcome':<{label}}  {'expected':<{width + 7}}  observed"]
    for key in [*expected, *(k for k in observed if k not in expected)]:
        e, o = expected.get(key, 0.0), observed.get(key, 0.0)
        rows.append(f"{key:<{label}}  {e:6.1%} {'#' * round(e * width):<{width}}"
                    f"  {o:6.1%} {'#' * round(o * width)}")
    return "\n".join(rows)


def expect_frequencies(samples: list[object], expected: Mapping[str, float], *,
                       what: str, hint: str, false_alarm: float = FALSE_ALARM) -> str:
    """Fail unless every outcome's share of `samples` is within tolerance of `expected`.

    Returns a one-line summary for the passing message.
    """
    observed = frequencies(samples)
    t = tolerance(len(samples), max(len(expected), 1), false_alarm)
    if strays := [k for k in observed if k not in expected]:  # should never be drawn at all
        fail(f"{what}: {strays[0]!r} came up {observed[strays[0]]:.1%} of the time",
             f"only {', '.join(map(repr, expected))}", hint=hint,
             detail=histogram(expected, observed),
             drift=Drift(strays[0], 0.0, observed[strays[0]]))
    worst = max(expected, key=lambda k: abs(observed.get(k, 0.0) - expected[k]))
    gap = abs(observed.get(worst, 0.0) - expected[worst])
    if gap > t:
        fail(f"{what}: {worst!r} came up {observed.get(worst, 0.0):.1%} of the time",
             f"{expected[worst]:.1%} (give or take {t:.1%})", hint=hint,
             detail=histogram(expected, observed),
             drift=Drift(worst, expected[worst], observed.get(worst, 0.0)))
    return f"{len(samples):,} draws, every share within {t:.1%} of its weight"
