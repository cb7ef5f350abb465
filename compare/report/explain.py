"""The "Why they differ" section: each framework default's measured effect on test RMSE.

Reads an `explain` record (`rnn-parity explain`) and nothing else. Every effect is torch with
one factor switched to Keras's choice minus torch as users write it, in sunspots of test RMSE.

The statistics, and why. The effect on the mean is paired by seed: a seed fixes torch's own
draws (initial weights, sample order) in both runs, so the per-seed differences carry only what
the factor changed, and their mean gets a Student-t 95% interval (exact for normal differences,
nominal otherwise; its coverage is not measured here). The effect on the spread (the sd over
seeds with the factor minus without) gets a paired percentile bootstrap over seeds (2,000
resamples, fixed generator): nominal 95%, and percentile bootstraps cover less than nominal at
few seeds, so a spread change is called beyond noise only when its interval excludes 0. The
Keras-torch gap gets Welch's t interval (the two frameworks' seeds are not the same draws). A
factor "accounts for" effect / gap of the gap; that share is given only when the gap itself is
beyond noise, and every factor whose interval holds 0 is said to be within noise.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

LEVEL = 0.95
BOOTSTRAP_RESAMPLES = 2000
# float32 rounding over a run moves test RMSE by ~1e-4 sunspots; a gap above this is a factor
COMPLETE = 0.01
METHOD = (
    "mean: paired Student-t over seeds; spread: paired percentile bootstrap over seeds "
    f"({BOOTSTRAP_RESAMPLES} resamples); gap: Welch t; 95%, nominal coverage (not measured)"
)


def _t(df: float) -> float:
    from scipy.special import stdtrit

    return float(stdtrit(df, 0.5 + LEVEL / 2))


def _by_seed(record: dict[str, Any], variant: str) -> dict[int, float]:
    return {
        run["seed"]: float(run["test_rmse_units"])
        for run in record["runs"]
        if run["variant"] == variant and math.isfinite(float(run["test_rmse_units"]))
    }


def paired_effect(with_factor: dict[int, float], without: dict[int, float]) -> dict[str, Any]:
    """Mean and sd change over the seeds both have, with their 95% intervals."""
    seeds = sorted(set(with_factor) & set(without))
    a = np.array([with_factor[s] for s in seeds])
    b = np.array([without[s] for s in seeds])
    n = len(seeds)
    nan = float("nan")
    if n < 2:
        return {"n": n, "mean": nan, "mean_ci95": [nan, nan], "sd": nan, "sd_ci95": [nan, nan]}
    d = a - b
    half = _t(n - 1) * float(d.std(ddof=1)) / math.sqrt(n)
    sd_change = float(a.std(ddof=1) - b.std(ddof=1))
    rng = np.random.default_rng(0)
    picks = rng.integers(0, n, size=(BOOTSTRAP_RESAMPLES, n))
    boot = a[picks].std(axis=1, ddof=1) - b[picks].std(axis=1, ddof=1)
    low, high = np.quantile(boot, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return {
        "n": n,
        "mean": float(d.mean()),
        "mean_ci95": [float(d.mean()) - half, float(d.mean()) + half],
        "sd": sd_change,
        "sd_ci95": [float(low), float(high)],
    }


def welch_gap(keras: list[float], torch: list[float]) -> dict[str, Any]:
    """Keras's mean minus torch's, with Welch's t 95% interval."""
    a, b = np.asarray(keras), np.asarray(torch)
    nan = float("nan")
    if len(a) < 2 or len(b) < 2:
        return {"mean": nan, "ci95": [nan, nan]}
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    gap = float(a.mean() - b.mean())
    se = math.sqrt(va + vb)
    if se == 0:
        return {"mean": gap, "ci95": [gap, gap]}
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return {"mean": gap, "ci95": [gap - _t(df) * se, gap + _t(df) * se]}


def _excludes_zero(ci: list[float]) -> bool:
    return all(math.isfinite(x) for x in ci) and not ci[0] <= 0 <= ci[1]


