"""The breakdown of the rounds record: per variant its parts per step, per gap their difference.

Each round's process of a profiled variant returns the parts of one sampled run
(`compare.bench.profile`). A variant's parts are their mean over rounds (means add up, medians
would not). A gap, variant minus reference, is broken down part by part as the difference of
those means, over the rounds in which both were profiled; the parts' sum is then set against
the gap the timing rounds measured (the study's own difference: the geometric-mean ratio minus
1, times the reference's median per-step time, `compare.bench.stats`), which no profiler
touched. How far the sum falls from that gap is the breakdown's check: within MAX_RESIDUAL it
accounts for the gap. Nothing is scaled to make them meet.
"""

from __future__ import annotations

import math
from typing import Any

from compare.bench.attribution import PART_TITLES
from compare.bench.profile import BREAKDOWNS, FRAMEWORK_GROUPS
from compare.bench.stats import (
    difference_from_ratio,
    log_t_interval,
    per_round,
    variant_summary,
)

MAX_RESIDUAL = 0.10  # the parts must sum to the measured gap within 10% of it


def _profiles(rows: list[dict[str, Any]], name: str) -> dict[int, dict[str, Any]]:
    """The variant's profiles by round."""
    return {
        int(row["round"]): row["profile"]
        for row in rows
        if row["variant"] == name and isinstance(row.get("profile"), dict)
    }


def _mean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan


def variant_parts(rows: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    """One variant's parts per step, its sampled and unsampled step times, the profiler's cost.

    Returns:
        None if no round profiled it; else {"parts_s": {part: mean s per step}, "sum_s",
        "step_s" (sampled run), "overhead_s", "timed_step_s" (the same processes' timing),
        "cost" (sampled step time / timed step time - 1), "frames" (the last round's), "rounds"}.
    """
    profiles = _profiles(rows, name)
    if not profiles:
        return None
    parts = next(iter(profiles.values()))["parts"]
    timed = [
        row["step_time_median_s"]
        for row in rows
        if row["variant"] == name and int(row["round"]) in profiles
    ]
    found = {
        part: _mean([p["parts_s"].get(part, math.nan) for p in profiles.values()]) for part in parts
    }
    step = _mean([p["step_s"] for p in profiles.values()])
    timed_step = _mean(timed)
    return {
        "parts_s": found,
        "sum_s": sum(found.values()),
        "step_s": step,
        "overhead_s": _mean([p["overhead_s"] for p in profiles.values()]),
        "timed_step_s": timed_step,
        "cost": step / timed_step - 1 if timed_step > 0 else math.nan,
        "samples": sum(p.get("samples", 0) for p in profiles.values()),
        "interval_s": next(iter(profiles.values())).get("interval_s"),
        "frames": profiles[max(profiles)].get("frames", {}),
        "rounds": len(profiles),
    }


def measured_gap(rows: list[dict[str, Any]], variant: str, reference: str) -> dict[str, Any]:
    """The timing rounds' per-step difference, as the study states it, with its interval."""
    ratios = per_round(rows, variant, reference)
    steps = [r.get("step_time_median_s", math.nan) for r in rows if r["variant"] == reference]
    median = variant_summary(steps)["median"]
    if not ratios or not math.isfinite(median):
        return {"difference_s": math.nan, "ci95": [math.nan, math.nan], "rounds": 0}
    return difference_from_ratio(log_t_interval(ratios), median)


def gap_breakdown(
    rows: list[dict[str, Any]], variant: str, reference: str
) -> dict[str, Any] | None:
    """One gap part by part, over the rounds that profiled both, against the measured gap.

    Returns:
        None unless both were profiled in a common round; else {"variant", "reference",
        "parts_s": {part: variant's - reference's}, "sum_s", "gap": the measured gap (see
        `measured_gap`), "residual_s" (sum - gap), "residual_rel" (over |gap|), "within"
        (|residual_rel| <= MAX_RESIDUAL), "rounds"}.
    """
    common = sorted(set(_profiles(rows, variant)) & set(_profiles(rows, reference)))
    if not common:
        return None
    kept = [row for row in rows if int(row["round"]) in common]
    ours, theirs = variant_parts(kept, variant), variant_parts(kept, reference)
    assert ours is not None and theirs is not None  # both profiled in every kept round
    parts = {
        part: ours["parts_s"][part] - theirs["parts_s"].get(part, 0.0) for part in ours["parts_s"]
    }
    total = sum(parts.values())
    gap = measured_gap(rows, variant, reference)
    residual = total - gap["difference_s"]
    relative = residual / abs(gap["difference_s"]) if gap["difference_s"] else math.nan
    return {
        "variant": variant,
        "reference": reference,
        "parts_s": parts,
        "sum_s": total,
        "gap": gap,
        "residual_s": residual,
        "residual_rel": relative,
        "within": bool(abs(relative) <= MAX_RESIDUAL) if math.isfinite(relative) else None,
        "max_residual": MAX_RESIDUAL,
        "rounds": len(common),
    }


def breakdowns(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The rounds record's "breakdown": per profiled variant its parts, per gap its parts.

    None when no process was profiled (a study run without it).
    """
    variants = {}
    for group in FRAMEWORK_GROUPS.values():
        for name in group:
            found = variant_parts(rows, name)
            if found is not None:
                variants[name] = found
    if not variants:
        return None
    parts = next(iter(_profiles(rows, next(iter(variants))).values()))["parts"]
    gaps = [gap_breakdown(rows, variant, reference) for variant, reference in BREAKDOWNS]
    return {
        "parts": parts,
        "titles": {part: PART_TITLES.get(part, part) for part in parts},
        "groups": {
            title: [name for name in names if name in variants]
            for title, names in FRAMEWORK_GROUPS.items()
        },
        "variants": variants,
        "gaps": [gap for gap in gaps if gap is not None],
        "max_residual": MAX_RESIDUAL,
    }
