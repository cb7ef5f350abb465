"""The report's speed section and charts, from `bench_rounds` and `bench_run` records alone.

A speed claim is only worth its interval and its proof of equal work. Per-step times are
medians over randomized interleaved rounds with 95% intervals (Student-t on the logs); every
ratio is formed within each round and stated with its interval (`compare.report.speed.findings`
words them: beyond noise only when the interval excludes 1); the equal-work table shows whether
a faster
variant still reaches its reference's results. Nothing is judged against a target. Records may
be partial: what is missing is shown as "n/a", never treated as zero.
"""

from __future__ import annotations

from typing import Any

from compare.report.speed.breakdown import breakdown_section
from compare.report.speed.compiled import compiled_section
from compare.report.speed.findings import TOO_FEW, findings, per_round_text
from compare.report.speed.floor import floor_section
from compare.report.speed.records import (
    CHART_TUTORIAL,
    SWEEP_AXES,
    SWEEP_TITLES,
    ci_bounds,
    fmt,
    fmt_bound,
    fmt_ratio,
    fmt_seconds,
    has_sweep,
    not_installed,
    number,
    round_step,
    sweep_chart_name,
    sweep_points,
    yes_no,
)


def _order(speed: dict[str, Any]) -> list[str]:
    """Variant names in the study's order: the rounds' order, then runs not timed in rounds."""
    rounds = speed.get("rounds") or {}
    names = list(rounds.get("variant_order") or (rounds.get("variants") or {}))
    names += [r["variant"] for r in speed.get("runs") or [] if r.get("variant") not in names]
    return names


# ---------------------------------------------------------------- Markdown


def _intro(speed: dict[str, Any]) -> list[str]:
    rounds = speed.get("rounds") or {}
    first = rounds or next(iter(speed.get("runs") or []), {})
    gpu = rounds.get("gpu") or next(
        (r.get("gpu") for r in speed.get("runs") or [] if r.get("gpu")), None
    )
    hardware = f"{first.get('cpu_model', 'CPU model unknown')} ({first.get('machine', '?')})" + (
        f", GPU {gpu}" if gpu else ", no GPU"
    )
    return [
        "## Speed: each framework at its defaults and at its best",
        "",
        f"Measured on {hardware}, {rounds.get('threads', '?')} thread(s) for every framework. "
        f"Randomized interleaved rounds: {rounds.get('rounds', '?')} rounds, each a fresh "
        "process per variant in a new random order (seed "
        f"{rounds.get('seed', '?')}), each process timing {rounds.get('epochs_per_round', '?')} "
        "epochs after two discarded warm-up epochs. Per-step time is an epoch's wall time "
        "divided by its steps (the tutorial: 187 windows, batch 1); a process's time is its "
        "median epoch, a variant's the median over rounds. Ratios are formed within each "
        "round, between processes close in time; a ratio is the geometric mean of its "
        "per-round values, below 1 is faster than the reference. Every 95% interval is a "
        "Student-t interval on the logs of the per-round values (from 2 rounds; on simulated "
        "rounds shaped like this machine's it covers the true ratio 95% to 97% of the time "
        "at 2 to 10 rounds), so with few rounds it is wide. At this model size the times are "
        "framework overhead, not arithmetic.",
        "",
    ]


def _variant_list(speed: dict[str, Any]) -> list[str]:
    runs = {r.get("variant"): r for r in speed.get("runs") or []}
    lines = []
    for name in _order(speed):
        record = runs.get(name, {})
        missing = not_installed(record)
        note = (
            f" **Not run here: {record['not_installed']} is not installed; add it with "
            f"`{missing}`.**"
            if missing
            else ""
        )
        lines.append(f"- `{name}`: {record.get('description') or 'n/a'}{note}")
    return [*lines, ""]


def _training_table(speed: dict[str, Any]) -> list[str]:
    rounds = speed.get("rounds")
    runs = {r.get("variant"): r for r in speed.get("runs") or []}
    lines = [
        "### Training, tutorial config (batch 1)",
        "",
        "| variant | per-step median | 95% CI | rounds | samples/s |",
        "|---|---|---|---|---|",
    ]
    for name in _order(speed):
        step = round_step(rounds, name)
        missing = not_installed(runs.get(name))
        if step is None and missing:
            lines.append(f"| {name} | not installed | add it with `{missing}` | - | - |")
        if step is None:
            continue
        median = number(step, "median")
        bounds = ci_bounds(step)
        interval = (
            "n/a" if bounds is None else f"{fmt_seconds(bounds[0])} to {fmt_seconds(bounds[1])}"
        )
        lines.append(
            f"| {name} | {fmt_seconds(median)} | {interval} | {step.get('n', '?')} | "
            f"{fmt(1 / median, ',.0f')} |"
        )
    return [*lines, ""]


