"""Which experiment cells differ beyond noise, corrected for testing every cell; and why.

A grid of 24 cells tested at the 5% level finds about one difference by chance alone, so "the
frameworks differ in this cell" is decided on Holm's step-down correction of the cells' Welch
p-values (it keeps the chance of any false "differs" across the whole grid at 5%, assumes nothing
about how the cells' tests depend on each other, and rejects at least as much as Bonferroni).
`rnn-parity experiment --explain` runs `explain` on exactly the cells `cells_that_differ`
returns; the experiment page then gains a "Why they differ" section from the explain records
of its own cells (read from the page's folder, never recomputed).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from compare.report.explain import explain_section, summarise_explain

LEVEL = 0.05
CORRECTION = (
    "Holm's step-down correction of the cells' Welch p-values (family-wise error 5% across the "
    "grid's tested cells)"
)


def holm(p_values: list[float]) -> list[float]:
    """Holm-adjusted p-values, in the input's order; NaN (untested) stays NaN and is not counted.

    Sorted ascending, the i-th of m tested p-values is multiplied by m - i + 1 (i from 1), capped
    at 1, and made non-decreasing; a cell differs when its adjusted p is below LEVEL.
    """
    tested = sorted((p, index) for index, p in enumerate(p_values) if math.isfinite(p))
    adjusted = [math.nan] * len(p_values)
    running = 0.0
    for rank, (p, index) in enumerate(tested):
        running = max(running, min(1.0, (len(tested) - rank) * p))
        adjusted[index] = running
    return adjusted


def add_holm(summary: dict[str, Any]) -> None:
    """Give every row of the experiment summary its Holm-adjusted p ("p_holm"), across the grid."""
    rows = [row for table in summary["tables"].values() for row in table["rows"]]
    for row, adjusted in zip(rows, holm([row["p_value"] for row in rows]), strict=True):
        row["p_holm"] = adjusted


def cells_that_differ(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The cells whose Keras and torch RMSE differ after Holm's correction, as explain's cells:
    {"units", "time_steps", "layers", "kind", "p_value", "p_holm"}."""
    return [
        {
            "units": row["units"],
            "time_steps": steps,
            "layers": row["layers"],
            "kind": row["kind"],
            "p_value": row["p_value"],
            "p_holm": row["p_holm"],
        }
        for steps, table in summary["tables"].items()
        for row in table["rows"]
        if row["p_holm"] < LEVEL
    ]


def cell_explanations(summary: dict[str, Any], folder: str | Path) -> list[dict[str, Any]]:
    """Summaries of the explain records in `folder` for this grid's preset and cells."""
    cells = {
        (row["units"], steps, row["layers"], row["kind"])
        for steps, table in summary["tables"].items()
        for row in table["rows"]
    }
    found = []
    for path in sorted(Path(folder).glob(f"explain-{summary['preset']}-*.json")):
        record = json.loads(path.read_text())
        cell = record.get("cell") or {}
        key = (cell.get("units"), cell.get("time_steps"), cell.get("layers"), cell.get("kind"))
        if record.get("kind") == "explain" and key in cells:
            found.append(summarise_explain(record))
    return found


def why_section(summary: dict[str, Any], folder: str | Path) -> list[str]:
    """The experiment page's "Why they differ" lines; none without explain records."""
    explained = cell_explanations(summary, folder)
    if not explained:
        return []
    lines = explain_section(explained)
    intro = (
        f"From `rnn-parity experiment --explain` (or `rnn-parity explain --cell`): the cells "
        f"chosen by {CORRECTION}."
    )
    return [lines[0], "", intro, *lines[1:]]
