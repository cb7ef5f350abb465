"""Reading `bench_run` records for the speed section and charts: numbers, order, formats.

Records may be partial (a variant without training, a sweep left out, a field missing): every
reader here returns None (printed as "n/a") for what is missing, never zero.
"""

from __future__ import annotations

import math
from typing import Any

# The sweep axes, in the order the report shows them, and the charts' file names.
SWEEP_TITLES = {"batch": "batch size", "units": "recurrent units", "time_steps": "time steps"}
SWEEP_AXES = tuple(SWEEP_TITLES)
CHART_TUTORIAL = "speed_tutorial.png"
# What report.json's speed.ratios keeps of each ratio of the rounds record.
RATIO_FIELDS = ("variant", "reference", "ratio", "ci95", "rounds", "method", "per_round")


def sweep_chart_name(axis: str) -> str:
    """The PNG file of one sweep axis: speed_sweep_batch.png, _units.png, _time_steps.png."""
    return f"speed_sweep_{axis}.png"


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

    def rank(name: str) -> tuple[float, str]:
        # each record carries its variant's place in the study's catalogue ("rank")
        place = number(found[name], "rank")
        return (math.inf if place is None else place, name)

    return {name: found[name] for name in sorted(found, key=rank)}


def not_installed(record: dict | None) -> str | None:
    """The one command that adds a variant's missing package, when its record says it was not
    run for want of one (`"not_installed": "jax"`); else None."""
    record = record or {}
    if not record.get("not_installed"):
        return None
    return str(record.get("install_command") or f"pip install {record['not_installed']}")


def finite_floats(values: Any) -> list[float]:
    """The finite numbers of a record's list ("nan" strings and junk left out)."""
    found = [number({"value": value}, "value") for value in values or []]
    return [value for value in found if value is not None]


def step_time(record: dict | None) -> float | None:
    return number(record, "step_time_median_s")


def ratio(value: float | None, base: float | None) -> float | None:
    return value / base if value is not None and base else None


def sweep_points(record: dict, axis: str) -> list[tuple[float, float]]:
    """(value, samples/s) pairs of one axis, finite ones only, sorted by value."""
    points = (record.get("sweep") or {}).get(axis) or []
    pairs = [(number(p, "value"), number(p, "samples_per_s")) for p in points]
    return sorted((v, s) for v, s in pairs if v is not None and s is not None)


def has_sweep(records: dict[str, dict], axis: str) -> bool:
    return any(sweep_points(record, axis) for record in records.values())


def fmt_seconds(seconds: float | None) -> str:
    """3 significant digits in µs, ms or s; "n/a" for None."""
    if seconds is None:
        return "n/a"
    for unit, scale in (("µs", 1e-6), ("ms", 1e-3)):
        if abs(seconds) < 1000 * scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds:.3g} s"


def fmt(value: float | None, pattern: str) -> str:
    return "n/a" if value is None else format(value, pattern)


def fmt_bound(value: float) -> str:
    """A ratio's interval bound: 2 decimals; 2 significant digits below 0.1 (0.0031) and 3
    from 100 up (2.28e+05): a 2-round interval on a loaded machine can span both."""
    if 0.1 <= abs(value) < 100:
        return f"{value:.2f}"
    return f"{value:.2g}" if abs(value) < 0.1 else f"{value:.3g}"


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}×"


def fmt_percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def yes_no(value: Any) -> str:
    return {True: "yes", False: "**no**"}.get(value, "not judged")


def rounds_record(records: list[dict]) -> dict | None:
    """The `bench_rounds` record (the timing rounds), or None when there is none."""
    return next((r for r in records if r.get("kind") == "bench_rounds"), None)


def round_step(rounds: dict | None, name: str) -> dict[str, Any] | None:
    """One variant's per-step summary over rounds: {"median", "ci95", "n", ...}, or None."""
    summary = ((rounds or {}).get("variants") or {}).get(name)
    return summary if number(summary, "median") is not None else None


def ci_bounds(entry: dict | None) -> tuple[float, float] | None:
    """The finite (low, high) of an entry's "ci95", or None."""
    bounds = (entry or {}).get("ci95") or []
    found = [number({"v": value}, "v") for value in bounds]
    if len(found) != 2 or None in found:
        return None
    return found[0], found[1]


def speed_summary(records: list[dict]) -> dict[str, Any]:
    """What report.json's "speed" holds: the per-variant runs, ratios, differences, rounds.

    ratios: [{variant, reference, ratio, ci95: [low, high], rounds, method, per_round}] from
    the rounds record; method is None in records made before it was recorded (those intervals
    were percentile bootstraps of the median).
    """
    rounds = rounds_record(records)
    ratios = [
        {key: entry.get(key) for key in RATIO_FIELDS}
        for entry in (rounds or {}).get("ratios") or []
    ]
    return {
        "runs": list(bench_records(records).values()),
        "ratios": ratios,
        "differences": list((rounds or {}).get("differences") or []),
        "rounds": rounds,
    }
