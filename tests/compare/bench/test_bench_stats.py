"""The speed study's statistics and rounds: t intervals on logs, random orders, per-round ratios.

No timing is asserted: the rounds run with a fake worker whose per-step times are given, so
each ratio and interval is known in advance.
"""

from __future__ import annotations

import math

import pytest

from compare.bench.rounds import round_orders, rounds_record, run_rounds
from compare.bench.stats import (
    METHOD,
    beyond_noise,
    log_t_interval,
    per_round,
    summarise_rounds,
    t_quantile,
)
from compare.bench.variants import WorkerConfig


def test_log_t_interval_by_hand():
    # logs 0 and 0.2: mean 0.1, sd 0.2 / sqrt(2), t(1 df) 12.706; half-width 12.706 * 0.1
    found = log_t_interval([1.0, math.exp(0.2)])
    assert found["estimate"] == pytest.approx(math.exp(0.1), rel=1e-12)
    low, high = found["ci95"]
    assert low == pytest.approx(math.exp(0.1 - 1.27062), rel=1e-5)
    assert high == pytest.approx(math.exp(0.1 + 1.27062), rel=1e-5)
    assert found["n"] == 2 and found["method"] == METHOD
    kept = log_t_interval([2.0, math.nan, -1.0, 0.0])  # non-finite and non-positive left out
    assert kept["n"] == 1 and kept["estimate"] == 2.0 and math.isnan(kept["ci95"][1])
    assert log_t_interval([])["n"] == 0


def test_t_quantiles_match_the_tables():
    # two-sided 95%: 12.706 (1 df), 4.303 (2), 3.182 (3), 2.571 (5), 2.262 (9); to 1e-3
    for df, table in ((1, 12.706), (2, 4.303), (3, 3.182), (5, 2.571), (9, 2.262)):
        assert t_quantile(df) == pytest.approx(table, abs=1e-3)


def test_round_orders_are_random_reproducible_and_hold_every_variant_once():
    names = [f"v{i}" for i in range(8)]
    orders = round_orders(names, 6, seed=1)
    assert orders == round_orders(names, 6, seed=1)
    assert orders != round_orders(names, 6, seed=2)
    assert all(sorted(order) == sorted(names) for order in orders)
    assert len({tuple(order) for order in orders}) > 1  # a new order each round
    with pytest.raises(ValueError, match="rounds must be >= 1"):
        round_orders(names, 0, seed=1)


def test_ratios_are_formed_within_each_round():
    # the machine drifts: round 1 is twice as slow for everything; the ratio does not move
    rows = [
        {"round": 0, "variant": "a", "step_time_median_s": 1.0},
        {"round": 0, "variant": "b", "step_time_median_s": 2.0},
        {"round": 1, "variant": "a", "step_time_median_s": 2.0},
        {"round": 1, "variant": "b", "step_time_median_s": 4.0},
        {"round": 2, "variant": "a", "step_time_median_s": 1.5},  # b missing in round 2
    ]
    assert per_round(rows, "a", "b") == [0.5, 0.5]
    assert per_round(rows, "a", "b", "difference") == [-1.0, -2.0]
    summary = summarise_rounds(rows, (("a", "b"), ("a", "z")), (("b", "a"),))
    [ratio] = summary["ratios"]  # ("a", "z") has no common round: left out
    assert ratio["ratio"] == pytest.approx(0.5) and ratio["rounds"] == 2
    assert ratio["ci95"] == pytest.approx([0.5, 0.5])  # no spread at all: a point
    assert ratio["beyond_noise"] is True and ratio["method"] == METHOD
    [difference] = summary["differences"]
    # b / a is 2 in each round; said in seconds at a's median step (1.5 s): 1.5 s more
    assert difference["difference_s"] == pytest.approx(1.5) and difference["rounds"] == 2
    assert difference["ci95"] == pytest.approx([1.5, 1.5]) and difference["beyond_noise"]
    assert difference["per_round"] == [1.0, 2.0]  # the raw per-round differences
    assert summary["variants"]["a"]["median"] == 1.5 and summary["variants"]["a"]["n"] == 3


