"""The speed section's "Where the time goes": each gap part by part, from the rounds record.

The rounds record's "breakdown" (made by compare/bench/breakdown.py when the study profiles)
holds per profiled variant its mean time per step in each part, and per gap (Keras's `fit`
over its tuned path, Lightning over the plain loop, the plain loop over fused Adam) the
parts' differences, their sum and the gap the timing rounds measured. Here they become a
sentence per gap ("`lightning_default` adds 465 µs per step: ..."), a table per gap that
says how far the parts' sum falls from the measured gap, and the profiler's cost. Records
made without the breakdown render without this section. Records only, no framework.
"""

from __future__ import annotations

from typing import Any

from compare.report.speed.records import ci_bounds, fmt_percent, fmt_seconds, number

CHART_BREAKDOWN = "speed_breakdown.png"


def part_title(found: dict[str, Any], part: str) -> str:
    """A part's words as the record gives them (compare/bench/attribution.py), else its name."""
    return (found.get("titles") or {}).get(part, part)


def breakdown_of(speed: dict[str, Any]) -> dict[str, Any] | None:
    """The rounds record's breakdown, or None (a study run without profiling, old records)."""
    found = (speed.get("rounds") or {}).get("breakdown")
    return found if isinstance(found, dict) and found.get("variants") else None


def _us(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1e6:,.0f} µs"


def _signed_us(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1e6:+,.0f} µs"


def residual_text(gap: dict[str, Any]) -> str:
    """How far the parts' sum falls from the measured gap, and whether within the bound.

    E.g. "the parts sum to 480 µs, 3.2% above the measured 465 µs (95% CI 430 µs to 500 µs):
    within 10% (the sum lies inside the gap's 95% interval)." """
    total = number(gap, "sum_s")
    measured = number(gap, "gap", "difference_s")
    relative = number(gap, "residual_rel")
    bound = number(gap, "max_residual")
    limit = "the bound" if bound is None else f"{100 * bound:.0f}%"
    if total is None or measured is None or relative is None:
        return f"the parts sum to {_us(total)}; no measured gap to set them against."
    side = "above" if relative >= 0 else "below"
    bounds = ci_bounds(gap.get("gap"))
    interval = "" if bounds is None else f" (95% CI {_us(bounds[0])} to {_us(bounds[1])})"
    text = (
        f"the parts sum to {_us(total)}, {fmt_percent(abs(relative))} {side} the measured "
        f"{_us(measured)}{interval}"
    )
    if gap.get("within"):
        text = f"{text}: within {limit}"
    else:
        text = f"{text}: **not within {limit}**; this breakdown does not account for the gap"
    if bounds is not None:
        low, high = bounds
        where = "inside" if low <= total <= high else "outside"
        text += f" (the sum lies {where} the gap's 95% interval"
        text += "; the gap itself is within noise)" if low <= 0 <= high else ")"
    return f"{text}."


def gap_sentence(gap: dict[str, Any], titles: dict[str, Any]) -> str:
    """E.g. "`lightning_default` adds 465 µs per step to `torch_plain`'s: 200 µs in callbacks
    and hooks, 150 µs in the framework's loop, ...; the parts sum to ..."."""
    measured = number(gap, "gap", "difference_s")
    parts = {k: v for k, v in (gap.get("parts_s") or {}).items() if number({"v": v}, "v")}
    ordered = sorted(parts.items(), key=lambda kv: -abs(kv[1]))
    pieces = [f"{_signed_us(value)} in {part_title(titles, part)}" for part, value in ordered]
    verb = "adds" if (measured or 0) >= 0 else "saves"
    head = (
        f"`{gap.get('variant')}` {verb} {_us(abs(measured)) if measured is not None else 'n/a'} "
        f"per step over `{gap.get('reference')}`"
    )
    return f"{head}: {', '.join(pieces) or 'no parts'}; {residual_text(gap)}"


def _heaviest(variant: dict[str, Any] | None, part: str) -> str:
    frames = ((variant or {}).get("frames") or {}).get(part) or []
    return f"`{frames[0][0]}`" if frames else ""