def _ratio_table(speed: dict[str, Any]) -> list[str]:
    ratios = speed.get("ratios") or []
    if not ratios:
        return []
    lines = [
        "### Ratios, per round (variant ÷ reference, per-step time)",
        "",
        "| variant | ÷ reference | ratio | 95% CI | rounds | beyond noise |",
        "|---|---|---|---|---|---|",
    ]
    for entry in ratios:
        bounds = ci_bounds(entry)
        interval = (
            f"{TOO_FEW} ({per_round_text(entry, lambda v: f'{v:.2f}')})"
            if bounds is None
            else f"{fmt_bound(bounds[0])} to {fmt_bound(bounds[1])}"
        )
        noise = "n/a" if bounds is None else ("no" if bounds[0] <= 1 <= bounds[1] else "yes")
        lines.append(
            f"| {entry.get('variant')} | {entry.get('reference')} | "
            f"{fmt_ratio(number(entry, 'ratio'))} | {interval} | {entry.get('rounds', '?')} | "
            f"{noise} |"
        )
    return [*lines, ""]


def _findings_section(speed: dict[str, Any]) -> list[str]:
    found = findings(speed)
    if not found:
        return []
    return ["### Findings", "", *(f"- {line}" for line in found), ""]


def _startup_table(speed: dict[str, Any]) -> list[str]:
    lines = [
        "### Start-up, prediction and memory",
        "",
        "Import: the framework's package in a fresh process. Build: the first model (which "
        "also pays lazy set-up) and the median of three more. Prediction: each impl's public "
        "`predict`, median over repeated calls after two warm-up calls. Peak RSS: the "
        "process's maximum resident memory after the tutorial-config measurements. Each is "
        "the median over the rounds' processes; the last column is the equal-work and sweep "
        "process's peak.",
        "",
        "| variant | import | build (first / warm) | predict 46 windows | predict 1 window "
        "| peak RSS | peak RSS with sweep |",
        "|---|---|---|---|---|---|---|",
    ]
    runs = {r.get("variant"): r for r in speed.get("runs") or []}
    variants = (speed.get("rounds") or {}).get("variants") or {}
    for name in _order(speed):
        record = {**runs.get(name, {}), **(variants.get(name) or {})}
        if not_installed(record) and name not in variants:
            lines.append(f"| {name} | not installed |" + " - |" * 5)
            continue
        lines.append(
            f"| {name} | {fmt_seconds(number(record, 'import_s'))} | "
            f"{fmt_seconds(number(record, 'build_s'))} / "
            f"{fmt_seconds(number(record, 'build_warm_s'))} | "
            f"{fmt_seconds(number(record, 'predict_batch_median_s'))} | "
            f"{fmt_seconds(number(record, 'predict_one_median_s'))} | "
            f"{fmt(number(record, 'peak_rss_mb'), '.0f')} MB | "
            f"{fmt(number(record, 'peak_rss_mb_end'), '.0f')} MB |"
        )
    return [*lines, ""]


