"""The report's speed section and charts, from `bench_run` records alone.

A speed claim is only worth its spread and its proof of equal work, so every number here is a
median printed beside its spread, every ratio is computed from the records (never typed in),
the goals are judged by code (`goal_verdicts`) that the tests check on fixture records, and the
equal-work table shows whether a faster variant still reaches its framework's default results.
Records may be partial (a variant without training, a sweep left out, a field missing): what is
missing is shown as "n/a" and left out of charts, never treated as zero.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from compare.bench_worker import SWEEP_AXES, VARIANTS

KERAS_GOAL_SPEEDUP = 4.0  # keras_tuned at least this many times faster per step than keras_fit
LIGHTNING_GOAL_RATIO = 1.2  # Lightning per-step time at most this many times torch_plain's
SPREAD_GOAL = 0.05  # (max - min) / median of each per-step median at most this
SWEEP_TITLES = {"batch": "batch size", "units": "recurrent units", "time_steps": "time steps"}
CHART_TUTORIAL = "speed_tutorial.png"


def sweep_chart_name(axis: str) -> str:
    """The PNG file of one sweep axis: speed_sweep_batch.png, _units.png, _time_steps.png."""
    return f"speed_sweep_{axis}.png"


# ---------------------------------------------------------------- reading records


def number(record: dict | None, *keys: str) -> float | None:
    """A finite number at record[keys[0]][keys[1]]..., or None (missing, "nan", not numeric)."""
    value: Any = record
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    if isinstance(value, bool) or value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def bench_records(records: list[dict]) -> dict[str, dict]:
    """The bench_run records by variant, in the study's order (unknown variants last)."""
    found = {r["variant"]: r for r in records if r.get("kind") == "bench_run" and r.get("variant")}
    order = list(VARIANTS)

    def rank(name: str) -> tuple[int, str]:
        return (order.index(name) if name in order else len(order), name)

    return {name: found[name] for name in sorted(found, key=rank)}


def _finite_floats(values: Any) -> list[float]:
    """The finite numbers of a record's list ("nan" strings and junk left out)."""
    found = [number({"value": value}, "value") for value in values or []]
    return [value for value in found if value is not None]


def _step(record: dict | None) -> float | None:
    return number(record, "step_time_median_s")


def _ratio(value: float | None, base: float | None) -> float | None:
    return value / base if value is not None and base else None


def _sweep_points(record: dict, axis: str) -> list[tuple[float, float]]:
    """(value, samples/s) pairs of one axis, finite ones only, sorted by value."""
    points = (record.get("sweep") or {}).get(axis) or []
    pairs = [(number(p, "value"), number(p, "samples_per_s")) for p in points]
    return sorted((v, s) for v, s in pairs if v is not None and s is not None)


def _has_sweep(records: dict[str, dict], axis: str) -> bool:
    return any(_sweep_points(record, axis) for record in records.values())


# ---------------------------------------------------------------- formatting


def fmt_seconds(seconds: float | None) -> str:
    """3 significant digits in µs, ms or s; "n/a" for None."""
    if seconds is None:
        return "n/a"
    for unit, scale in (("µs", 1e-6), ("ms", 1e-3)):
        if abs(seconds) < 1000 * scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds:.3g} s"


def _fmt(value: float | None, pattern: str) -> str:
    return "n/a" if value is None else format(value, pattern)


def _fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}×"


def _fmt_percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _yes_no(value: Any) -> str:
    return {True: "yes", False: "**no**"}.get(value, "not judged")


# ---------------------------------------------------------------- the goals


def _verdict(goal: str, status: str, detail: str) -> dict[str, str]:
    return {"goal": goal, "status": status, "detail": detail}


