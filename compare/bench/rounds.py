"""Randomized interleaved rounds: every variant once per round, a fresh process each, new order.

One process per variant, run in sequence, lets any drift of a shared machine land on whichever
variant runs at that moment: the same code gave a Keras speed-up of 3.27 to 4.79 in five runs.
Here every variant runs in R rounds; each round starts a fresh worker per variant in its own
random order (seeded: the same seed gives the same orders), and each worker times K epochs
after its warm-up. Ratios are then formed within a round, between processes minutes apart at
most, and summarised over rounds with Student-t intervals on their logs (`compare.bench.stats`).
The result is one `bench_rounds` record.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from collections.abc import Callable
from typing import Any

from compare.bench.breakdown import breakdowns
from compare.bench.machine import machine_facts
from compare.bench.process import run_worker
from compare.bench.stats import summarise_rounds
from compare.bench.variants import DIFFERENCES, RATIOS, WorkerConfig

# What each round's process contributes to the record (the rest stays in the worker).
TIMING_FIELDS = (
    "step_time_median_s",
    "step_times_s",
    "step_time_spread_rel",
    "import_s",
    "build_s",
    "build_warm_s",
    "predict_batch_median_s",
    "predict_one_median_s",
    "peak_rss_mb",
    "worker_wall_s",
    "gpu",
    "profile",  # the sampled run's parts per step, where the study profiles (profile.py)
    "compile_s",
    "graphs",
    "graph_breaks",
    "unavailable",
)


def round_orders(variants: list[str], rounds: int, seed: int) -> list[list[str]]:
    """R random orders of `variants`, each holding every variant once, from one seeded generator."""
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    rng = random.Random(seed)
    return [rng.sample(variants, len(variants)) for _ in range(rounds)]


def run_rounds(
    orders: list[list[str]],
    config: WorkerConfig,
    run: Callable[[str, WorkerConfig], dict[str, Any]] = run_worker,
    progress: Callable[[str], None] | None = None,
    extras: dict[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Run each round's processes in its order; one row per process.

    Args:
        orders: from `round_orders`.
        config: the worker's sizes; its part is set to "timing" here.
        run: starts one worker (run_worker; tests pass a fake).
        progress: called with "round r/R: variant" before each process.
        extras: if given, the last round's processes go on, after their timing, to the
            equal-work runs and the sweep (part "all"), and their results land here by
            variant; this saves one process start (framework import: 3 s each) per variant.

    Returns:
        [{"round", "position", "variant", "started_s", **TIMING_FIELDS found}].
    """
    timing = dataclasses.replace(config, part="timing")
    timing_then_extras = dataclasses.replace(config, part="all")
    rows = []
    start = time.perf_counter()
    for number, order in enumerate(orders):
        last = extras is not None and number == len(orders) - 1
        for position, name in enumerate(order):
            if progress is not None:
                progress(f"round {number + 1}/{len(orders)}: {name}")
            started = time.perf_counter() - start
            raw = run(name, timing_then_extras if last else timing)
            row = {"round": number, "position": position, "variant": name, "started_s": started}
            row.update({key: raw[key] for key in TIMING_FIELDS if key in raw})
            rows.append(row)
            if last:
                extras[name] = raw  # the whole result: its bench_run record keeps it all
    return rows


def _median_of(rows: list[dict[str, Any]], name: str, key: str) -> float | None:
    values = sorted(
        r[key]
        for r in rows
        if r["variant"] == name and isinstance(r.get(key), int | float) and math.isfinite(r[key])
    )
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def rounds_record(
    variants: list[str],
    config: WorkerConfig,
    rounds: int,
    seed: int,
    run: Callable[[str, WorkerConfig], dict[str, Any]] = run_worker,
    progress: Callable[[str], None] | None = None,
    extras: dict[str, dict[str, Any]] | None = None,
    quick: bool = False,
) -> dict[str, Any]:
    """Run the rounds and summarise them: the `bench_rounds` record.

    Besides the rows and the statistics (`summarise_rounds`), it holds the median over rounds
    of every other timing (import, build, prediction, memory) per variant. `extras`: see
    `run_rounds` (the last round's processes also measure equal work and the sweep). `quick`
    is recorded, so the report can say its figures are indicative.
    """
    started = time.perf_counter()
    orders = round_orders(variants, rounds, seed)
    rows = run_rounds(orders, config, run, progress, extras)
    stats = summarise_rounds(rows, RATIOS, DIFFERENCES)
    others = ("import_s", "build_s", "build_warm_s", "predict_batch_median_s")
    others += ("predict_one_median_s", "peak_rss_mb", "compile_s", "graphs", "graph_breaks")
    for name, summary in stats["variants"].items():
        summary.update({key: _median_of(rows, name, key) for key in others})
    gpus = sorted({row["gpu"] for row in rows if row.get("gpu")})
    return {
        "kind": "bench_rounds",
        "rounds": rounds,
        "quick": quick,
        "epochs_per_round": config.repeats,
        "seed": seed,
        "threads": config.threads,
        "variant_order": list(variants),
        "orders": orders,
        "processes": rows,
        **stats,
        **machine_facts(),
        "gpu": gpus[0] if gpus else None,
        "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "wall_s": time.perf_counter() - started,  # with the last round's extras, if asked
        "last_round_extras": extras is not None,
        "breakdown": breakdowns(rows),  # None unless the processes were profiled
    }
