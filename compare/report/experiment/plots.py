"""The experiment's figures, drawn from its summary only (records in, PNGs out).

Test RMSE against hidden units, one panel per time-steps value, one line per framework and
depth (and kind), the baselines as horizontal lines; and a heat map of Keras minus torch per
cell, so a framework difference that grows with size or depth shows at a glance.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no screen needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from compare.report.plots import COLOURS, _save  # noqa: E402

BASELINE_STYLES = {"persistence": ":", "linear_ar": "--"}
DEPTH_STYLES = ["-", "-.", (0, (5, 1)), (0, (1, 1))]


def rmse_vs_units(summary: dict[str, Any], path: Path) -> None:
    """Mean test RMSE (sunspots) with sd bars against units; baselines as horizontal lines."""
    tables = summary["tables"]
    figure, axes = plt.subplots(
        1, len(tables), figsize=(5 * len(tables), 4), squeeze=False, sharey=True
    )
    for axis, (steps, table) in zip(axes[0], tables.items(), strict=True):
        lines = sorted({(r["kind"], r["layers"]) for r in table["rows"]})
        for framework in ("keras", "torch"):
            for kind, layers in lines:
                rows = sorted(
                    (r for r in table["rows"] if (r["kind"], r["layers"]) == (kind, layers)),
                    key=lambda r: r["units"],
                )
                axis.errorbar(
                    [r["units"] for r in rows],
                    [r[framework]["mean"] for r in rows],
                    yerr=[
                        0 if math.isnan(r[framework]["sd"]) else r[framework]["sd"] for r in rows
                    ],
                    color=COLOURS[framework],
                    linestyle=DEPTH_STYLES[(layers - 1) % len(DEPTH_STYLES)],
                    marker={"simple": "o", "lstm": "s", "gru": "^"}[kind],
                    capsize=3,
                    label=f"{framework}, {layers} x {kind}",
                )
        for name, value in table["baselines"].items():
            if math.isfinite(value):
                axis.axhline(
                    value,
                    color="grey" if name == "persistence" else "black",
                    linestyle=BASELINE_STYLES.get(name, ":"),
                    label=name.replace("_", " "),
                )
        axis.set_xscale("log", base=2)
        units = sorted({r["units"] for r in table["rows"]})
        axis.set_xticks(units, [str(u) for u in units])
        axis.set_title(f"{steps} time steps")
        axis.set_xlabel("hidden units")
    axes[0][0].set_ylabel("test RMSE (sunspot numbers)")
    axes[0][-1].legend(fontsize=7, loc="best")
    figure.suptitle(f"Test RMSE against units, preset {summary['preset']}")
    _save(figure, path)


def difference_heatmap(summary: dict[str, Any], path: Path) -> None:
    """Keras minus torch mean test RMSE per cell: rows time steps, columns units, one panel per
    (kind, layers); a star marks Welch p < 0.05."""
    tables = summary["tables"]
    panels = sorted({(r["kind"], r["layers"]) for t in tables.values() for r in t["rows"]})
    steps = list(tables)
    units = sorted({r["units"] for t in tables.values() for r in t["rows"]})
    grids = {panel: np.full((len(steps), len(units)), np.nan) for panel in panels}
    stars = {panel: np.zeros((len(steps), len(units)), bool) for panel in panels}
    for i, step in enumerate(steps):
        for row in tables[step]["rows"]:
            j, panel = units.index(row["units"]), (row["kind"], row["layers"])
            grids[panel][i, j] = row["difference"]
            stars[panel][i, j] = row["p_value"] < 0.05  # NaN compares False
    finite = np.concatenate([g[np.isfinite(g)] for g in grids.values()] or [np.zeros(0)])
    limit = float(np.abs(finite).max()) if finite.size and np.abs(finite).max() > 0 else 1.0
    figure, axes = plt.subplots(
        1,
        max(len(panels), 1),
        figsize=(4.5 * max(len(panels), 1), 3.8),
        squeeze=False,
        layout="constrained",  # the title, panels and colour bar without overlap
    )
    image = None
    for axis, panel in zip(axes[0], panels, strict=False):
        image = axis.imshow(grids[panel], cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
        axis.set_xticks(range(len(units)), [str(u) for u in units])
        axis.set_yticks(range(len(steps)), [str(s) for s in steps])
        axis.set_xlabel("hidden units")
        axis.set_ylabel("time steps")
        axis.set_title(f"{panel[1]} x {panel[0]}")
        for (i, j), value in np.ndenumerate(grids[panel]):
            if math.isfinite(value):
                text = f"{value:+.2f}" + ("*" if stars[panel][i, j] else "")
                ink = "white" if abs(value) > 0.6 * limit else "black"  # readable on dark cells
                axis.text(j, i, text, ha="center", va="center", fontsize=8, color=ink)
    if image is not None:
        figure.colorbar(image, ax=axes[0].tolist(), label="Keras − torch test RMSE (sunspots)")
    figure.suptitle("Keras minus torch, mean test RMSE (* Welch p < 0.05)")
    _save(figure, path)


def draw_experiment(summary: dict[str, Any], out: Path) -> None:
    """Both experiment figures into `out`."""
    rmse_vs_units(summary, out / "experiment_rmse_vs_units.png")
    difference_heatmap(summary, out / "experiment_difference.png")
