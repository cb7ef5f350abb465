"""What the speed study found, in words: each ratio with its interval, noise or not, and the GPU.

A reader should not have to judge a timing table: every ratio (variant ÷ its reference, per
round, geometric mean over rounds) is stated with its 95% interval (Student-t on the logs of
the per-round ratios: `compare.bench.stats`) and called a difference beyond noise only when the
interval excludes 1; per-step differences (where the time goes) likewise against 0. With too
few rounds for an interval the per-round values are shown and nothing is called beyond noise.
From the sweep: the size from which the GPU beats the CPU. No target is judged here: the study
states what it measured. Records only, no framework.
"""

from __future__ import annotations

from typing import Any

from compare.report.speed.records import (
    SWEEP_AXES,
    SWEEP_TITLES,
    ci_bounds,
    fmt_bound,
    fmt_seconds,
    number,
    sweep_points,
)

TOO_FEW = "too few rounds for an interval"


def _interval(low: float, high: float) -> str:
    return f"95% CI {fmt_bound(low)} to {fmt_bound(high)}"


def per_round_text(entry: dict[str, Any], show: Any) -> str:
    """E.g. "per round: 0.58, 0.61" from the entry's per-round values (n/a if none)."""
    values = [v for v in entry.get("per_round") or [] if isinstance(v, int | float)]
    return "per round: " + (", ".join(show(v) for v in values) or "n/a")


def ratio_finding(entry: dict[str, Any]) -> str | None:
    """E.g. "keras_tuned takes 0.25× keras_fit's per-step time (95% CI 0.24 to 0.26, 5 rounds):
    4.0× faster, beyond noise." None without a ratio."""
    value = number(entry, "ratio")
    if value is None:
        return None
    variant, reference = entry.get("variant"), entry.get("reference")
    bounds = ci_bounds(entry)
    rounds = entry.get("rounds", "?")
    text = f"`{variant}` takes {value:.2f}× `{reference}`'s per-step time"
    if bounds is None:
        return f"{text} ({per_round_text(entry, lambda v: f'{v:.2f}')}; {TOO_FEW})."
    low, high = bounds
    text += f" ({_interval(low, high)}, {rounds} rounds): "
    if low <= 1 <= high:
        return text + "no difference beyond noise (the interval includes 1)."
    speed = f"{1 / value:.2f}× faster" if value < 1 else f"{value:.2f}× slower"
    return text + f"{speed}, beyond noise."


def difference_finding(entry: dict[str, Any]) -> str | None:
    """E.g. "`lightning_default` spends 450 µs more per step than `torch_plain` (95% CI ...)"."""
    value = number(entry, "difference_s")
    if value is None:
        return None
    variant, reference = entry.get("variant"), entry.get("reference")
    more = "more" if value >= 0 else "less"
    text = f"`{variant}` spends {fmt_seconds(abs(value))} {more} per step than `{reference}`"
    bounds = ci_bounds(entry)
    if bounds is None:
        return f"{text} ({per_round_text(entry, fmt_seconds)}; {TOO_FEW})."
    low, high = bounds
    noise = "within noise" if low <= 0 <= high else "beyond noise"
    return text + f" (95% CI {fmt_seconds(low)} to {fmt_seconds(high)}): {noise}."


def gpu_wins_from(cpu: dict, gpu: dict, axis: str) -> tuple[float | None, float | None]:
    """The smallest swept value from which the GPU record trains more samples/s than the CPU
    one at that value and every larger one; and the largest value both measured.

    Returns:
        (value or None if the GPU never wins to the end of the sweep, largest common value or
        None if they share no point).
    """
    cpu_rates, gpu_rates = dict(sweep_points(cpu, axis)), dict(sweep_points(gpu, axis))
    common = sorted(set(cpu_rates) & set(gpu_rates))
    if not common:
        return None, None
    wins_from = None
    for value in reversed(common):
        if gpu_rates[value] > cpu_rates[value]:
            wins_from = value
        else:
            break
    return wins_from, common[-1]


def gpu_findings(runs: list[dict[str, Any]]) -> list[str]:
    """Per CPU/GPU twin and sweep axis: from which size on the GPU wins (computed)."""
    by_variant = {run.get("variant"): run for run in runs}
    lines = []
    for name, gpu in by_variant.items():
        if not name or not name.endswith("_cuda") or name.removesuffix("_cuda") not in by_variant:
            continue
        cpu_name = name.removesuffix("_cuda")
        for axis in SWEEP_AXES:
            wins_from, largest = gpu_wins_from(by_variant[cpu_name], gpu, axis)
            if largest is None:
                continue
            title = SWEEP_TITLES[axis]
            if wins_from is None:
                lines.append(
                    f"`{name}` does not beat `{cpu_name}` at the largest {title} swept "
                    f"({largest:g}): no GPU gain on this axis up to there."
                )
            else:
                lines.append(
                    f"`{name}` trains more samples per second than `{cpu_name}` from "
                    f"{title} {wins_from:g} on (to {largest:g}, the largest swept)."
                )
    return lines


def jax_gpu_finding(runs: list[dict[str, Any]]) -> str | None:
    """Where the study has GPU rows and Keras-on-JAX rows: why the latter have no GPU twin."""
    jax = sorted({str(run.get("jax_version")) for run in runs if run.get("jax_platform")})
    if not jax or not any(run.get("device") == "cuda" for run in runs):
        return None
    return (
        f"Keras on JAX (jax {', '.join(jax)}) has no GPU row: the study's JAX rows run on the "
        "CPU only, with the registry's CPU build of jaxlib; a CUDA jaxlib and `_cuda` twins "
        "of those rows would be needed."
    )


def findings(speed: dict[str, Any]) -> list[str]:
    """Every finding of the speed study, one sentence each, ratios first."""
    runs = speed.get("runs") or []
    lines = [ratio_finding(entry) for entry in speed.get("ratios") or []]
    lines += [difference_finding(entry) for entry in speed.get("differences") or []]
    lines += [*gpu_findings(runs), jax_gpu_finding(runs)]
    return [line for line in lines if line]


def indicative(speed: dict[str, Any]) -> str | None:
    """One line saying that a quick study's figures are indicative; None for a full study."""
    rounds = speed.get("rounds") or {}
    if not rounds.get("quick"):
        return None
    left_out = rounds.get("full_study_only") or []
    rows = f", with the rows this one leaves out ({', '.join(left_out)})" if left_out else ""
    return (
        f"the figures below come from the quick study ({rounds.get('rounds', '?')} rounds of "
        f"{rounds.get('epochs_per_round', '?')} timed epochs per process) and are indicative; "
        f"their intervals are wide at so few rounds. `rnn-parity bench` runs the full study{rows}."
    )


def headline(speed: dict[str, Any]) -> list[str]:
    """The headline's speed lines: whether they are indicative, then the tuned-over-default and
    Lightning-over-plain ratios."""
    wanted = {
        ("keras_tuned", "keras_fit"),
        ("lightning_default", "torch_plain"),
        ("lightning_tuned", "torch_plain"),
        ("torch_tuned", "torch_plain"),
    }
    picked = [indicative(speed)] + [
        ratio_finding(entry)
        for entry in speed.get("ratios") or []
        if (entry.get("variant"), entry.get("reference")) in wanted
    ]
    return [line for line in picked if line]
