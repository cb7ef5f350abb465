"""How close each framework comes to the floor: its fastest honest path over `numpy_train`.

The study's floor is `numpy_train` (hand-written BPTT and Adam in numpy, no framework). For
Keras and for torch this picks, among the framework's CPU variants with a ratio to the floor in
the rounds record, the fastest honest one: honest means it trains the same model on the same
steps and no equal-work verdict failed along its chain of references up to its framework's
default (keras_jax_scan is judged against keras_jax, keras_jax against keras_fit; a default
variant is its own reference; a verdict that could not be judged is said so). It states that
ratio with its interval against the target of 2× the floor: within 2× is "shown" only when the
whole interval lies below 2, "not reached" when the whole interval lies above it, and otherwise
neither is shown (below 2× at its estimate, the rounds were too few or too noisy to show it).
Where the estimate itself is 2× or more, it says what stands in the way as far as the records
know: the variant's heaviest parts per step when the breakdown profiled it. Any faster variant
left out as not honest is named. Records only, no framework.
"""

from __future__ import annotations

from typing import Any

from compare.report.speed.breakdown import breakdown_of, part_title
from compare.report.speed.records import ci_bounds, fmt_bound, fmt_seconds, number

FLOOR = "numpy_train"
TARGET = 2.0  # the aim: each framework's fastest honest path within 2x of the floor
FRAMEWORK_TITLES = {"keras": "Keras", "torch": "PyTorch"}


def _runs(speed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {run.get("variant"): run for run in speed.get("runs") or []}


def _own_verdict(run: dict[str, Any] | None) -> str:
    work = (run or {}).get("equal_work") or {}
    if not work:
        return "not judged"
    if not work.get("reference_variant"):
        return "default"
    verdict = work.get("within_spread")
    return "same" if verdict is True else "failed" if verdict is False else "not judged"


def honesty(runs: dict[str, dict[str, Any]], variant: str) -> tuple[str, str]:
    """The variant's equal-work standing along its chain of references up to its framework's
    default (keras_jax_scan is judged against keras_jax, which is judged against keras_fit), and
    the variant that decided it: "default", "same" (every link within its reference's spread),
    "failed" (a link outside it, or a run diverged) or "not judged" (a link without a verdict)."""
    standing, seen, name = "default", set(), variant
    while name and name not in seen:
        seen.add(name)
        found = _own_verdict(runs.get(name))
        if found == "failed":
            return "failed", name
        if found == "not judged":
            standing = "not judged"
        elif found == "same" and standing == "default":
            standing = "same"
        if found in ("default", "not judged"):
            break
        name = ((runs.get(name) or {}).get("equal_work") or {}).get("reference_variant")
    return standing, variant


def _to_floor(speed: dict[str, Any], framework: str) -> list[dict[str, Any]]:
    """The framework's CPU variants' ratio entries over the floor, fastest first."""
    runs = _runs(speed)
    entries = [
        entry
        for entry in speed.get("ratios") or []
        if entry.get("reference") == FLOOR
        and number(entry, "ratio") is not None
        and (runs.get(entry.get("variant")) or {}).get("framework") == framework
        and (runs.get(entry.get("variant")) or {}).get("device", "cpu") == "cpu"
    ]
    return sorted(entries, key=lambda entry: number(entry, "ratio"))


def verdict(entry: dict[str, Any]) -> str:
    """Within TARGET× of the floor: "shown", "not reached" or "not shown" (the interval
    straddles it, or there is no interval)."""
    bounds = ci_bounds(entry)
    if bounds is None:
        return "not shown"
    low, high = bounds
    return "shown" if high < TARGET else "not reached" if low > TARGET else "not shown"


def fastest_honest(speed: dict[str, Any], framework: str) -> dict[str, Any] | None:
    """{"entry": the ratio entry, "honesty", "verdict", "passed_over": faster variants that
    failed equal work}; None when the framework has no ratio to the floor."""
    runs = _runs(speed)
    passed_over = []
    for entry in _to_floor(speed, framework):
        found, decided_by = honesty(runs, entry.get("variant"))
        if found == "failed":
            passed_over.append({**entry, "failed": decided_by})
            continue
        return {"entry": entry, "honesty": found, "verdict": verdict(entry), "passed": passed_over}
    return None


def _in_the_way(speed: dict[str, Any], variant: str) -> str:
    """The variant's heaviest parts per step, if the breakdown profiled it."""
    found = breakdown_of(speed)
    parts = ((found or {}).get("variants") or {}).get(variant)
    if not parts:
        return "the breakdown did not profile it"
    heaviest = sorted(
        ((name, seconds) for name, seconds in (parts.get("parts_s") or {}).items() if seconds),
        key=lambda item: -item[1],
    )[:3]
    words = ", ".join(f"{fmt_seconds(s)} in {part_title(found, name)}" for name, s in heaviest)
    return f"its sampled step spends {words}"


def _sentence(speed: dict[str, Any], framework: str, found: dict[str, Any]) -> str:
    entry = found["entry"]
    variant, ratio = entry.get("variant"), number(entry, "ratio")
    bounds = ci_bounds(entry)
    interval = (
        f"95% CI {fmt_bound(bounds[0])} to {fmt_bound(bounds[1])}, {entry.get('rounds', '?')} "
        "rounds"
        if bounds
        else "too few rounds for an interval"
    )
    text = f"- **{FRAMEWORK_TITLES[framework]}**: `{variant}`, {ratio:.2f}× `{FLOOR}` ({interval})"
    below = ratio < TARGET
    if found["verdict"] == "shown":
        text += f": within {TARGET:g}× of the floor, at the interval's top too"
    elif found["verdict"] == "not reached":
        text += f": not within {TARGET:g}× (the whole interval lies above it)"
    elif below:  # the estimate is there; the rounds are too few or too noisy to show it
        text += f": below {TARGET:g}× at its estimate, but not shown (the interval reaches past it)"
    else:
        text += f": above {TARGET:g}× at its estimate (the interval reaches below it)"
    if found["honesty"] == "not judged":
        text += "; its equal work was not judged in these records"
    if not below:
        text += f"; what stands in the way: {_in_the_way(speed, variant)}"
    for faster in found["passed"]:
        failed = faster["failed"]
        whose = "its" if failed == faster.get("variant") else f"`{failed}`'s, its reference's,"
        text += (
            f"; `{faster.get('variant')}` was faster ({number(faster, 'ratio'):.2f}×) but left "
            f"out: {whose} test RMSE fell outside its own reference's spread"
        )
    return text + "."


def floor_section(speed: dict[str, Any]) -> list[str]:
    """ "How close to the floor": one line per framework, [] without ratios to the floor."""
    lines = []
    for framework in FRAMEWORK_TITLES:
        found = fastest_honest(speed, framework)
        if found is not None:
            lines.append(_sentence(speed, framework, found))
    if not lines:
        return []
    return [
        "### How close to the floor",
        "",
        f"Each framework's fastest honest path (same model, same steps, equal work not failed) "
        f"against `{FLOOR}`, the hand-written numpy trainer; the aim is {TARGET:g}× of it or "
        "less, judged on the ratio's whole interval.",
        "",
        *lines,
        "",
    ]