def summarise_explain(record: dict[str, Any]) -> dict[str, Any]:
    """Per factor and group: effects, share of the gap and a verdict; the gap itself."""
    keras, torch = _by_seed(record, "keras"), _by_seed(record, "torch")
    gap = welch_gap(list(keras.values()), list(torch.values()))
    gap["beyond_noise"] = _excludes_zero(gap["ci95"])
    rows = []
    for variant in record["variants"]:
        if variant in ("keras", "torch"):
            continue
        effect = paired_effect(_by_seed(record, variant), torch)
        moved = _excludes_zero(effect["mean_ci95"])
        toward = moved and math.copysign(1, effect["mean"]) == math.copysign(1, gap["mean"])
        verdict = "within noise" if not moved else ("toward Keras" if toward else "away from Keras")
        if moved and not gap["beyond_noise"]:  # no gap to move toward: say only which way
            verdict = "raises RMSE" if effect["mean"] > 0 else "lowers RMSE"
        share = effect["mean"] / gap["mean"] if gap["beyond_noise"] else None
        rows.append(
            {
                "variant": variant,
                "what": record["factors"].get(variant)
                or "together: " + ", ".join(record["groups"][variant]),
                **effect,
                "spread_beyond_noise": _excludes_zero(effect["sd_ci95"]),
                "share_of_gap": share,
                "verdict": verdict,
            }
        )

    def stat(values: dict[int, float]) -> dict[str, float]:
        v = np.array(list(values.values()))
        sd = float(v.std(ddof=1)) if len(v) > 1 else float("nan")
        return {"mean": float(v.mean()) if len(v) else float("nan"), "sd": sd, "n": len(v)}

    return {
        "label": record["label"],
        "preset": record["preset"],
        "cell": record["cell"],
        "seeds": record["seeds"],
        "epochs": record["epochs"],
        "keras": stat(keras),
        "torch": stat(torch),
        "gap": gap,
        "rows": rows,
        "all_vs_keras": max(
            (
                abs(value - keras[seed])
                for seed, value in _by_seed(record, "all").items()
                if seed in keras
            ),
            default=float("nan"),
        ),
        "method": METHOD,
    }


def _num(value: float) -> str:
    """Sunspots to 2 decimals; smaller effects (the optimizer's) in 2 significant digits."""
    return f"{value:+.2f}" if abs(value) >= 0.01 or value == 0 else f"{value:+.1e}"


def _ci(ci: list[float]) -> str:
    return f"[{_num(ci[0])}, {_num(ci[1])}]"


def explain_section(summaries: list[dict[str, Any]] | None) -> list[str]:
    """Markdown lines of "Why they differ", one part per explain record; none without records."""
    if not summaries:
        return []
    lines = ["## Why they differ", ""]
    for s in summaries:
        cell = s["cell"]
        where = f"preset `{s['preset']}`" + (
            f", cell {cell['layers']} x {cell['kind']}({cell['units']}), "
            f"{cell['time_steps']} time steps"
            if cell
            else ""
        )
        k, t, gap = s["keras"], s["torch"], s["gap"]
        lines += [
            f"### {where}",
            "",
            f"Test RMSE in sunspots, {s['seeds']} seeds, {s['epochs']} epochs. Keras as users "
            f"write it: {k['mean']:.2f} ± {k['sd']:.2f}; torch as users write it: "
            f"{t['mean']:.2f} ± {t['sd']:.2f}. Keras minus torch: {gap['mean']:+.2f} "
            f"{_ci(gap['ci95'])}"
            + ("." if gap["beyond_noise"] else ": within noise (the interval holds 0)."),
            "",
            "Each row gives torch Keras's choice for one default (or a group), seed by seed; the"
            " effect is that run minus torch's own, in sunspots.",
            "",
            "| factor | what differs | effect on the mean [95%] | effect on the sd [95%] "
            "| share of the gap | verdict |",
            "|---|---|---|---|---|---|",
        ]
        for row in s["rows"]:
            share = "-" if row["share_of_gap"] is None else f"{100 * row['share_of_gap']:.0f}%"
            lines.append(
                f"| {row['variant']} | {row['what']} | {_num(row['mean'])} "
                f"{_ci(row['mean_ci95'])} | {_num(row['sd'])} {_ci(row['sd_ci95'])} | {share} "
                f"| {row['verdict']} |"
            )
        lines += ["", *[f"- {line}" for line in findings(s)], "", f"Method: {s['method']}.", ""]
    return lines


def findings(summary: dict[str, Any]) -> list[str]:
    """Plain sentences: which factors move torch beyond noise, and what is within noise."""
    rows = [r for r in summary["rows"] if r["variant"] not in ("all", "initialisers")]
    toward = [r["variant"] for r in rows if r["verdict"] == "toward Keras"]
    away = [r["variant"] for r in rows if r["verdict"] == "away from Keras"]
    quiet = [r["variant"] for r in rows if r["verdict"] == "within noise"]
    spread = [r["variant"] for r in rows if r["spread_beyond_noise"]]
    lines = []
    if not summary["gap"]["beyond_noise"]:
        lines.append("The Keras-torch gap in mean RMSE is within noise at these seeds.")
    lines.append(
        "Beyond noise toward Keras: " + (", ".join(toward) if toward else "no single factor") + "."
    )
    if away:
        lines.append("Beyond noise away from Keras: " + ", ".join(away) + ".")
    moved = [f"{r['variant']} ({r['verdict']})" for r in rows if "RMSE" in r["verdict"]]
    if moved:
        lines.append("Beyond noise, with no gap to explain: " + ", ".join(moved) + ".")
    lines.append("Within noise: " + (", ".join(quiet) if quiet else "none") + ".")
    worst = summary["all_vs_keras"]
    complete = "the factors are complete" if worst < COMPLETE else "something is left unexplained"
    lines.append(
        f"With every factor switched, torch's test RMSE is {worst:.1e} sunspots from Keras's run "
        f"from the same seed (worst seed): {complete}."
    )
    lines.append(
        "Spread changed beyond noise by: " + (", ".join(spread) if spread else "no factor") + "."
    )
    return lines
