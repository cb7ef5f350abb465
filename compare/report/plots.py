"""The report's figures, drawn from measurement records only.

Actual vs predicted in the tutorial's style (a red line at the train/test boundary), per
framework, in scaled units and in sunspot numbers; training loss curves; RMSE with baselines;
parity divergence per epoch. Diverged runs are never plotted as if they were results. Each PNG is
written to a temporary name and moved into place.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no screen needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from compare.records import as_float, group_study  # noqa: E402

COLOURS = {"keras": "tab:red", "torch": "tab:blue"}


def _save(figure: plt.Figure, path: Path) -> None:
    temporary = path.with_name(f".{path.stem}.partial.png")
    figure.savefig(temporary, dpi=110, bbox_inches="tight")
    plt.close(figure)
    os.replace(temporary, path)


def _median_run(runs: list[dict]) -> dict | None:
    """The finished run with the median test RMSE (a typical run, not the best one)."""
    finished = sorted(
        (r for r in runs if not r["diverged"]), key=lambda r: as_float(r["test_rmse_scaled"])
    )
    return finished[(len(finished) - 1) // 2] if finished else None


def actual_vs_predicted(preset: str, runs: dict[str, list[dict]], out: Path, units: bool) -> None:
    """One panel per framework: actual and predicted, red line at the train/test boundary."""
    suffix = "units" if units else "scaled"
    figure, axes = plt.subplots(len(runs), 1, figsize=(11, 3.4 * len(runs)), squeeze=False)
    for axis, (framework, framework_runs) in zip(axes[:, 0], sorted(runs.items()), strict=True):
        run = _median_run(framework_runs)
        if run is None:
            axis.text(
                0.5, 0.5, f"{framework}: every run diverged", ha="center", transform=axis.transAxes
            )
            continue
        axis.plot(
            np.asarray(run[f"actual_{suffix}"], float), label="actual", color="black", linewidth=1
        )
        axis.plot(
            np.asarray(run[f"predicted_{suffix}"], float),
            label="predicted",
            color=COLOURS.get(framework),
            linewidth=1,
        )
        axis.axvline(run["n_train_windows"], color="red", label="train | test")
        axis.set_title(
            f"{preset}: {framework}, seed {run['seed']} (median test RMSE "
            f"{as_float(run['test_rmse_' + suffix]):.3g})"
        )
        axis.set_ylabel("Sunspots" + (" (monthly mean)" if units else " scaled"))
        axis.legend(loc="upper right")
    axes[-1, 0].set_xlabel("Observation number after given time steps")
    name = f"{preset}_actual_vs_predicted{'_units' if units else ''}.png"
    _save(figure, out / name)


def loss_curves(preset: str, runs: dict[str, list[dict]], out: Path) -> None:
    """Every finished run's epoch loss, one colour per framework, log scale."""
    figure, axis = plt.subplots(figsize=(8, 4.5))
    for framework, framework_runs in sorted(runs.items()):
        for index, run in enumerate(r for r in framework_runs if not r["diverged"]):
            loss = [as_float(v) for v in run["epoch_loss"]]
            axis.plot(
                range(1, len(loss) + 1),
                loss,
                color=COLOURS.get(framework),
                alpha=0.7,
                label=framework if index == 0 else None,
            )
    axis.set_yscale("log")
    axis.set_xlabel("epoch")
    axis.set_ylabel("training loss (MSE, scaled)")
    axis.set_title(f"{preset}: training loss per seed")
    axis.legend()
    _save(figure, out / f"{preset}_loss.png")


def rmse_bars(
    preset: str, runs: dict[str, list[dict]], baselines: dict[str, dict], out: Path
) -> None:
    """Test RMSE in sunspot numbers: mean and spread per framework, baselines as bars too."""
    labels, means, spreads, colours = [], [], [], []
    for framework, framework_runs in sorted(runs.items()):
        values = [as_float(r["test_rmse_units"]) for r in framework_runs if not r["diverged"]]
        if values:
            labels.append(f"RNN {framework}")
            means.append(float(np.mean(values)))
            spreads.append(float(np.std(values, ddof=1)) if len(values) > 1 else 0.0)
            colours.append(COLOURS.get(framework, "grey"))
    for name, baseline in sorted(baselines.items()):
        labels.append(name.replace("_", " "))
        means.append(as_float(baseline["test_rmse_units"]))
        spreads.append(0.0)
        colours.append("grey")
    figure, axis = plt.subplots(figsize=(7, 4.5))
    axis.bar(labels, means, yerr=spreads, color=colours, capsize=6)
    for position, mean in enumerate(means):
        axis.text(position, mean, f"{mean:.1f}", ha="center", va="bottom")
    axis.set_ylabel("test RMSE (sunspot numbers)")
    axis.set_title(f"{preset}: test RMSE (error bars: sd over seeds)")
    _save(figure, out / f"{preset}_rmse.png")


def _gap_lines(axis: plt.Axes, runs: list[dict], label: Callable[[dict], str]) -> None:
    """One line per run: its max weight gap after each epoch, on a log axis."""
    for run in runs:
        gaps = np.asarray([as_float(v) for v in run["epoch_weight_max_abs_diff"]])
        # A gap of exactly 0 cannot be drawn on a log axis: show it at the axis floor.
        gaps = np.where(gaps > 0, gaps, 1e-18)
        axis.plot(range(1, len(gaps) + 1), gaps, marker=".", label=label(run))
    axis.set_yscale("log")
    axis.set_ylim(1e-18, 1)
    axis.set_xlabel("epoch")
    axis.grid(True, which="major", alpha=0.3)
    axis.legend(fontsize=7)


def parity_divergence(records: list[dict], dtype: str, out: Path) -> None:
    """Left: SimpleRNN with every gap removed and each put back alone. Right: every kind,
    parity mode against every default kept. Max weight difference per epoch, log scale."""
    runs = [r for r in records if r["kind"] == "parity_run" and r["dtype"] == dtype]
    if not runs:
        return
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8), sharey=True)
    simple = sorted(
        (r for r in runs if r["layer_kind"] == "simple"),
        key=lambda r: (r["mode"] != "parity", r["mode"] == "users", r["mode"]),
    )
    _gap_lines(left, simple, lambda r: r["mode"].replace("gap:", "gap: "))
    left.set_title("SimpleRNN: each difference put back alone")
    left.set_ylabel("max |w_keras - w_torch|")
    kinds = sorted(
        (r for r in runs if r["mode"] in ("parity", "users")),
        key=lambda r: (r["mode"], r["layer_kind"]),
    )
    _gap_lines(right, kinds, lambda r: f"{r['layer_kind']}: {r['mode']}")
    right.set_title("Every layer kind: parity vs every default kept")
    figure.suptitle(
        f"Training parity, {dtype}: weight gap after each epoch (same start, same batches)"
    )
    _save(figure, out / f"parity_{dtype}.png")


def draw_all(records: list[dict], out: Path) -> None:
    """Every figure the records allow."""
    runs, baselines = group_study(records)
    for preset, by_framework in runs.items():
        actual_vs_predicted(preset, by_framework, out, units=False)
        actual_vs_predicted(preset, by_framework, out, units=True)
        loss_curves(preset, by_framework, out)
        rmse_bars(preset, by_framework, baselines[preset], out)
    for dtype in ("float32", "float64"):
        parity_divergence(records, dtype, out)
