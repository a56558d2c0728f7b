"""Exercise 1 - Weighted sampling.

A generative model is, underneath, a probability distribution you can draw
from. Here the "learned" distribution is tomorrow's weather: every outcome has a
weight, and the weights of a distribution add up to 1.

Fill in the two blanks marked ___ and check your work with:  grade exercise-1
"""

import random

random.seed(3)  # the same draws on every run, so you can compare results

# 1) The learned distribution: sunny + rainy + cloudy must add up to 1.
weather = {
    "sunny": 0.6,
    "rainy": 0.1,
    "cloudy": 0.3,  # replace ___ so that the three weights add up to 1
}


def sample(dist):
    """Draw one outcome of `dist`, each with probability equal to its weight.

    Picture the weights laid end to end on a ruler from 0 to 1. A random number
    `r` lands in exactly one outcome's stretch: the first one whose running
    total of weights is past `r`.
    """
    r = random.random()  # uniform in [0, 1)
    cumulative = 0.0
    for outcome, weight in dist.items():
        cumulative += weight
        if r < cumulative:  # compare r with what? Has r landed inside this stretch?
            return outcome
    return outcome  # rounding can leave the total a hair under 1


if __name__ == "__main__":
    draws = [sample(weather) for _ in range(1000)]
    for outcome, weight in weather.items():
        print(f"{outcome:>6}: weight {weight:.0%}, drawn {draws.count(outcome) / 1000:.1%}")

while True:
    pass
