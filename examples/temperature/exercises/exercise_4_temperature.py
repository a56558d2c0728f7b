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
    # refuse a temperature of 0 or below: raise a ValueError
    powered = {o: ___ for o, w in dist.items()}  # w to the power 1 / temperature
    total = sum(powered.values())
    return {o: w / total for o, w in powered.items()}


def sample(dist):
    """Draw one outcome of `dist` (your sampler from exercise 1)."""
    r = random.random()
    cumulative = 0.0
    for outcome, weight in dist.items():
        cumulative += weight
        if r < cumulative:
            return outcome
    return outcome


if __name__ == "__main__":
    weather = {"sunny": 0.6, "rainy": 0.1, "cloudy": 0.3}
    for t in (0.5, 1, 2):
        print(t, apply_temperature(weather, t))