def test_beyond_noise_needs_the_interval_to_exclude_the_null():
    assert beyond_noise([0.8, 0.9], 1.0) is True
    assert beyond_noise([0.9, 1.1], 1.0) is False
    assert beyond_noise([math.nan, math.nan], 1.0) is None


def test_rounds_run_every_variant_once_per_round_in_the_planned_order():
    calls = []
    steps = {"keras_fit": 2e-3, "keras_tuned": 5e-4, "numpy_reference": None}

    def fake(name: str, config: WorkerConfig) -> dict:
        calls.append((name, config.part, config.repeats))
        raw = {"import_s": 1.0, "worker_wall_s": 2.0}
        if steps[name] is not None:
            raw["step_time_median_s"] = steps[name] * (1 + 0.01 * len(calls))
        return raw

    config = WorkerConfig(repeats=4)
    record = rounds_record(list(steps), config, rounds=3, seed=5, run=fake)
    assert [name for name, _, _ in calls] == [n for order in record["orders"] for n in order]
    assert all(part == "timing" and repeats == 4 for _, part, repeats in calls)
    assert record["orders"] == round_orders(list(steps), 3, seed=5)
    assert record["kind"] == "bench_rounds" and record["epochs_per_round"] == 4
    assert [r["position"] for r in record["processes"]] == [0, 1, 2] * 3
    [ratio] = record["ratios"]
    assert (ratio["variant"], ratio["reference"], ratio["rounds"]) == (
        "keras_tuned",
        "keras_fit",
        3,
    )
    assert 0.24 < ratio["ratio"] < 0.26
    assert record["variants"]["numpy_reference"]["n"] == 0
    assert record["variants"]["keras_fit"]["import_s"] == 1.0
    rows = run_rounds([["keras_fit"]], config, fake)
    assert rows[0]["variant"] == "keras_fit" and "started_s" in rows[0]


def test_the_last_round_also_measures_the_extras_in_the_same_processes():
    calls = []

    def fake(name: str, config: WorkerConfig) -> dict:
        calls.append((name, config.part))
        raw = {"import_s": 1.0, "step_time_median_s": 1e-3}
        if config.part == "all":
            raw["equal_work"] = {"variant": name}
        return raw

    extras: dict[str, dict] = {}
    names = ["keras_fit", "keras_tuned"]
    record = rounds_record(names, WorkerConfig(), rounds=3, seed=1, run=fake, extras=extras)
    parts = [part for _, part in calls]
    assert parts == ["timing"] * 4 + ["all"] * 2  # only the last round goes on to the extras
    assert {name: raw["equal_work"]["variant"] for name, raw in extras.items()} == {
        name: name for name in names
    }
    assert record["last_round_extras"] is True
    assert "equal_work" not in record["processes"][-1]  # the rounds record keeps timings only


def test_extras_are_measured_once_whether_or_not_the_rounds_ran_now(monkeypatch):
    from compare.bench import plan

    calls = []

    def fake(name: str, config: WorkerConfig) -> dict:
        calls.append((name, config.part))
        return {"import_s": 1.0, "step_time_median_s": 1e-3, "equal_work": None, "sweep": {}}

    monkeypatch.setattr(plan, "run_worker", fake)
    monkeypatch.setattr(plan, "rounds_record", lambda *a, **k: rounds_record(*a, run=fake, **k))
    jobs = dict(plan.bench_jobs(True, 1, variants=["torch_plain"], rounds=2))
    jobs["bench-rounds"]()
    jobs["bench-torch_plain"]()
    assert calls == [("torch_plain", "timing"), ("torch_plain", "all")]  # no third process
    jobs["bench-torch_plain"]()  # as when the rounds come from the cache: its own process
    assert calls[-1] == ("torch_plain", "extras")