def gap_table(gap: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """Markdown rows: each part for both variants, their difference, where the variant spends it."""
    name, reference = gap.get("variant"), gap.get("reference")
    variants = found.get("variants") or {}
    ours, theirs = variants.get(name) or {}, variants.get(reference) or {}
    lines = [
        f"| part | {name} | {reference} | difference | heaviest frame in {name} |",
        "|---|---|---|---|---|",
    ]
    for part in found.get("parts") or []:
        lines.append(
            f"| {part_title(found, part)} | {_us(number(ours, 'parts_s', part))} | "
            f"{_us(number(theirs, 'parts_s', part))} | "
            f"{_signed_us(number(gap, 'parts_s', part))} | {_heaviest(ours, part)} |"
        )
    lines += [
        f"| **sum of parts** | {_us(number(ours, 'sum_s'))} | {_us(number(theirs, 'sum_s'))} "
        f"| {_signed_us(number(gap, 'sum_s'))} | |",
        f"| **timed step / measured gap** | {_us(number(ours, 'timed_step_s'))} | "
        f"{_us(number(theirs, 'timed_step_s'))} | {_signed_us(number(gap, 'gap', 'difference_s'))}"
        " | |",
        f"| **parts − measured gap** | | | {_signed_us(number(gap, 'residual_s'))} "
        f"({fmt_percent(number(gap, 'residual_rel'))}) | |",
    ]
    return lines


def cost_table(variants: dict[str, Any]) -> list[str]:
    """The profiler's cost per variant: its sampled run's step time against the timed one."""
    lines = [
        "| variant | timed step | sampled step | cost | profiler's own time per step "
        "| samples | rounds |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, found in variants.items():
        lines.append(
            f"| {name} | {fmt_seconds(number(found, 'timed_step_s'))} | "
            f"{fmt_seconds(number(found, 'step_s'))} | {fmt_percent(number(found, 'cost'))} | "
            f"{fmt_seconds(number(found, 'overhead_s'))} | {found.get('samples', '?')} | "
            f"{found.get('rounds', '?')} |"
        )
    return lines


def breakdown_section(speed: dict[str, Any]) -> list[str]:
    """The "Where the time goes" subsection as Markdown lines; [] without a breakdown."""
    found = breakdown_of(speed)
    if found is None:
        return []
    variants = found["variants"]
    bound = number(found, "max_residual")
    limit = "n/a" if bound is None else f"{100 * bound:.0f}%"
    lines = [
        "### Where the time goes",
        "",
        "Each round's process of these variants, after its timing, trained once more the same "
        "way with a sampling profiler on exactly the timed epochs: a wall-clock timer "
        "interrupts the main thread about every "
        f"{_us(number(next(iter(variants.values())), 'interval_s'))} and charges the time "
        "since the last sample to the Python stack it finds, read innermost first: the first "
        "frame whose module names a part decides (time inside a TF graph or a torch kernel "
        "lands on the Python frame that called it). A part's time is its mean over the rounds; "
        "a gap's parts are the differences of those means. The timing rounds measured the gap "
        "without the profiler, so the parts' sum is checked against it, not scaled to it: it "
        f"must fall within {limit} of the measured gap. The profiler's own time is charged to "
        "no part; its cost is below.",
        "",
        f"![per-step time by part]({CHART_BREAKDOWN})",
        "",
    ]
    for gap in found.get("gaps") or []:
        lines += [f"- {gap_sentence(gap, found)}"]
    lines.append("")
    for gap in found.get("gaps") or []:
        lines += [
            f"`{gap.get('variant')}` − `{gap.get('reference')}`, per step "
            f"({gap.get('rounds', '?')} round(s)):",
            "",
            *gap_table(gap, found),
            "",
        ]
    lines += [
        "The profiler's cost: the sampled run's per-step time against the same processes' "
        "timed one (the timing never ran under the profiler).",
        "",
        *cost_table(variants),
        "",
    ]
    return lines