def _equal_work_table(speed: dict[str, Any]) -> list[str]:
    rows = {r["variant"]: r["equal_work"] for r in speed.get("runs") or [] if r.get("equal_work")}
    if not rows:
        return []
    rules = sorted({str(work.get("rule")) for work in rows.values() if work.get("rule")})
    lines = [
        "### Equal work: the tutorial trained in full, per seed",
        "",
        "Each training variant also trained the tutorial preset from its own seeded "
        "initialisation; test RMSE in scaled units (mean ± sample sd over seeds). Rule: "
        + ("; ".join(rules) if rules else "n/a")
        + ".",
        "",
        "| variant | seeds × epochs | test RMSE | reference | identical to reference "
        "| max paired diff | within spread |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, work in rows.items():
        seeds = work.get("seeds") or []
        mean, sd = number(work, "mean"), number(work, "sd")
        rmse = "n/a" if mean is None else f"{mean:.5f}" + ("" if sd is None else f" ± {sd:.5f}")
        reference = work.get("reference_variant")
        lines.append(
            f"| {name} | {len(seeds)} × {work.get('epochs', '?')} | {rmse} | "
            f"{reference or '(default)'} | "
            f"{yes_no(work.get('identical_to_reference')) if reference else '-'} | "
            f"{fmt(number(work, 'max_abs_diff_to_reference'), '.2e')} | "
            f"{yes_no(work.get('within_spread')) if reference else '-'} |"
        )
    return [*lines, ""]


def _sweep_table(by_variant: dict[str, dict], axis: str) -> list[str]:
    values = sorted(
        {value for record in by_variant.values() for value, _ in sweep_points(record, axis)}
    )
    lines = [
        f"| variant | {' | '.join(f'{value:g}' for value in values)} |",
        "|---|" + "---|" * len(values),
    ]
    for name, record in by_variant.items():
        found = dict(sweep_points(record, axis))
        if found:
            cells = [fmt(found.get(value), ",.0f") for value in values]
            lines.append(f"| {name} | {' | '.join(cells)} |")
    return lines


def _sweep_section(speed: dict[str, Any]) -> list[str]:
    by_variant = {r["variant"]: r for r in speed.get("runs") or []}
    axes = [axis for axis in SWEEP_AXES if has_sweep(by_variant, axis)]
    if not axes:
        return []
    config = next(iter(by_variant.values())).get("config") or {}
    samples, steps = config.get("sweep_min_samples", "?"), config.get("sweep_min_steps", "?")
    lines = [
        "### Scaling: training samples per second",
        "",
        "One axis varied at a time from the tutorial config (batch 1, 3 units, 12 time steps), "
        "on synthetic windows; each point is the median epoch after two discarded warm-up "
        f"epochs. An epoch holds max({samples}, {steps} × batch) windows, and samples/s "
        "includes each framework's per-epoch costs (Keras sets up a data iterator and its "
        "callbacks every epoch), so at batch 1 it can sit below the tutorial table's figure.",
        "",
    ]
    for axis in axes:
        lines += [
            f"Samples/s by {SWEEP_TITLES.get(axis, axis)}:",
            "",
            *_sweep_table(by_variant, axis),
            "",
            f"![samples per second by {SWEEP_TITLES.get(axis, axis)}]({sweep_chart_name(axis)})",
            "",
        ]
    return lines


def speed_section(speed: dict[str, Any]) -> list[str]:
    """The report's speed section as Markdown lines, from report.json's "speed" object.

    [] when there is neither a rounds record nor a bench_run record.
    """
    if not speed.get("rounds") and not speed.get("runs"):
        return []
    lines = [*_intro(speed), *_variant_list(speed), *_training_table(speed)]
    if speed.get("rounds") and any(round_step(speed["rounds"], n) for n in _order(speed)):
        lines += [f"![per-step training time, tutorial config]({CHART_TUTORIAL})", ""]
    lines += _ratio_table(speed)
    lines += _findings_section(speed)
    lines += floor_section(speed)
    lines += breakdown_section(speed)
    lines += _startup_table(speed)
    lines += compiled_section(speed)
    lines += _equal_work_table(speed)
    lines += _sweep_section(speed)
    return lines


def terminal_table(speed: dict[str, Any]) -> str:
    """A few aligned lines for the end of `rnn-parity bench`: per-step medians and ratios."""
    rounds = speed.get("rounds")
    runs = {r.get("variant"): r for r in speed.get("runs") or []}
    lines = [f"{'variant':<26}{'step':>10}{'95% CI':>24}  test RMSE (equal work)"]
    for name in _order(speed):
        step = round_step(rounds, name)
        bounds = ci_bounds(step)
        interval = "n/a" if bounds is None else f"{fmt_seconds(bounds[0])}-{fmt_seconds(bounds[1])}"
        work = (runs.get(name) or {}).get("equal_work") or {}
        mean = number(work, "mean")
        missing = not_installed(runs.get(name))
        if step is None and missing:
            lines.append(f"{name:<26}not installed; add it with: {missing}")
            continue
        verdict = {True: "within spread", False: "OUTSIDE spread"}.get(
            work.get("within_spread"), ""
        )
        lines.append(
            f"{name:<26}{fmt_seconds(number(step, 'median')):>10}{interval:>24}  "
            + ("n/a" if mean is None else f"{mean:.5f} {verdict}").rstrip()
        )
    lines += findings(speed)
    return "\n".join(lines)
