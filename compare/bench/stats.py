"""The speed study's statistics: medians over rounds with bootstrap 95% intervals, per-round ratios.

A round runs every variant once, each in a fresh process, in a random order; whatever drifts on
a shared machine (other jobs, clocks, caches) then lands on every variant alike within a round,
so a ratio is formed inside each round, from processes close in time, and only then summarised
across rounds (Abedi & Brecht, ICPE 2017). The interval is the percentile bootstrap of the
median: resample the rounds with replacement, take each resample's median, and report the
2.5th and 97.5th percentiles. Seeded, so the same rounds give the same interval.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

RESAMPLES = 10_000
LEVEL = 0.95


def bootstrap_median(
    values: list[float], *, seed: int = 0, resamples: int = RESAMPLES, level: float = LEVEL
) -> dict[str, Any]:
    """The median of `values` and its percentile-bootstrap interval.

    Non-finite values are left out (a failed round is not a fast one). One value has no
    interval: its bounds are NaN.

    Returns:
        {"median", "ci95": [low, high], "n"}.
    """
    finite = np.asarray([v for v in values if math.isfinite(v)], dtype=np.float64)
    if finite.size == 0:
        return {"median": math.nan, "ci95": [math.nan, math.nan], "n": 0}
    median = float(np.median(finite))
    if finite.size == 1:
        return {"median": median, "ci95": [math.nan, math.nan], "n": 1}
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, finite.size, size=(resamples, finite.size))  # (resamples, n)
    medians = np.median(finite[picks], axis=1)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(medians, [tail, 100 - tail])
    return {"median": median, "ci95": [float(low), float(high)], "n": int(finite.size)}


def per_round(
    rows: list[dict[str, Any]], variant: str, reference: str, how: str = "ratio"
) -> list[float]:
    """variant / reference (or variant - reference) of the per-step time, round by round.

    Args:
        rows: one per process: {"round", "variant", "step_time_median_s", ...}.
        how: "ratio" or "difference".

    Returns:
        One value per round in which both ran with a finite per-step time, in round order.
    """
    by_round: dict[int, dict[str, float]] = {}
    for row in rows:
        step = row.get("step_time_median_s")
        if isinstance(step, int | float) and math.isfinite(step):
            by_round.setdefault(int(row["round"]), {})[row["variant"]] = float(step)
    values = []
    for number in sorted(by_round):
        steps = by_round[number]
        if variant in steps and reference in steps and steps[reference] > 0:
            a, b = steps[variant], steps[reference]
            values.append(a / b if how == "ratio" else a - b)
    return values


def beyond_noise(ci95: list[float], null: float) -> bool | None:
    """Whether the interval excludes `null` (1 for a ratio, 0 for a difference); None if unknown."""
    low, high = ci95
    if not (math.isfinite(low) and math.isfinite(high)):
        return None
    return not low <= null <= high


def summarise_rounds(
    rows: list[dict[str, Any]],
    ratios: tuple[tuple[str, str], ...],
    differences: tuple[tuple[str, str], ...],
    seed: int = 0,
) -> dict[str, Any]:
    """Per variant the median per-step time over rounds; every ratio and difference per round.

    Returns:
        {"variants": {name: {"median", "ci95", "n"}},
         "ratios": [{"variant", "reference", "ratio", "ci95", "rounds", "per_round",
                     "beyond_noise"}],
         "differences": [{"variant", "reference", "difference_s", "ci95", "rounds",
                          "per_round", "beyond_noise"}]}; pairs with no common round are left out.
    """
    names = list(dict.fromkeys(row["variant"] for row in rows))
    variants = {
        name: bootstrap_median(
            [r.get("step_time_median_s", math.nan) for r in rows if r["variant"] == name],
            seed=seed,
        )
        for name in names
    }
    found: dict[str, list[dict[str, Any]]] = {"ratios": [], "differences": []}
    for key, pairs, how, null in (
        ("ratios", ratios, "ratio", 1.0),
        ("differences", differences, "difference", 0.0),
    ):
        for variant, reference in pairs:
            values = per_round(rows, variant, reference, how)
            if not values:
                continue
            summary = bootstrap_median(values, seed=seed)
            found[key].append(
                {
                    "variant": variant,
                    "reference": reference,
                    how if how == "ratio" else "difference_s": summary["median"],
                    "ci95": summary["ci95"],
                    "rounds": summary["n"],
                    "per_round": values,
                    "beyond_noise": beyond_noise(summary["ci95"], null),
                }
            )
    return {"variants": variants, **found}
