"""The numbers of the report: records in, means, spreads, tests and verdicts out.

`summarise` is what report.json holds; the Markdown renderer (`compare.report.render`) only
formats it. Kept apart so the statistics can be tested on fixture records without any text.
Diverged runs (NaN or infinite loss) are counted and named, and kept out of every mean.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from compare.records import as_float, group_study
from compare.report.speed.records import speed_summary

METRICS = ("train_rmse_scaled", "test_rmse_scaled", "train_rmse_units", "test_rmse_units")


def mean_sd(values: list[float]) -> dict[str, float]:
    """Mean, sample sd (NaN below 2 values) and count: how every RMSE spread is reported."""
    array = np.asarray(values, dtype=np.float64)
    return {
        "mean": float(array.mean()) if array.size else math.nan,
        "sd": float(array.std(ddof=1)) if array.size > 1 else math.nan,
        "n": int(array.size),
    }


def _framework_test(keras: list[float], torch: list[float]) -> dict[str, Any]:
    """Welch's t-test (unequal variances) on the two frameworks' test RMSEs, with Mann-Whitney U.

    With a handful of seeds neither test has much power; the report says so beside the p-value.
    """
    from scipy import stats

    if len(keras) < 2 or len(torch) < 2:
        return {
            "test": "Welch's t-test",
            "p_value": math.nan,
            "note": "needs at least 2 finished runs per framework",
        }
    welch = stats.ttest_ind(keras, torch, equal_var=False)
    mann_whitney = stats.mannwhitneyu(keras, torch, alternative="two-sided")
    return {
        "test": "Welch's t-test (two-sided, unequal variances)",
        "t": float(welch.statistic),
        "p_value": float(welch.pvalue),
        "mann_whitney_p_value": float(mann_whitney.pvalue),
    }


def summarise_study(records: list[dict]) -> dict[str, Any]:
    """Per preset: each framework's RMSE mean and spread, baselines, the test, the verdicts."""
    runs, baselines = group_study(records)
    presets = {}
    known_order = ["tutorial", "sliding"]
    ordered = sorted(runs, key=lambda p: (known_order.index(p) if p in known_order else 99, p))
    for preset in ordered:
        by_framework = runs[preset]
        frameworks, diverged = {}, []
        for framework, framework_runs in sorted(by_framework.items()):
            finished = [r for r in framework_runs if not r["diverged"]]
            diverged += [f"{framework} seed {r['seed']}" for r in framework_runs if r["diverged"]]
            frameworks[framework] = {
                metric: mean_sd([as_float(r[metric]) for r in finished]) for metric in METRICS
            }
            frameworks[framework]["runs"] = len(framework_runs)
            frameworks[framework]["mean_seconds"] = float(
                np.mean([r["seconds"] for r in framework_runs])
            )
        test_scores = {
            f: [
                as_float(r["test_rmse_scaled"])
                for r in by_framework.get(f, [])
                if not r["diverged"]
            ]
            for f in ("keras", "torch")
        }
        preset_baselines = {
            name: {m: as_float(b[m]) for m in METRICS} for name, b in baselines[preset].items()
        }
        verdicts = {}
        for framework, numbers in frameworks.items():
            rnn = numbers["test_rmse_units"]["mean"]
            verdicts[framework] = {
                name: ("beats" if rnn < b["test_rmse_units"] else "does not beat")
                for name, b in preset_baselines.items()
            }
        presets[preset] = {
            "frameworks": frameworks,
            "baselines": preset_baselines,
            "framework_test": _framework_test(test_scores["keras"], test_scores["torch"]),
            "verdicts": verdicts,
            "diverged": diverged,
            "description": next(
                (r.get("preset_description", "") for runs in by_framework.values() for r in runs),
                "",
            ),
        }
    return presets


def summarise_parity(records: list[dict]) -> list[dict[str, Any]]:
    """One row per parity run: final and worst weight gap, final loss gap."""
    rows = []
    for record in records:
        if record["kind"] != "parity_run":
            continue
        weights = [as_float(v) for v in record["epoch_weight_max_abs_diff"]]
        losses = [as_float(v) for v in record["epoch_loss_abs_diff"]]
        rows.append(
            {
                "layer_kind": record["layer_kind"],
                "dtype": record["dtype"],
                "mode": record["mode"],
                "mode_description": record.get("mode_description", ""),
                "epochs": record["epochs"],
                "diverged": record["diverged"],
                "final_weight_max_abs_diff": weights[-1],
                "worst_weight_max_abs_diff": max(weights),
                "final_loss_abs_diff": losses[-1],
            }
        )
    order = {"parity": 0, "users": 99}
    return sorted(
        rows, key=lambda r: (r["layer_kind"], r["dtype"], order.get(r["mode"], 1), r["mode"])
    )


def summarise_agreement(records: list[dict]) -> list[dict[str, Any]]:
    """One row per agreement run: the worst output and hidden-state difference per pair."""
    rows = []
    for record in records:
        if record["kind"] != "agreement_run":
            continue
        layer = record["spec"]["layers"][0]
        label = layer["kind"]
        if layer["kind"] == "gru":
            label += f" (reset_after={layer['reset_after']})"
        label = record.get("label", label)  # a shape of the grammar names itself
        row = {
            "layer": label,
            "dtype": record["spec"]["dtype"],
            "inputs": record["inputs"],
            "ok": record["ok"],
            "tolerance": record["rows"][0]["tolerance"],
        }
        for pair in ("keras vs reference", "torch vs reference", "keras vs torch"):
            diffs = [r for r in record["rows"] if r["pair"] == pair]
            row[f"{pair} outputs"] = max(r["max_abs"] for r in diffs if r["quantity"] == "outputs")
            row[f"{pair} hidden"] = max(r["max_abs"] for r in diffs if r["quantity"] != "outputs")
        rows.append(row)
    return sorted(rows, key=lambda r: (r["dtype"], r["layer"]))


def summarise(records: list[dict]) -> dict[str, Any]:
    """Everything report.json holds."""
    meta = next((r for r in records if r["kind"] == "meta"), {})
    return {
        "meta": meta,
        "agreement": summarise_agreement(records),
        "study": summarise_study(records),
        "parity": summarise_parity(records),
        "speed": speed_summary(records),
        "failed": [
            {"name": r["name"], "error": r["error"]} for r in records if r["kind"] == "failed_job"
        ],
    }
