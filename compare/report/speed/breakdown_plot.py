"""The breakdown chart: per framework, each profiled variant's per-step time stacked by part.

One panel per framework (Keras, PyTorch), one horizontal bar per variant, one segment per part
in the same colour in every panel; a black tick marks the per-step time the timing rounds
measured for the variant (no profiler), so a reader sees where the parts' sum falls from it.
From the rounds record's "breakdown" alone.
"""

from __future__ import annotations

from typing import Any

from compare.report.speed.breakdown import part_title
from compare.report.speed.records import number, round_step

PART_COLOURS = {
    "loop": "tab:blue",
    "callbacks": "tab:orange",
    "optimizer": "tab:green",
    "data": "tab:purple",
    "compiled": "tab:red",
    "logging": "tab:brown",
    "compute": "tab:gray",
    "other": "tab:olive",
}


def breakdown_figure(rounds: dict[str, Any] | None) -> Any:
    """The chart as a matplotlib figure (the caller saves it), or None without a breakdown."""
    found = rounds.get("breakdown") if isinstance(rounds, dict) else None
    if not isinstance(found, dict) or not found.get("variants"):
        return None
    import matplotlib.pyplot as plt

    variants = found["variants"]
    groups = [(title, names) for title, names in (found.get("groups") or {}).items() if names]
    parts = list(found.get("parts") or [])
    heights = [len(names) for _, names in groups]
    figure, axes = plt.subplots(
        len(groups),
        1,
        figsize=(9, 1.0 * sum(heights) + 1.2 * len(groups) + 0.8),
        gridspec_kw={"height_ratios": heights},
        squeeze=False,
    )
    widest = max(
        max(number(v, "sum_s") or 0.0, number(round_step(rounds, n), "median") or 0.0)
        for n, v in variants.items()
    )
    for axis, (title, names) in zip(axes[:, 0], groups, strict=True):
        for row, name in enumerate(names):
            left = 0.0
            for part in parts:
                value = (number(variants[name], "parts_s", part) or 0.0) * 1e6  # µs
                if value > 0:
                    axis.barh(row, value, left=left, color=PART_COLOURS.get(part, "tab:cyan"))
                    left += value
            timed = number(round_step(rounds, name), "median")
            if timed is not None:
                axis.plot([timed * 1e6] * 2, [row - 0.45, row + 0.45], color="black", lw=2)
        axis.set_yticks(range(len(names)), names)
        axis.invert_yaxis()
        axis.set_xlim(0, widest * 1e6 * 1.05)
        axis.set_title(title, loc="left", fontsize=10)
    axes[-1, 0].set_xlabel(
        "per-step time, µs (bars: the profiled parts, mean over rounds; black tick: the "
        "timing rounds' median, no profiler)"
    )
    handles = [
        plt.Rectangle((0, 0), 1, 1, color=PART_COLOURS.get(part, "tab:cyan")) for part in parts
    ]
    figure.legend(
        handles,
        [part_title(found, part) for part in parts],
        loc="lower center",
        ncol=2,
        fontsize=8,
        bbox_to_anchor=(0.5, -0.07),
    )
    figure.suptitle("Where each framework's per-step time goes (tutorial config, batch 1)")
    return figure
