"""Exercise 4 - Temperature.

A language model does not always sample from its distribution as it is: the
temperature T reshapes it first. Each weight w becomes w ** (1 / T), and the
new weights are scaled to add up to 1 again. Below 1, T sharpens the
distribution (likely outcomes get likelier); above 1, it flattens it. A
temperature of 0 or below has no meaning: refuse it with a ValueError.

Fill in the parts marked ___ and check your work with:  grade exercise-4
"""

import random


def apply_temperature(dist, temperature):
    """`dist` reshaped by `temperature`: a new dict; `dist` itself is left as it was."""
    # BEGIN SOLUTION
    # OUTLINE: # refuse a temperature of 0 or below: raise a ValueError
    if temperature <= 0:
        raise ValueError(f"temperature must be above 0, not {temperature}")
    # END SOLUTION
    # BLANK: w ** (1 / temperature) | w to the power 1 / temperature
    powered = {o: w ** (1 / temperature) for o, w in dist.items()}
    total = sum(powered.values())
    return {o: w / total for o, w in powered.items()}


def sample(dist):
    """Draw one outcome of `dist` (your sampler from exercise 1)."""
    r = random.random()
    cumulative = 0.0
    for outcome, weight in dist.items():
        cumulative += weight
        # EQUIVALENT MUTANT: r == cumulative has probability 0, so <= draws as < does
        if r < cumulative:
            return outcome
    # EQUIVALENT MUTANT: reached only when rounding leaves the weights' sum below r
    return outcome


if __name__ == "__main__":
    weather = {"sunny": 0.6, "rainy": 0.1, "cloudy": 0.3}
    for t in (0.5, 1, 2):
        print(t, apply_temperature(weather, t))
