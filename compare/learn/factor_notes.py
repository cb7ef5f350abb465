"""For learners: why the two programs train differently, one paragraph per framework default.

The side-by-side page and the tutorial notebooks end with this section. Each paragraph says in
plain words what the default is in each framework (the factors of `rnn-parity explain`, the same
names); where `explain` records exist, the door that renders the page reads them
(`compare.report.explain.read_explained`) and each paragraph adds the measured effect of giving
torch Keras's choice, with its interval and verdict, read from the record. No measured number is
written here: without a record the paragraph says how to measure it.
"""

from __future__ import annotations

import math
from typing import Any

# factor -> what it is, for a learner (the factors of compare.study.parity.FACTORS; a test
# checks that the names agree)
FACTOR_NOTES = {
    "init_kernel": "The input weights start differently. Keras draws them from glorot_uniform "
    "(a range set by the layer's inputs and units); torch draws every weight from "
    "U(-1/sqrt(units), +1/sqrt(units)).",
    "init_recurrent": "The recurrent weights start differently. Keras makes them an orthogonal "
    "matrix, which keeps the state's size steady over time steps; torch draws them uniformly "
    "like its other weights.",
    "init_bias": "The biases start differently: zero in Keras, uniform random in torch (both of "
    "its bias vectors).",
    "init_head": "The Dense head starts differently: Keras glorot_uniform with a zero bias; "
    "torch's nn.Linear kaiming_uniform(a=sqrt 5) with a uniform random bias.",
    "single_bias": "torch's recurrent layers have two biases per gate (bias_ih and bias_hh), and "
    "both are trained; Keras has one. The model computes the same function, but the bias gets "
    "two gradient steps per update.",
    "epsilon_value": "Adam's epsilon, the small number that keeps its step finite, is 1e-7 in "
    "Keras and 1e-8 in torch.",
    "epsilon_placement": "Keras adds epsilon to sqrt(v), torch to sqrt(v) after bias "
    "correction; no single epsilon makes the two updates equal.",
    "beta_rounding": "Keras computes with Adam's betas rounded to float32 even in float64; "
    "torch uses the Python floats it is given.",
    "shuffling": "Each framework shuffles the samples with its own generator, so the same seed "
    "gives different batches in a different order.",
}


def sunspots(value: float) -> str:
    """Signed, 2 decimals; an effect under 0.01 (the optimizer's) in 2 significant digits."""
    return f"{value:+.2f}" if abs(value) >= 0.01 or value == 0 else f"{value:+.1e}"


def _where(summary: dict[str, Any]) -> str:
    cell = summary.get("cell")
    where = f"preset `{summary['preset']}`"
    if cell:
        where += f", {cell['layers']} x {cell['kind']}({cell['units']}), {cell['time_steps']} steps"
    return f"{where} ({summary['seeds']} seeds)"


def _measured(factor: str, summary: dict[str, Any]) -> str | None:
    """One clause: the factor's effect on torch's test RMSE in this record, or None."""
    row = next((r for r in summary["rows"] if r["variant"] == factor), None)
    if row is None or not math.isfinite(row["mean"]):
        return None
    low, high = row["mean_ci95"]
    spread = " and changes its spread beyond noise" if row["spread_beyond_noise"] else ""
    return (
        f"{sunspots(row['mean'])} sunspots [{sunspots(low)}, {sunspots(high)}] on "
        f"{_where(summary)}, {row['verdict']}{spread}"
    )


def why_they_differ(explained: list[dict[str, Any]] | None) -> list[str]:
    """Markdown lines: one paragraph per factor, measured where `explained` (summaries of explain
    records, `compare.report.explain.summarise_explain`) has it."""
    explained = explained or []
    lines = [
        "## Why they train differently",
        "",
        "The two programs build the same model and still end with different forecasts, because "
        "each framework has its own defaults. `rnn-parity explain` gives torch Keras's choice "
        "for one default at a time and measures what it does to the test RMSE over seeds "
        "(effect on torch's mean RMSE in sunspots, 95% interval; see docs/explain.md).",
        "",
    ]
    for summary in explained:
        gap = summary["gap"]
        low, high = gap["ci95"]
        noise = "beyond noise" if gap["beyond_noise"] else "within noise"
        lines += [
            f"Measured on {_where(summary)}: Keras minus torch {sunspots(gap['mean'])} "
            f"sunspots [{sunspots(low)}, {sunspots(high)}], {noise}.",
            "",
        ]
    for factor, note in FACTOR_NOTES.items():
        found = [clause for s in explained if (clause := _measured(factor, s))]
        if found:
            measured = " Giving torch Keras's choice moves torch's test RMSE by " + "; ".join(found)
        else:
            measured = " Not measured yet: `rnn-parity explain` measures its effect"
        lines += [f"**{factor}.** {note}{measured}.", ""]
    return lines
