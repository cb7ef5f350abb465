"""The "Why they differ" section: each framework default's measured effect on test RMSE.

Reads an `explain` record (`rnn-parity explain`) and nothing else. Every effect is torch with
one factor switched to Keras's choice minus torch as users write it, in sunspots of test RMSE.

The statistics, and why. The effect on the mean is paired by seed: a seed fixes torch's own
draws (initial weights, sample order) in both runs, so the per-seed differences carry only what
the factor changed, and their mean gets a Student-t 95% interval (exact for normal differences,
nominal otherwise). The effect on the spread is the sd over seeds with the factor against
without: their difference, and their ratio with a Pitman-Morgan 95% interval (paired by seed,
exact for normal values), called beyond noise when it excludes 1. The coverage of each interval
is measured by simulation (`compare.report.explain_stats`, docs/explain.md). The Keras-torch
gap gets Welch's t interval (the two frameworks' seeds are not the same draws). A factor
"accounts for" effect / gap of the gap; that share is given only when the gap itself is beyond
noise, and every factor whose interval holds 0 is said to be within noise.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from compare.report.explain_stats import paired_effect, welch_gap

# float32 rounding over a run moves test RMSE by ~1e-4 sunspots; a gap above this is a factor
COMPLETE = 0.01
# An effect smaller than that is rounding, never "beyond noise", however narrow its interval: the
# optimizer factors move each seed's RMSE by ~1e-5 almost deterministically, so the sd ratio's
# interval (paired values correlated ~1) can exclude 1 by a millionth.
NEGLIGIBLE = COMPLETE
METHOD = (
    "mean: paired Student-t over seeds; spread: Pitman-Morgan interval of the sd ratio, paired "
    "by seed; gap: Welch t; 95%, exact for normal per-seed RMSEs; coverage measured in "
    "docs/explain.md"
)
# Printed under every section: what the coverage simulation found (docs/explain.md).
CAVEAT = (
    "Skewed per-seed RMSEs (a few bad seeds) make every interval here cover less than 95%, the "
    "spread's most: a spread change near the edge of noise is a hint, not a finding."
)


def _by_seed(record: dict[str, Any], variant: str) -> dict[int, float]:
    return {
        run["seed"]: float(run["test_rmse_units"])
        for run in record["runs"]
        if run["variant"] == variant and math.isfinite(float(run["test_rmse_units"]))
    }


def _excludes_zero(ci: list[float]) -> bool:
    return all(math.isfinite(x) for x in ci) and not ci[0] <= 0 <= ci[1]


def _excludes_one(ci: list[float]) -> bool:
    return all(math.isfinite(x) for x in ci) and not ci[0] <= 1 <= ci[1]


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
        moved = _excludes_zero(effect["mean_ci95"]) and abs(effect["mean"]) >= NEGLIGIBLE
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
                "spread_beyond_noise": _excludes_one(effect["sd_ratio_ci95"])
                and abs(effect["sd"]) >= NEGLIGIBLE,
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


def add_explain_records_argument(parser: argparse.ArgumentParser) -> None:
    """`--explain-records DIR`, for the commands whose learners' pages quote `read_explained`."""
    parser.add_argument(
        "--explain-records",
        type=Path,
        default=Path("reports"),
        metavar="DIR",
        help="folder of `rnn-parity explain` records (explain-*.json) whose measured effects the "
        "closing 'Why they train differently' quotes (default reports/; none there: words only)",
    )


def read_explained(folder: str | Path) -> list[dict[str, Any]]:
    """Summaries of every explain record (explain-*.json) in `folder`; none if it is absent."""
    paths = sorted(Path(folder).glob("explain-*.json"))
    return [summarise_explain(json.loads(path.read_text())) for path in paths]


def _num(value: float) -> str:
    """Sunspots to 2 decimals; smaller effects (the optimizer's) in 2 significant digits."""
    return f"{value:+.2f}" if abs(value) >= 0.01 or value == 0 else f"{value:+.1e}"


def _ci(ci: list[float]) -> str:
    return f"[{_num(ci[0])}, {_num(ci[1])}]"


def _ratio(row: dict[str, Any]) -> str:
    low, high = row["sd_ratio_ci95"]
    if not math.isfinite(row["sd_ratio"]):
        return "n/a"
    interval = f" [{low:.2f}, {high:.2f}]" if math.isfinite(low) else ""
    return f"{row['sd_ratio']:.2f}{interval}"


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
            "| factor | what differs | effect on the mean [95%] | effect on the sd "
            "| sd with / without [95%] | share of the gap | verdict |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in s["rows"]:
            share = "-" if row["share_of_gap"] is None else f"{100 * row['share_of_gap']:.0f}%"
            lines.append(
                f"| {row['variant']} | {row['what']} | {_num(row['mean'])} "
                f"{_ci(row['mean_ci95'])} | {_num(row['sd'])} | {_ratio(row)} | {share} "
                f"| {row['verdict']} |"
            )
        lines += ["", *[f"- {line}" for line in findings(s)], ""]
        lines += [f"Method: {s['method']}. {CAVEAT}", ""]
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
