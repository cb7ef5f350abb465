"""The report's speed section and charts, from `bench_run` records alone.

A speed claim is only worth its spread and its proof of equal work, so every number here is a
median printed beside its spread, every ratio is computed from the records (never typed in),
the goals are judged by code (`goal_verdicts`) that the tests check on fixture records, and the
equal-work table shows whether a faster variant still reaches its framework's default results.
Records may be partial (a variant without training, a sweep left out, a field missing): what is
missing is shown as "n/a" and left out of charts, never treated as zero.
"""

from __future__ import annotations

from compare.report.speed_records import (
    CHART_TUTORIAL,
    SWEEP_AXES,
    SWEEP_TITLES,
    bench_records,
    fmt,
    fmt_percent,
    fmt_ratio,
    fmt_seconds,
    has_sweep,
    number,
    ratio,
    step_time,
    sweep_chart_name,
    sweep_points,
    yes_no,
)

KERAS_GOAL_SPEEDUP = 4.0  # keras_tuned at least this many times faster per step than keras_fit
LIGHTNING_GOAL_RATIO = 1.2  # Lightning per-step time at most this many times torch_plain's
SPREAD_GOAL = 0.05  # (max - min) / median of each per-step median at most this
# ---------------------------------------------------------------- the goals


def _verdict(goal: str, status: str, detail: str) -> dict[str, str]:
    return {"goal": goal, "status": status, "detail": detail}


def _keras_goal(by_variant: dict[str, dict]) -> dict[str, str]:
    goal = (
        f"Keras tuned >= {KERAS_GOAL_SPEEDUP:g}x faster per step than keras_fit at batch 1 "
        "with equal RMSE"
    )
    default, tuned = by_variant.get("keras_fit"), by_variant.get("keras_tuned")
    speedup = ratio(step_time(default), step_time(tuned))
    if speedup is None:
        return _verdict(goal, "not measured", "keras_fit or keras_tuned has no per-step time")
    equal = (tuned.get("equal_work") or {}).get("within_spread")
    margin = speedup - KERAS_GOAL_SPEEDUP
    speed = f"keras_tuned is {speedup:.2f}x faster per step than keras_fit " + (
        f"(goal met by {margin:.2f}x)"
        if margin >= 0
        else f"(goal missed by {-margin:.2f}x, {-margin / KERAS_GOAL_SPEEDUP:.0%} short)"
    )
    rmse = {True: "equal RMSE: yes", False: "equal RMSE: **no**"}.get(
        equal, "equal RMSE: not judged"
    )
    if margin < 0 or equal is False:
        status = "missed"
    elif equal is None:
        status = "not judged"
    else:
        status = "met"
    return _verdict(goal, status, f"{speed}; {rmse}")


def _lightning_goals(by_variant: dict[str, dict]) -> list[dict[str, str]]:
    goal = f"Lightning per-step time <= {LIGHTNING_GOAL_RATIO:g}x torch_plain"
    verdicts = []
    for suffix in ("", "_cuda"):
        floor = step_time(by_variant.get(f"torch_plain{suffix}"))
        for name in (f"lightning_default{suffix}", f"lightning_tuned{suffix}"):
            lightning_ratio = ratio(step_time(by_variant.get(name)), floor)
            if lightning_ratio is None:
                continue
            margin = LIGHTNING_GOAL_RATIO - lightning_ratio
            detail = f"{name} takes {lightning_ratio:.2f}x torch_plain{suffix}'s per-step time " + (
                f"(goal met with {margin:.2f}x to spare)"
                if margin >= 0
                else f"(goal missed by {-margin:.2f}x)"
            )
            verdicts.append(_verdict(goal, "met" if margin >= 0 else "missed", detail))
    return verdicts or [_verdict(goal, "not measured", "no Lightning and torch_plain pair")]


def _spread_goal(by_variant: dict[str, dict]) -> dict[str, str]:
    goal = f"spread of each per-step median <= {SPREAD_GOAL:.0%} of it ((max - min) / median)"
    spreads = {
        name: number(record, "step_time_spread_rel")
        for name, record in by_variant.items()
        if number(record, "step_time_spread_rel") is not None
    }
    if not spreads:
        return _verdict(goal, "not measured", "no per-step spreads recorded")
    misses = {name: value for name, value in spreads.items() if value > SPREAD_GOAL}
    if not misses:
        worst = max(spreads, key=spreads.__getitem__)
        return _verdict(goal, "met", f"largest: {worst} {spreads[worst]:.1%}")
    listed = ", ".join(
        f"{name} {value:.1%} (over by {value - SPREAD_GOAL:.1%} points)"
        for name, value in misses.items()
    )
    return _verdict(goal, "missed", f"{len(misses)} of {len(spreads)} over: {listed}")


def goal_verdicts(records: list[dict]) -> list[dict[str, str]]:
    """The study's three goals judged from the records: [{goal, status, detail}].

    status is "met", "missed", "not measured" (numbers missing) or "not judged" (fast
    enough, but equal RMSE could not be judged: one seed, or no reference measured).
    """
    by_variant = bench_records(records)
    if not by_variant:
        return []
    return [_keras_goal(by_variant), *_lightning_goals(by_variant), _spread_goal(by_variant)]


# ---------------------------------------------------------------- Markdown