def _keras_goal(by_variant: dict[str, dict]) -> dict[str, str]:
    goal = (
        f"Keras tuned >= {KERAS_GOAL_SPEEDUP:g}x faster per step than keras_fit at batch 1 "
        "with equal RMSE"
    )
    default, tuned = by_variant.get("keras_fit"), by_variant.get("keras_tuned")
    speedup = _ratio(_step(default), _step(tuned))
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
        floor = _step(by_variant.get(f"torch_plain{suffix}"))
        for name in (f"lightning_default{suffix}", f"lightning_tuned{suffix}"):
            ratio = _ratio(_step(by_variant.get(name)), floor)
            if ratio is None:
                continue
            margin = LIGHTNING_GOAL_RATIO - ratio
            detail = f"{name} takes {ratio:.2f}x torch_plain{suffix}'s per-step time " + (
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
        known = VARIANTS[name].description if name in VARIANTS else "n/a"
        description = record.get("description") or known
        lines.append(f"- `{name}` ({record.get('device', '?')}): {description}")
    return [*lines, ""]


def _training_table(by_variant: dict[str, dict]) -> list[str]:
    keras_step = _step(by_variant.get("keras_fit"))
    plain_step = _step(by_variant.get("torch_plain"))
    lines = [
        "### Training, tutorial config (batch 1)",
        "",
        "| variant | device | per-step median | IQR | (max-min)/median | samples/s "
        "| ÷ keras_fit | ÷ torch_plain |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, record in by_variant.items():
        step = _step(record)
        if step is None:
            continue
        lines.append(
            f"| {name} | {record.get('device', '?')} | {fmt_seconds(step)} | "
            f"{fmt_seconds(number(record, 'step_time_iqr_s'))} | "
            f"{_fmt_percent(number(record, 'step_time_spread_rel'))} | "
            f"{_fmt(number(record, 'samples_per_s'), ',.0f')} | "
            f"{_fmt_ratio(_ratio(step, keras_step))} | {_fmt_ratio(_ratio(step, plain_step))} |"
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
            f"{_fmt(number(record, 'peak_rss_mb'), '.0f')} MB | "
            f"{_fmt(number(record, 'peak_rss_mb_end'), '.0f')} MB |"
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
            f"{_yes_no(work.get('identical_to_reference')) if reference else '-'} | "
            f"{_fmt(number(work, 'max_abs_diff_to_reference'), '.2e')} | "
            f"{_yes_no(work.get('within_spread')) if reference else '-'} |"
        )
    return [*lines, ""]


def _sweep_table(by_variant: dict[str, dict], axis: str) -> list[str]:
    values = sorted(
        {value for record in by_variant.values() for value, _ in _sweep_points(record, axis)}
    )
    lines = [
        f"| variant | {' | '.join(f'{value:g}' for value in values)} |",
        "|---|" + "---|" * len(values),
    ]
    for name, record in by_variant.items():
        found = dict(_sweep_points(record, axis))
        if found:
            cells = [_fmt(found.get(value), ",.0f") for value in values]
            lines.append(f"| {name} | {' | '.join(cells)} |")
    return lines


def _sweep_section(by_variant: dict[str, dict]) -> list[str]:
    axes = [axis for axis in SWEEP_AXES if _has_sweep(by_variant, axis)]
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
    if any(_step(record) is not None for record in by_variant.values()):
        lines += [f"![per-step training time, tutorial config]({CHART_TUTORIAL})", ""]
    lines += _startup_table(by_variant)
    lines += _equal_work_table(by_variant)
    lines += _goals_section(records)
    lines += _sweep_section(by_variant)
    return lines


def terminal_table(records: list[dict]) -> str:
    """A few aligned lines for the end of `rnn-parity bench`."""
    by_variant = bench_records(records)
    keras_step = _step(by_variant.get("keras_fit"))
    plain_step = _step(by_variant.get("torch_plain"))
    header = (
        f"{'variant':<26}{'step':>10}{'spread':>8}{'÷keras':>8}{'÷plain':>8}"
        f"{'pred 46':>10}{'import':>9}  test RMSE (equal work)"
    )
    lines = [header]
    for name, record in by_variant.items():
        step = _step(record)
        work = record.get("equal_work") or {}
        mean = number(work, "mean")
        equal = work.get("within_spread")
        verdict = {True: "within spread", False: "OUTSIDE spread"}.get(equal, "")
        lines.append(
            f"{name:<26}{fmt_seconds(step):>10}"
            f"{_fmt_percent(number(record, 'step_time_spread_rel')):>8}"
            f"{_fmt_ratio(_ratio(step, keras_step)):>8}{_fmt_ratio(_ratio(step, plain_step)):>8}"
            f"{fmt_seconds(number(record, 'predict_batch_median_s')):>10}"
            f"{fmt_seconds(number(record, 'import_s')):>9}  "
            + ("n/a" if mean is None else f"{mean:.5f} {verdict}").rstrip()
        )
    for verdict in goal_verdicts(records):
        lines.append(f"goal: {verdict['goal']}: {verdict['status']} ({verdict['detail']})")
    return "\n".join(lines)


# ---------------------------------------------------------------- charts


def _colour(name: str) -> str:
    """Keras variants in warm colours, torch in cool ones, numpy grey."""
    colours = {
        "keras_fit": "tab:red",
        "keras_tuned": "tab:orange",
        "keras_torch_backend": "tab:brown",
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


def _draw_tutorial(by_variant: dict[str, dict], path: Path) -> None:
    import matplotlib.pyplot as plt

    rows = [(name, r) for name, r in by_variant.items() if _step(r) is not None]
    names = [name for name, _ in rows]
    medians = [_step(r) * 1e6 for _, r in rows]  # µs
    lows, highs = [], []
    for (_, record), median in zip(rows, medians, strict=True):
        times = [t * 1e6 for t in _finite_floats(record.get("step_times_s"))]
        lows.append(median - min(times) if times else 0.0)
        highs.append(max(times) - median if times else 0.0)
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
    axis.set_xlabel("training time per step, µs (median; whiskers: min to max epoch)")
    axis.set_title("Tutorial config: SimpleRNN(3) + Dense(1), batch 1, 187 steps per epoch")
    _save(figure, path)


def _draw_sweep(by_variant: dict[str, dict], axis_name: str, path: Path) -> None:
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    ticks: set[float] = set()
    for name, record in by_variant.items():
        points = _sweep_points(record, axis_name)
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
    if not by_variant:
        return
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if any(_step(record) is not None for record in by_variant.values()):
        _draw_tutorial(by_variant, out / CHART_TUTORIAL)
    for axis in SWEEP_AXES:
        if _has_sweep(by_variant, axis):
            _draw_sweep(by_variant, axis, out / sweep_chart_name(axis))
