"""The speed study's statistics: per-round ratios and Student-t 95% intervals on their logs.

A round runs every variant once, each in a fresh process, in a random order; whatever drifts on
a shared machine (other jobs, clocks, caches) then lands on every variant alike within a round,
so a ratio is formed inside each round, from processes close in time, and only then summarised
across rounds (Abedi & Brecht, ICPE 2017).

Why Student-t on the logs, and not a bootstrap. A process's per-step time is its variant's
typical time times the round's drift times its own noise, and that noise is close to
log-normal, with now and then a slow process (another job took a core). In a round's ratio the
drift cancels; what is left is the ratio times the two processes' noise, so the log of a
per-round ratio is the log of the true ratio plus a symmetric error (both variants share the
machine's tail). Rounds are independent, so the mean of the logs with a Student-t interval is
exact for normal errors at any round count from 2, and conservative for symmetric heavy-tailed
ones like these (Efron, "Student's t-test under symmetry conditions", JASA 1969). The
percentile bootstrap of the median, used before, cannot be: it never reaches beyond the values
it resamples, so at 2 rounds its interval is the span of two values and covers the true ratio
about half the time (51% at 2 rounds, 74% at 3, 88% at 4 on rounds shaped like this machine's).
A hierarchical bootstrap over each process's epochs would not help either: the epochs of one
process share that process's noise, so they cannot show it. The coverage is checked, not
assumed: tests/compare/bench/test_bench_coverage.py draws 2,000 synthetic studies at 2, 3, 4, 6 and
10 rounds, and every interval printed must cover the truth in at least 90% of them.

So a ratio is the geometric mean of its per-round ratios, with the t interval of their logs,
mapped back; a per-step time's interval likewise (its median over rounds stays the table's
figure). A difference in seconds is the same ratio said in time: (ratio - 1) times the
reference's median per-step time, interval and all, so it is beyond noise exactly when its
ratio is. (A t interval on the raw per-round differences was tried and dropped: the drift
multiplies each round's difference, and its skew took coverage to 88% at 10 rounds.) Below
MIN_ROUNDS there is no interval: the report shows the per-round values and says "too few
rounds for an interval", and claims nothing beyond noise.

What no interval here covers: a change of the machine between two studies (other users' load
comes and goes within minutes); `rnn-parity bench --compare` shows such moves.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

LEVEL = 0.95
METHOD = "student-t on log per-round values"
METHOD_DIFFERENCE = "(ratio - 1) x the reference's median per-step time"
MIN_ROUNDS = 2  # the fewest rounds with a spread to estimate; coverage tested from here up


@functools.lru_cache(maxsize=64)
def t_quantile(df: int, level: float = LEVEL) -> float:
    """The two-sided Student-t critical value: P(|T_df| <= q) = level."""
    from scipy.special import stdtrit  # the t distribution's inverse; scipy.stats loads in 2 s

    return float(stdtrit(df, 0.5 + level / 2))


def log_t_bounds(values: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """The t interval of the logs' mean, mapped back, along the last axis of positive `values`.

    Args:
        values: (..., n) positive numbers, n >= MIN_ROUNDS (the coverage test passes 2,000
            studies at once).

    Returns:
        (low, high), each of shape (...).
    """
    logs = np.log(values)
    n = logs.shape[-1]
    half = t_quantile(n - 1, level) * logs.std(axis=-1, ddof=1) / math.sqrt(n)  # log scale
    mean = logs.mean(axis=-1)
    return np.exp(mean - half), np.exp(mean + half)


def log_t_interval(values: list[float], *, level: float = LEVEL) -> dict[str, Any]:
    """The geometric mean of positive `values` and the t interval of their logs, mapped back.

    Non-finite and non-positive values are left out (a failed round is not a fast one; a ratio
    or a time is positive). Below MIN_ROUNDS values there is no interval: NaN bounds.

    Returns:
        {"estimate": geometric mean, "ci95": [low, high], "n", "method"}.
    """
    kept = np.asarray([v for v in values if math.isfinite(v) and v > 0], dtype=np.float64)
    n = int(kept.size)
    estimate = math.exp(float(np.log(kept).mean())) if n else math.nan
    bounds = [math.nan, math.nan]
    if n >= MIN_ROUNDS:
        bounds = [float(bound) for bound in log_t_bounds(kept, level)]
    return {"estimate": estimate, "ci95": bounds, "n": n, "method": METHOD}


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


def variant_summary(values: list[float]) -> dict[str, Any]:
    """One variant's per-step times over rounds: the median and the log-t interval.

    Returns:
        {"median", "ci95", "n", "method"}; the median over rounds is the table's figure.
    """
    finite = [v for v in values if math.isfinite(v)]
    found = log_t_interval(finite)
    median = float(np.median(finite)) if finite else math.nan
    return {"median": median, "ci95": found["ci95"], "n": found["n"], "method": found["method"]}


def difference_from_ratio(ratio: dict[str, Any], reference_s: float) -> dict[str, Any]:
    """A ratio said in seconds: (ratio - 1) x the reference's per-step time, interval and all.

    Returns:
        {"difference_s", "ci95", "rounds", "method", "beyond_noise"} (beyond noise exactly
        when the ratio is).
    """
    low, high = ratio["ci95"]
    return {
        "difference_s": (ratio["estimate"] - 1) * reference_s,
        "ci95": [(low - 1) * reference_s, (high - 1) * reference_s],
        "rounds": ratio["n"],
        "method": METHOD_DIFFERENCE,
        "beyond_noise": beyond_noise(ratio["ci95"], 1.0),
    }


def summarise_rounds(
    rows: list[dict[str, Any]],
    ratios: tuple[tuple[str, str], ...],
    differences: tuple[tuple[str, str], ...],
) -> dict[str, Any]:
    """Per variant the per-step time over rounds; every ratio and difference per round.

    Returns:
        {"variants": {name: {"median", "ci95", "n", "method"}},
         "ratios": [{"variant", "reference", "ratio", "ci95", "rounds", "method", "per_round",
                     "beyond_noise"}],
         "differences": [{"variant", "reference", "difference_s", "ci95", "rounds", "method",
                          "per_round", "beyond_noise"}]}; pairs with no common round are left
        out. "ratio" is the geometric mean of the per-round ratios; "difference_s" is that
        ratio minus 1 times the reference's median per-step time ("per_round" holds the raw
        per-round differences).
    """
    names = list(dict.fromkeys(row["variant"] for row in rows))
    variants = {
        name: variant_summary(
            [r.get("step_time_median_s", math.nan) for r in rows if r["variant"] == name]
        )
        for name in names
    }
    found: dict[str, list[dict[str, Any]]] = {"ratios": [], "differences": []}
    for variant, reference in ratios:
        values = per_round(rows, variant, reference)
        if values:
            summary = log_t_interval(values)
            found["ratios"].append(
                {
                    "variant": variant,
                    "reference": reference,
                    "ratio": summary["estimate"],
                    "ci95": summary["ci95"],
                    "rounds": summary["n"],
                    "method": summary["method"],
                    "per_round": values,
                    "beyond_noise": beyond_noise(summary["ci95"], 1.0),
                }
            )
    for variant, reference in differences:
        values = per_round(rows, variant, reference)
        if values:
            found["differences"].append(
                {
                    "variant": variant,
                    "reference": reference,
                    **difference_from_ratio(log_t_interval(values), variants[reference]["median"]),
                    "per_round": per_round(rows, variant, reference, "difference"),
                }
            )
    return {"variants": variants, **found}
