"""The experiment's page: experiment.json in, experiment.md, its plots and a report section out.

Reads the experiment's records only (never a framework, never another room), so the page can
be re-rendered and tested on fixture records. Per cell: each framework's test RMSE in sunspot
numbers over seeds (mean ± sd), the difference Keras minus torch with Welch's t-test, and
whether each framework beats the best baseline for that time-steps value. Failed and diverged
runs are counted and named, and kept out of every mean.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from compare.records import as_float
from compare.report.experiment.differ import CORRECTION, add_holm, cells_that_differ, why_section
from compare.report.summary import mean_sd

FRAMEWORKS = ("keras", "torch")


def welch_p(a: list[float], b: list[float]) -> float:
    """Two-sided Welch's t-test p-value (NaN with fewer than 2 values a side or no spread)."""
    from scipy import stats

    if len(a) < 2 or len(b) < 2 or (np.std(a) == 0 and np.std(b) == 0):
        return math.nan
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def summarise_experiment(data: dict[str, Any]) -> dict[str, Any]:
    """Per time-steps value: the best baseline and one row per (kind, layers, units) cell."""
    cells: dict[tuple, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for run in data["runs"]:
        key = (run["time_steps"], run["kind"], run["layers"], run["units"])
        cells[key][run["framework"]].append(run)
    tables: dict[int, dict[str, Any]] = {}
    for base in data["baselines"]:
        table = tables.setdefault(base["time_steps"], {"baselines": {}, "rows": []})
        table["baselines"][base["name"]] = as_float(base["test_rmse_units"])
    for (steps, kind, layers, units), by_framework in sorted(cells.items()):
        table = tables.setdefault(steps, {"baselines": {}, "rows": []})
        row: dict[str, Any] = {"kind": kind, "layers": layers, "units": units, "failed": []}
        scores = {}
        for framework in FRAMEWORKS:
            runs = by_framework.get(framework, [])
            scores[framework] = [
                as_float(r["test_rmse_units"]) for r in runs if r.get("error") is None
            ]
            row["failed"] += [
                f"{framework} seed {r['seed']}: {r['error']}" for r in runs if r.get("error")
            ]
            row[framework] = mean_sd(scores[framework])
        row["difference"] = row["keras"]["mean"] - row["torch"]["mean"]
        row["p_value"] = welch_p(scores["keras"], scores["torch"])
        table["rows"].append(row)
    for table in tables.values():
        finite = {n: v for n, v in table["baselines"].items() if math.isfinite(v)}
        best = min(finite, key=finite.get) if finite else None
        table["best_baseline"] = {"name": best, "test_rmse_units": finite.get(best, math.nan)}
        for row in table["rows"]:
            row["beats_best_baseline"] = [
                f for f in FRAMEWORKS if row[f]["mean"] < table["best_baseline"]["test_rmse_units"]
            ]
    summary = {"preset": data.get("preset", "?"), "tables": dict(sorted(tables.items()))}
    add_holm(summary)
    return summary


def _fmt(stat: dict[str, float]) -> str:
    if stat["n"] == 0:
        return "n/a"
    sd = "" if math.isnan(stat["sd"]) else f" ± {stat['sd']:.2f}"
    return f"{stat['mean']:.2f}{sd}"


def _cell(steps: int, row: dict[str, Any]) -> str:
    return f"{row['layers']} x {row['kind']}({row['units']}), {steps} steps"


def _findings(summary: dict[str, Any]) -> list[str]:
    """What the grid shows, in two sentences: beats a baseline anywhere? disagree anywhere?"""
    rows = [(s, r) for s, t in summary["tables"].items() for r in t["rows"]]
    beating = [
        f"{_cell(s, r)}: {' and '.join(r['beats_best_baseline'])}"
        for s, r in rows
        if r["beats_best_baseline"]
    ]
    tested = [(s, r) for s, r in rows if math.isfinite(r["p_value"])]
    differ = [f"{_cell(s, r)} (p = {r['p_value']:.3f})" for s, r in tested if r["p_value"] < 0.05]
    lines = [
        "- Cells where an RNN beats the best baseline (mean test RMSE): "
        + ("; ".join(beating) if beating else "none")
        + f" (of {len(rows)} cells).",
        f"- Cells where Keras and torch differ at the 5% level (Welch): {len(differ)} of "
        f"{len(tested)} tested"
        + (f": {'; '.join(differ)}" if differ else "")
        + f". By chance alone about {0.05 * len(tested):.1f} would.",
        f"- Cells that differ after {CORRECTION}: "
        + (
            "; ".join(
                f"{_cell(c['time_steps'], c)} (Holm p = {c['p_holm']:.3f})"
                for c in cells_that_differ(summary)
            )
            or "none"
        )
        + ".",
    ]
    return lines


def experiment_markdown(
    summary: dict[str, Any], data: dict[str, Any], why: list[str] | None = None
) -> str:
    """experiment.md: the grid, a table per time-steps value, the findings, the plots and, when
    explain records exist for its cells, `why` ("Why they differ", see differ.why_section)."""
    grid = data.get("meta", {}).get("grid", {})
    lines = [
        f"# rnn-parity experiment: preset `{summary['preset']}`, Keras vs PyTorch Lightning",
        "",
        "Every cell trained in both frameworks with the same seeds on the preset's data steps; "
        "test RMSE in sunspot numbers, mean ± sd over seeds; difference = Keras minus torch, "
        "with Welch's t-test (two-sided, unequal variances). " + (f"Grid: {grid}." if grid else ""),
        "",
        "## What the grid shows",
        "",
        *_findings(summary),
        "",
    ]
    for steps, table in summary["tables"].items():
        best = table["best_baseline"]
        lines += [
            f"## {steps} time steps",
            "",
            "Baselines: "
            + ", ".join(f"{n.replace('_', ' ')} {v:.2f}" for n, v in table["baselines"].items())
            + f"; best: {str(best['name']).replace('_', ' ')}.",
            "",
            "| layers | kind | units | Keras | torch | Keras − torch | Welch p | Holm p "
            "| beats best baseline |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for row in table["rows"]:
            p_value, p_holm = (
                "n/a" if math.isnan(row[key]) else f"{row[key]:.3f}"
                for key in ("p_value", "p_holm")
            )
            lines.append(
                f"| {row['layers']} | {row['kind']} | {row['units']} | {_fmt(row['keras'])} | "
                f"{_fmt(row['torch'])} | {row['difference']:+.2f} | {p_value} | {p_holm} | "
                f"{', '.join(row['beats_best_baseline']) or 'neither'} |"
            )
        failed = [f for row in table["rows"] for f in row["failed"]]
        if failed:
            lines += [
                "",
                "Failed or diverged runs, left out of every number: " + "; ".join(failed) + ".",
            ]
        lines.append("")
    lines += [
        "![test RMSE against units](experiment_rmse_vs_units.png)",
        "",
        "![Keras minus torch](experiment_difference.png)",
        "",
        *(why or []),
    ]
    return "\n".join(lines) + "\n"


def experiment_section(summary: dict[str, Any] | None) -> list[str]:
    """The main report's section on the experiment (empty when it has not been run)."""
    if not summary:
        return []
    return [
        "## Experiments: units, time steps and stacked layers",
        "",
        f"From `rnn-parity experiment` (preset `{summary['preset']}`); every table and plot in "
        "[experiment.md](experiment.md).",
        "",
        *_findings(summary),
        "",
        "![test RMSE against units](experiment_rmse_vs_units.png)",
        "",
    ]


def terminal_lines(data: dict[str, Any]) -> list[str]:
    """One line per time-steps value: the best cell of each framework against the baseline."""
    lines = []
    for steps, table in summarise_experiment(data)["tables"].items():
        parts = []
        for framework in FRAMEWORKS:
            rows = [r for r in table["rows"] if r[framework]["n"]]
            if rows:
                best = min(rows, key=lambda r: r[framework]["mean"])
                parts.append(
                    f"{framework} best {best[framework]['mean']:.2f} "
                    f"({best['layers']} x {best['kind']}({best['units']}))"
                )
        baseline = table["best_baseline"]
        parts.append(f"{baseline['name']} {baseline['test_rmse_units']:.2f}")
        lines.append(f"{steps:>3} steps: " + ", ".join(parts))
    return lines


def write_experiment_report(data: dict[str, Any], out: str | Path) -> dict[str, Any]:
    """Write experiment.md and its plots into `out` (each file atomically); return the summary."""
    from compare.report.experiment.plots import draw_experiment

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarise_experiment(data)
    draw_experiment(summary, out)
    partial = out / ".experiment.md.partial"
    partial.write_text(experiment_markdown(summary, data, why_section(summary, out)))
    partial.replace(out / "experiment.md")
    return summary