def _intro(by_variant: dict[str, dict]) -> list[str]:
    first = next(iter(by_variant.values()))
    threads = sorted({str(r.get("threads", "?")) for r in by_variant.values()})
    repeats = sorted({str(r.get("repeats", "?")) for r in by_variant.values()})
    return [
        "## Speed: each framework at its defaults and at its best",
        "",
        "Every variant ran in its own fresh process with "
        f"{' / '.join(threads)} thread(s) for every framework, on {first.get('machine', '?')}. "
        "Training time per step is an epoch's wall time divided by its steps (the tutorial: "
        f"187 windows, batch 1), median over {' / '.join(repeats)} epochs after two discarded "
        "warm-up epochs (compilation, first-epoch-end set-up); IQR and (max - min) / median "
        "show the spread. Ratios divide per-step medians: below 1 is faster than the variant "
        "named. At this model size the times are "
        "framework overhead, not arithmetic. keras_impl.fit records every step's exact loss "
        "inside the compiled step and torch_impl reads each step's loss (`loss.item()`), so "
        "both carry that small cost in every variant.",
        "",
    ]


def _variant_list(by_variant: dict[str, dict]) -> list[str]:
    lines = []
    for name, record in by_variant.items():
        description = record.get("description") or "n/a"
        lines.append(f"- `{name}` ({record.get('device', '?')}): {description}")
    return [*lines, ""]


def _training_table(by_variant: dict[str, dict]) -> list[str]:
    keras_step = step_time(by_variant.get("keras_fit"))
    plain_step = step_time(by_variant.get("torch_plain"))
    lines = [
        "### Training, tutorial config (batch 1)",
        "",
        "| variant | device | per-step median | IQR | (max-min)/median | samples/s "
        "| ÷ keras_fit | ÷ torch_plain |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, record in by_variant.items():
        step = step_time(record)
        if step is None:
            continue
        lines.append(
            f"| {name} | {record.get('device', '?')} | {fmt_seconds(step)} | "
            f"{fmt_seconds(number(record, 'step_time_iqr_s'))} | "
            f"{fmt_percent(number(record, 'step_time_spread_rel'))} | "
            f"{fmt(number(record, 'samples_per_s'), ',.0f')} | "
            f"{fmt_ratio(ratio(step, keras_step))} | {fmt_ratio(ratio(step, plain_step))} |"
        )
    return [*lines, ""]


def _startup_table(by_variant: dict[str, dict]) -> list[str]:
    lines = [
        "### Start-up, prediction and memory",
        "",
        "Import: the framework's package in a fresh process. Build: the first model (which "
        "also pays lazy set-up) and the median of three more. Prediction: each impl's public "
        "`predict`, median over repeated calls after two warm-up calls. Peak RSS: the "
        "process's maximum resident memory after the tutorial-config measurements, and at the "
        "end (after the sweep).",
        "",
        "| variant | import | build (first / warm) | predict 46 windows | predict 1 window "
        "| peak RSS | peak RSS with sweep |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, record in by_variant.items():
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


def _equal_work_table(by_variant: dict[str, dict]) -> list[str]:
    rows = {name: r["equal_work"] for name, r in by_variant.items() if r.get("equal_work")}
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


def _sweep_section(by_variant: dict[str, dict]) -> list[str]:
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


def _goals_section(records: list[dict]) -> list[str]:
    lines = ["### Goals", ""]
    for verdict in goal_verdicts(records):
        lines.append(f"- {verdict['goal']}: **{verdict['status']}**. {verdict['detail']}.")
    return [*lines, ""]


def speed_section(records: list[dict]) -> list[str]:
    """The report's speed section as Markdown lines; [] when there are no bench records."""
    by_variant = bench_records(records)
    if not by_variant:
        return []
    lines = [*_intro(by_variant), *_variant_list(by_variant), *_training_table(by_variant)]
    if any(step_time(record) is not None for record in by_variant.values()):
        lines += [f"![per-step training time, tutorial config]({CHART_TUTORIAL})", ""]
    lines += _startup_table(by_variant)
    lines += _equal_work_table(by_variant)
    lines += _goals_section(records)
    lines += _sweep_section(by_variant)
    return lines


def terminal_table(records: list[dict]) -> str:
    """A few aligned lines for the end of `rnn-parity bench`."""
    by_variant = bench_records(records)
    keras_step = step_time(by_variant.get("keras_fit"))
    plain_step = step_time(by_variant.get("torch_plain"))
    header = (
        f"{'variant':<26}{'step':>10}{'spread':>8}{'÷keras':>8}{'÷plain':>8}"
        f"{'pred 46':>10}{'import':>9}  test RMSE (equal work)"
    )
    lines = [header]
    for name, record in by_variant.items():
        step = step_time(record)
        work = record.get("equal_work") or {}
        mean = number(work, "mean")
        equal = work.get("within_spread")
        verdict = {True: "within spread", False: "OUTSIDE spread"}.get(equal, "")
        lines.append(
            f"{name:<26}{fmt_seconds(step):>10}"
            f"{fmt_percent(number(record, 'step_time_spread_rel')):>8}"
            f"{fmt_ratio(ratio(step, keras_step)):>8}{fmt_ratio(ratio(step, plain_step)):>8}"
            f"{fmt_seconds(number(record, 'predict_batch_median_s')):>10}"
            f"{fmt_seconds(number(record, 'import_s')):>9}  "
            + ("n/a" if mean is None else f"{mean:.5f} {verdict}").rstrip()
        )
    for verdict in goal_verdicts(records):
        lines.append(f"goal: {verdict['goal']}: {verdict['status']} ({verdict['detail']})")
    return "\n".join(lines)
