"""The speed charts: per-step time of each variant and the scaling sweeps, from records alone.

Kept apart from the speed section's text so prose and tables stay short and testable. What a
record lacks is left out of a chart, never drawn as zero.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from compare.report.speed.breakdown import CHART_BREAKDOWN
from compare.report.speed.breakdown_plot import breakdown_figure
from compare.report.speed.records import (
    CHART_TUTORIAL,
    SWEEP_AXES,
    SWEEP_TITLES,
    bench_records,
    ci_bounds,
    fmt_seconds,
    has_sweep,
    round_step,
    rounds_record,
    sweep_chart_name,
    sweep_points,
)


def _colour(name: str) -> str:
    """Keras variants in warm colours, torch in cool ones, numpy grey."""
    colours = {
        "keras_fit": "tab:red",
        "keras_tuned": "tab:orange",
        "keras_torch_backend": "tab:brown",
        "keras_jax": "tab:pink",
        "keras_jax_tuned": "gold",
        "keras_jax_scan": "tab:olive",
        "lightning_default": "tab:blue",
        "lightning_tuned": "tab:cyan",
        "torch_plain": "tab:green",
        "numpy_reference": "tab:gray",
    }
    return colours.get(name.removesuffix("_cuda"), "tab:purple")


def _save(figure: Any, path: Path) -> None:
    """Write a figure atomically: a temporary name in the same folder, then os.replace."""
    import matplotlib.pyplot as plt

    temporary = path.with_name(f".{path.stem}.partial.png")
    try:
        figure.savefig(temporary, dpi=110, bbox_inches="tight")
        os.replace(temporary, path)
    finally:
        plt.close(figure)
        temporary.unlink(missing_ok=True)


def _draw_tutorial(rounds: dict, path: Path) -> None:
    import matplotlib.pyplot as plt

    order = list(rounds.get("variant_order") or rounds.get("variants") or [])
    rows = [(name, round_step(rounds, name)) for name in order if round_step(rounds, name)]
    names = [name for name, _ in rows]
    medians = [step["median"] * 1e6 for _, step in rows]  # µs
    lows, highs = [], []
    for (_, step), median in zip(rows, medians, strict=True):
        bounds = ci_bounds(step)  # whiskers: the 95% interval, where there is one
        lows.append(median - bounds[0] * 1e6 if bounds else 0.0)
        highs.append(bounds[1] * 1e6 - median if bounds else 0.0)
    figure, axis = plt.subplots(figsize=(8, 0.5 * len(rows) + 1.5))
    axis.barh(
        names,
        medians,
        xerr=[lows, highs],
        color=[_colour(n) for n in names],
        capsize=3,
    )
    axis.invert_yaxis()  # first variant on top
    if max(medians) / min(medians) > 20:
        axis.set_xscale("log")
    for index, (median, high) in enumerate(zip(medians, highs, strict=True)):
        # right of the whisker, so the label never sits on it
        axis.annotate(
            f"  {fmt_seconds(median / 1e6)}", (median + high, index), va="center", fontsize=8
        )
    axis.margins(x=0.15)  # room for the rightmost label
    axis.set_xlabel("training time per step, µs (median over rounds; whiskers: 95% CI)")
    axis.set_title("Tutorial config: SimpleRNN(3) + Dense(1), batch 1, 187 steps per epoch")
    _save(figure, path)


def _draw_sweep(by_variant: dict[str, dict], axis_name: str, path: Path) -> None:
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    ticks: set[float] = set()
    for name, record in by_variant.items():
        points = sweep_points(record, axis_name)
        if points:
            values, rates = zip(*points, strict=True)
            ticks.update(values)
            style = "--" if name.endswith("_cuda") else "-"
            axis.plot(values, rates, style, marker="o", label=name, color=_colour(name))
    axis.set_xscale("log", base=2)
    axis.set_xticks(sorted(ticks), [f"{tick:g}" for tick in sorted(ticks)])  # the swept values
    axis.xaxis.set_minor_locator(plt.NullLocator())
    axis.set_yscale("log")
    axis.set_xlabel(SWEEP_TITLES.get(axis_name, axis_name))
    axis.set_ylabel("training samples per second")
    axis.set_title(f"Samples per second by {SWEEP_TITLES.get(axis_name, axis_name)}")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8)
    _save(figure, path)


def draw_speed(records: list[dict], out: Path) -> None:
    """Draw the speed charts into `out`: speed_tutorial.png and speed_sweep_AXIS.png.

    A chart with nothing to show (no per-step times, an axis nobody swept) is not drawn, and
    `speed_section` then does not link it.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only, no screen needed
    by_variant = bench_records(records)
    if not by_variant and rounds_record(records) is None:
        return
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rounds = rounds_record(records)
    if rounds and any(round_step(rounds, name) for name in rounds.get("variants") or {}):
        _draw_tutorial(rounds, out / CHART_TUTORIAL)
    figure = breakdown_figure(rounds)  # None without a profiled study
    if figure is not None:
        _save(figure, out / CHART_BREAKDOWN)
    for axis in SWEEP_AXES:
        if has_sweep(by_variant, axis):
            _draw_sweep(by_variant, axis, out / sweep_chart_name(axis))
