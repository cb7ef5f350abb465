"""The report: reads measurement records only, writes report.md, report.json and PNG plots.

Nothing here trains or times anything. `summarise` turns records into numbers (means, spreads,
tests, verdicts), which go to report.json; `render_markdown` turns those numbers into prose and
tables; `compare.report.plots` draws the figures from the records. Runs that diverged (NaN or
infinite loss) are counted and named, and kept out of every mean and plot.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from compare.records import read_records, write_json
from compare.report.experiment.render import experiment_section, summarise_experiment
from compare.report.explain import explain_section, read_explained
from compare.report.speed.findings import headline as speed_headline
from compare.report.speed.render import speed_section, terminal_table
from compare.report.summary import summarise


def _fmt(stat: dict[str, float], digits: int = 4) -> str:
    if stat["n"] == 0:
        return "n/a"
    sd = "" if math.isnan(stat["sd"]) else f" ± {stat['sd']:.{digits}f}"
    return f"{stat['mean']:.{digits}f}{sd}"


def _study_section(name: str, preset: dict[str, Any]) -> list[str]:
    lines = [
        f"### Preset `{name}`",
        "",
        preset["description"],
        "",
        "| model | runs | train RMSE (scaled) | test RMSE (scaled) | train RMSE (sunspots) "
        "| test RMSE (sunspots) |",
        "|---|---|---|---|---|---|",
    ]
    for framework, numbers in preset["frameworks"].items():
        lines.append(
            f"| RNN, {framework} | {numbers['runs']} | "
            f"{_fmt(numbers['train_rmse_scaled'])} | {_fmt(numbers['test_rmse_scaled'])} "
            f"| {_fmt(numbers['train_rmse_units'], 2)} | "
            f"{_fmt(numbers['test_rmse_units'], 2)} |"
        )
    for baseline, numbers in preset["baselines"].items():
        lines.append(
            f"| baseline: {baseline.replace('_', ' ')} | - | "
            f"{numbers['train_rmse_scaled']:.4f} | {numbers['test_rmse_scaled']:.4f} | "
            f"{numbers['train_rmse_units']:.2f} | {numbers['test_rmse_units']:.2f} |"
        )
    lines.append("")
    test = preset["framework_test"]
    if math.isnan(test["p_value"]):
        lines.append(f"Do the frameworks differ? Not testable: {test.get('note', '')}.")
    else:
        lines.append(
            f"Do the frameworks' test RMSEs differ? {test['test']}: t = {test['t']:.2f}, "
            f"p = {test['p_value']:.3f} (Mann-Whitney U: p = "
            f"{test['mann_whitney_p_value']:.3f}). "
            + (
                "No evidence of a difference at the 5% level"
                if test["p_value"] >= 0.05
                else "A difference at the 5% level"
            )
            + "; with this few seeds only a large difference could show."
        )
    lines.append("")
    for framework, verdict in preset["verdicts"].items():
        for baseline, word in verdict.items():
            lines.append(
                f"- The {framework} RNN **{word}** {baseline.replace('_', ' ')} on the "
                "test set (mean test RMSE in sunspot numbers)."
            )
    if preset["diverged"]:
        lines.append(
            f"- Diverged runs (NaN or infinite loss), left out of every number and plot: "
            f"{', '.join(preset['diverged'])}."
        )
    lines += [
        "",
        f"![actual vs predicted, scaled]({name}_actual_vs_predicted.png)",
        "",
        f"![actual vs predicted, sunspot numbers]({name}_actual_vs_predicted_units.png)",
        "",
        f"![training loss]({name}_loss.png)",
        "",
        f"![RMSE]({name}_rmse.png)",
        "",
    ]
    return lines


def _parity_section(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    lines = [
        "## Training parity: same start, same batches",
        "",
        "Both frameworks start from the same weights (built in Keras, copied to torch) and "
        "train on the tutorial's 187 windows, batch 1. *parity* removes every known "
        "difference; each *gap* row puts exactly one back; *users* keeps every framework "
        "default (each framework's shuffling, torch's two biases, torch's Adam with "
        "epsilon 1e-8, betas 0.9/0.999). Weights are compared as the model uses them "
        "(b + c for one-bias layers). Layer gru is Keras's default GRU (reset_after=True, "
        "two real biases); gru-reset-before is reset_after=False, one bias per gate, so "
        "torch's recurrent-side bias is frozen at zero there as for simple and lstm.",
        "",
        "| layer | dtype | mode | epochs | max weight diff, final | max weight diff, worst "
        "epoch | epoch loss diff, final |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        mode = row["mode"]
        if mode.startswith("gap:"):
            mode = f"gap: {row['mode_description'] or mode[4:]}"
        flag = " (diverged)" if row["diverged"] else ""
        lines.append(
            f"| {row['layer_kind']} | {row['dtype']} | {mode}{flag} | {row['epochs']} | "
            f"{row['final_weight_max_abs_diff']:.2e} | "
            f"{row['worst_weight_max_abs_diff']:.2e} | "
            f"{row['final_loss_abs_diff']:.2e} |"
        )
    lines += [
        "",
        "![parity divergence, float32](parity_float32.png)",
        "",
        "![parity divergence, float64](parity_float64.png)",
        "",
    ]
    return lines


def _agreement_section(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    lines = [
        "## Do they compute the same thing? Forward passes",
        "",
        "Random, non-constant weights (every gate and bias distinct), copied into both "
        "frameworks through the canonical format. The plain stacks run on real sunspot "
        "windows; the shapes of the grammar (Embedding, Masking, head layers, per-step and "
        "last-step readouts) on random inputs, with padding at the end, in the middle and at "
        "the start of some sequences where the model masks. Max abs difference of the "
        "outputs and of every layer's output sequence at every time step.",
        "",
        "| layer | dtype | Keras vs reference | torch vs reference | Keras vs torch "
        "| hidden states, worst | tolerance | agree |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        hidden = max(
            row[f"{pair} hidden"]
            for pair in ("keras vs reference", "torch vs reference", "keras vs torch")
        )
        lines.append(
            f"| {row['layer']} | {row['dtype']} | {row['keras vs reference outputs']:.1e}"
            f" | {row['torch vs reference outputs']:.1e} | "
            f"{row['keras vs torch outputs']:.1e} | {hidden:.1e} | "
            f"{row['tolerance']:.2g} | {'yes' if row['ok'] else '**NO**'} |"
        )
    lines += [
        "",
        "Tolerances: float32 keeps about 7 significant digits and the frameworks sum in "
        "different orders, so a few ulps (~1e-7) of drift is expected and 1e-6 is allowed; "
        "float64 allows 1e-12 for the same reason at 2.2e-16 per ulp. Drift is relative, so "
        "where a quantity's values exceed 1 the bound is multiplied by their largest size.",
        "",
    ]
    return lines


def _beats_text(framework: str, verdicts: dict[str, str]) -> str:
    """E.g. "keras beats persistence, not linear ar"."""
    beats = [b.replace("_", " ") for b, word in verdicts.items() if word == "beats"]
    loses = [b.replace("_", " ") for b, word in verdicts.items() if word != "beats"]
    if not loses:
        return f"{framework} beats every baseline"
    if not beats:
        return f"{framework} beats no baseline"
    return f"{framework} beats {', '.join(beats)}, not {', '.join(loses)}"


def _headline(summary: dict[str, Any]) -> list[str]:
    """The few numbers a colleague wants first, each pointing to its section."""
    lines = ["## Headline", ""]
    agreement = summary["agreement"]
    if agreement:
        for dtype in ("float32", "float64"):
            rows = [r for r in agreement if r["dtype"] == dtype]
            if rows:
                worst = max(
                    max(v for k, v in r.items() if k.endswith(("outputs", "hidden"))) for r in rows
                )
                verdict = "agree" if all(r["ok"] for r in rows) else "DO NOT agree"
                lines.append(
                    f"- **Forward pass, {dtype}:** Keras, torch and the numpy reference "
                    f"{verdict} for every layer kind: worst difference {worst:.1e}."
                )
    for row in summary["parity"]:
        if row["mode"] == "parity" and row["layer_kind"] == "simple":
            users = next(
                (
                    r
                    for r in summary["parity"]
                    if r["mode"] == "users"
                    and r["layer_kind"] == "simple"
                    and r["dtype"] == row["dtype"]
                ),
                None,
            )
            users_text = (
                f"; with every default kept, {users['final_weight_max_abs_diff']:.1e}"
                if users
                else ""
            )
            lines.append(
                f"- **Training parity, SimpleRNN, {row['dtype']}:** from the same start "
                f"on the same batches, weights differ by "
                f"{row['final_weight_max_abs_diff']:.1e} after {row['epochs']} epochs"
                f"{users_text}."
            )
    for name, preset in summary["study"].items():
        parts = [
            f"{framework} {_fmt(numbers['test_rmse_units'], 1)}"
            for framework, numbers in preset["frameworks"].items()
        ]
        baselines = ", ".join(
            f"{b.replace('_', ' ')} {n['test_rmse_units']:.1f}"
            for b, n in preset["baselines"].items()
        )
        verdict = "; ".join(
            _beats_text(framework, words) for framework, words in preset["verdicts"].items()
        )
        p_value = preset["framework_test"]["p_value"]
        lines.append(
            f"- **Forecast, preset `{name}`:** test RMSE in sunspots {', '.join(parts)}"
            f" (p = {p_value:.2f}); baselines {baselines}: {verdict}."
        )
    for finding in speed_headline(summary["speed"]):
        lines.append(f"- **Speed:** {finding}")
    return lines + [""]


def render_markdown(summary: dict[str, Any]) -> str:
    """The whole report as Markdown, from the summary alone."""
    meta = summary["meta"]
    lines = ["# rnn-parity report: Keras vs PyTorch Lightning on monthly sunspots", ""]
    if meta:
        lines += [
            f"Generated {meta.get('created', '?')} by `{meta.get('command', '?')}` on "
            f"{meta.get('machine', '?')}. Versions: "
            + ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items())
            + ".",
            "",
        ]
    lines += _headline(summary)
    if summary.get("failed"):  # jobs that raised: named, so nothing missing goes unnoticed
        lines += ["## Jobs that failed", ""]
        lines += [f"- `{job['name']}`: {job['error']}" for job in summary["failed"]] + [""]
    lines += _agreement_section(summary["agreement"])
    if summary["study"]:
        lines += [
            "## Forecasting sunspots: RMSE over seeds, against baselines",
            "",
            "Each framework trains from its own seeded initialisation with its own "
            "shuffling and its own Adam epsilon (Keras 1e-7, torch 1e-8), as users write it. "
            "RMSE is given in scaled units and in sunspot numbers (inverse scaling); mean ± "
            "standard deviation over seeds.",
            "",
        ]
        for name, preset in summary["study"].items():
            lines += _study_section(name, preset)
    lines += _parity_section(summary["parity"])
    lines += speed_section(summary["speed"])
    lines += experiment_section(summary.get("experiment"))
    lines += explain_section(summary.get("explain"))
    return "\n".join(lines) + "\n"


def write_report(records_folder: str | Path, out: str | Path) -> dict[str, Any]:
    """Read records, write report.md, report.json and the plots into `out`.

    Every file is written to a temporary name and moved into place, so a crash leaves the
    previous report's files intact.

    Returns:
        The summary (what report.json holds).
    """
    from compare.report.plots import draw_all
    from compare.report.speed.plots import draw_speed

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    records = read_records(records_folder)
    summary = summarise(records)
    if (out / "experiment.json").is_file():  # `rnn-parity experiment` has run: its section too
        experiment = json.loads((out / "experiment.json").read_text())
        summary["experiment"] = summarise_experiment(experiment)
    explained = read_explained(out)  # `rnn-parity explain` has run
    if explained:
        summary["explain"] = explained
    draw_all(records, out)
    draw_speed(records, out)
    write_json(out / "report.json", summary)
    markdown = out / ".report.md.partial"
    markdown.write_text(render_markdown(summary))
    markdown.replace(out / "report.md")
    return summary


def terminal_summary(summary: dict[str, Any]) -> str:
    """A few lines for the end of `rnn-parity report`."""
    lines = []
    for name, preset in summary["study"].items():
        for framework, numbers in preset["frameworks"].items():
            lines.append(
                f"{name:<9} {framework:<6} test RMSE {_fmt(numbers['test_rmse_units'], 2)}"
                f" sunspots ({numbers['runs']} runs)"
            )
        for baseline, numbers in preset["baselines"].items():
            lines.append(f"{name:<9} {baseline:<12} test RMSE {numbers['test_rmse_units']:.2f}")
        p_value = preset["framework_test"]["p_value"]
        lines.append(f"{name:<9} keras vs torch: p = {p_value:.3f}")
    for row in summary["parity"]:
        if row["mode"] == "parity":
            lines.append(
                f"parity    {row['layer_kind']:<6} {row['dtype']}: max weight diff after "
                f"{row['epochs']} epochs {row['final_weight_max_abs_diff']:.2e}"
            )
    if summary["speed"]["rounds"] or summary["speed"]["runs"]:
        lines.append(terminal_table(summary["speed"]))
    return "\n".join(lines)
