"""The explain section's 95% intervals cover the truth 93-97% of the time for normal values.

Synthetic explain records, shaped like the `sliding` study (Keras 18.8 ± 0.2 sunspots, torch
19.8 ± 1.3): per-seed differences of mean 0.5 and sd 1 for the mean effect; a variant with sd 0.2
against torch's 1.3 (correlation 0.5 through the shared seed) for the spread; Keras against torch
for the gap. 2,000 seeded studies per seed count: at a true 95% the observed share has a standard
error of 0.5 points, so the 93-97% band is four of them each side. Skewed values (lognormal
noise, sigma 0.5: a few bad seeds) lower every interval's coverage, the spread's most; the check
that they do is why the section prints its caveat. The percentile bootstrap the section printed
before is planted as a mutant: the same check rejects it.

`python -m tests.compare.report.test_explain_coverage` prints the table of docs/explain.md
(4,000 studies per cell; about 2 minutes on 2 cores).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from compare.report.explain_stats import (
    bootstrap_bounds,
    mean_bounds,
    paired_effect,
    ratio_bounds,
    t_quantile,
    welch_bounds,
)

STUDIES = 2000
SHAPES = {"normal": None, "skewed": 0.5, "heavy": 1.0}  # lognormal sigma of the noise
MEAN_EFFECT = 0.5  # sunspots; per-seed differences have sd 1
SDS = {"variant": 0.2, "torch": 1.3, "keras": 0.2}
MEANS = {"keras": 18.8, "torch": 19.8}


def noise(rng: np.random.Generator, shape: tuple[int, ...], shape_name: str) -> np.ndarray:
    """Mean 0, sd 1: normal, or a standardised lognormal (right-skewed, as bad seeds are)."""
    z = rng.standard_normal(shape)
    sigma = SHAPES[shape_name]
    if sigma is None:
        return z
    mean, var = math.exp(sigma**2 / 2), (math.exp(sigma**2) - 1) * math.exp(sigma**2)
    return (np.exp(sigma * z) - mean) / math.sqrt(var)


def share(bounds: tuple[np.ndarray, np.ndarray], truth: float) -> float:
    low, high = bounds
    return float(np.mean((low <= truth) & (truth <= high)))


def coverages(seeds: int, shape_name: str, studies: int = STUDIES, resamples: int = 200) -> dict:
    """Each interval's coverage over `studies` synthetic studies of `seeds` seeds."""
    rng = np.random.default_rng(seeds)
    d = MEAN_EFFECT + noise(rng, (studies, seeds), shape_name)
    shared, own = noise(rng, (studies, seeds), shape_name), noise(rng, (studies, seeds), shape_name)
    torch = 20 + SDS["torch"] * shared
    variant = 20 + SDS["variant"] * (0.5 * shared + math.sqrt(0.75) * own)  # sd 0.2, r 0.5
    keras = MEANS["keras"] + SDS["keras"] * noise(rng, (studies, seeds), shape_name)
    torch_alone = MEANS["torch"] + SDS["torch"] * noise(rng, (studies, seeds), shape_name)
    return {
        "mean": share(mean_bounds(d), MEAN_EFFECT),
        "spread": share(ratio_bounds(variant, torch), SDS["variant"] / SDS["torch"]),
        "gap": share(welch_bounds(keras, torch_alone), MEANS["keras"] - MEANS["torch"]),
        "old bootstrap": share(
            bootstrap_bounds(variant, torch, resamples), SDS["variant"] - SDS["torch"]
        ),
    }


@pytest.mark.parametrize("seeds", [5, 10])
def test_every_interval_covers_95_percent_for_normal_values(seeds):
    found = coverages(seeds, "normal")
    assert all(0.93 <= found[name] <= 0.97 for name in ("mean", "spread", "gap")), found
    assert found["old bootstrap"] < 0.85, found  # the check rejects the method it replaced


def test_skewed_values_lower_the_spread_interval_most():
    """Why the section prints its caveat: skew costs the spread interval points of coverage."""
    found = coverages(10, "skewed")
    assert found["spread"] < 0.90 and found["spread"] < min(found["mean"], found["gap"]), found


def test_the_ratio_bounds_are_where_pitman_morgans_t_reaches_its_quantile():
    """At each bound theta, a + sqrt(theta) b and a - sqrt(theta) b have |t| = t_{n-2}."""
    a = np.array([22.0, 23.0, 26.0, 21.5, 24.0])
    b = np.array([24.0, 25.0, 29.0, 23.0, 24.5])
    n = len(a)
    for bound in ratio_bounds(a, b):
        r = np.corrcoef(a + bound * b, a - bound * b)[0, 1]
        t = abs(r) * math.sqrt(n - 2) / math.sqrt(1 - r**2)
        assert t == pytest.approx(t_quantile(n - 2), rel=1e-9)
    effect = paired_effect(dict(enumerate(a)), dict(enumerate(b)))
    assert effect["sd_ratio"] == pytest.approx(a.std(ddof=1) / b.std(ddof=1))
    low, high = effect["sd_ratio_ci95"]
    assert low < effect["sd_ratio"] < high


if __name__ == "__main__":
    print("| values | seeds | mean (paired t) | spread (Pitman-Morgan) | gap (Welch) "
          "| old bootstrap |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for shape_name in SHAPES:
        for seeds in (5, 10):
            c = coverages(seeds, shape_name, studies=4000, resamples=1000)
            print(f"| {shape_name} | {seeds} | " + " | ".join(f"{100 * v:.1f}%" for v in c.values())
                  + " |")  # fmt: skip
