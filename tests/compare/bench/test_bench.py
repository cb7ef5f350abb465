"""The speed study: its statistics, equal-work rule, report section, charts and workers.

Nothing here asserts a timing: timings depend on the machine and on who else uses it. The
report is checked on hand-written records whose ratios and verdicts are known; the workers are
run end to end at tiny sizes and checked for complete, positive, finite fields; the speed
options added to the impls are checked to change nothing but speed.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import pytest

from compare.bench import plan as bench
from compare.bench.equal_work import judge_equal_work
from compare.bench.process import BenchError, run_worker, worker_env
from compare.bench.timing import spread, timed_epochs
from compare.bench.variants import VARIANTS, WorkerConfig
from compare.commands import bench as bench_command
from compare.report.speed import findings as speed_findings
from compare.report.speed import render as speed_report
from compare.report.speed.plots import draw_speed

# ---------------------------------------------------------------- fixture records


def _work(rmse: list[float], reference: str | None, within: bool | None) -> dict:
    return {
        "seeds": list(range(len(rmse))),
        "epochs": 20,
        "test_rmse": rmse,
        "mean": float(np.mean(rmse)),
        "sd": float(np.std(rmse, ddof=1)),
        "reference_variant": reference,
        "within_spread": within,
        "identical_to_reference": None if reference is None else within,
        "max_abs_diff_to_reference": None if reference is None else 0.0,
        "rule": "mean within reference mean ± 2 sd",
    }


def _record(variant: str, step: float | None, spread_rel: float = 0.02, **extra) -> dict:
    record = {
        "kind": "bench_run",
        "variant": variant,
        "device": "cuda" if variant.endswith("_cuda") else "cpu",
        "threads": 1,
        "repeats": 10,
        "machine": "x86_64, Linux, 2 CPU cores",
        "import_s": 2.5,
        "build_s": 0.1,
        "build_warm_s": 0.01,
        "predict_batch_median_s": 2e-4,
        "predict_one_median_s": 1e-4,
        "peak_rss_mb": 400.0,
        "peak_rss_mb_end": 420.0,
        "sweep": {
            "batch": [
                {"value": 1, "samples_per_s": 1000.0},
                {"value": 16, "samples_per_s": 9000.0},
            ],
            "units": [{"value": 3, "samples_per_s": 1000.0}],
        },
    }
    if step is not None:
        record.update(
            step_time_median_s=step,
            step_time_iqr_s=step * spread_rel / 2,
            step_time_spread_rel=spread_rel,
            step_times_s=[step * (1 - spread_rel / 2), step, step * (1 + spread_rel / 2)],
            samples_per_s=1 / step,
        )
    record.update(extra)
    return record


def _fixture(keras_tuned_step: float = 4e-4, keras_tuned_within: bool | None = True) -> list:
    return [
        {"kind": "meta"},  # other record kinds are ignored
        _record("keras_fit", 2e-3, equal_work=_work([0.10, 0.11, 0.12], None, None)),
        _record(
            "keras_tuned",
            keras_tuned_step,
            equal_work=_work([0.10, 0.11, 0.12], "keras_fit", keras_tuned_within),
        ),
        _record("lightning_default", 1.3e-3),
        _record("lightning_tuned", 1.1e-3),
        _record("torch_plain", 1e-3, spread_rel=0.08),
        _record("numpy_reference", None, sweep={}),
    ]


def _row(lines: list[str], variant: str, header_start: str) -> list[str]:
    """The cells of `variant`'s row in the table whose header starts with `header_start`."""
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0] == variant:
            return cells
    raise AssertionError(f"no row for {variant} in table {header_start!r}")


# ---------------------------------------------------------------- statistics


def test_spread_median_iqr_and_relative_range():
    stats = spread([1.0, 2.0, 3.0, 4.0, 10.0])
    assert stats["median"] == 3.0
    assert stats["iqr"] == pytest.approx(np.percentile([1, 2, 3, 4, 10], 75) - 2.0)
    assert stats["spread_rel"] == pytest.approx(9.0 / 3.0)
    single = spread([5.0])
    assert single == {"median": 5.0, "iqr": 0.0, "spread_rel": 0.0}


def test_timed_epochs_drop_the_warmup_epochs():
    clock = [10.0, 12.0, 13.0, 13.5, 14.5]  # epoch ends; epoch 0 has no start mark
    assert timed_epochs(clock, warmup=1) == [2.0, 1.0, 0.5, 1.0]
    assert timed_epochs(clock, warmup=2) == [1.0, 0.5, 1.0]
    assert timed_epochs(clock[:2], warmup=2) == []


# ---------------------------------------------------------------- equal work


def test_identical_runs_pass_even_with_one_seed():
    judged = judge_equal_work([0.2], [0.2], "keras_fit")
    assert judged["within_spread"] is True
    assert judged["identical_to_reference"] is True
    assert judged["max_abs_diff_to_reference"] == 0.0


def test_mean_within_two_sd_of_the_reference():
    reference = [0.10, 0.11, 0.12]  # mean 0.11, sd 0.01
    inside = judge_equal_work([0.125, 0.125, 0.125], reference, "keras_fit")
    outside = judge_equal_work([0.135, 0.135, 0.135], reference, "keras_fit")
    assert inside["within_spread"] is True and inside["identical_to_reference"] is False
    assert outside["within_spread"] is False
    assert outside["max_abs_diff_to_reference"] == pytest.approx(0.035)
    assert inside["reference_mean"] == pytest.approx(0.11)


def test_unjudgeable_cases_say_why():
    assert judge_equal_work([0.2], [0.3], "keras_fit")["within_spread"] is None  # one seed
    missing = judge_equal_work([0.2, 0.3], None, "keras_fit")
    assert missing["within_spread"] is None and "not measured" in missing["note"]
    default = judge_equal_work([0.2, 0.3], None, None)
    assert default["within_spread"] is None and default["mean"] == pytest.approx(0.25)


def test_a_run_diverging_unlike_the_reference_fails():
    judged = judge_equal_work([math.nan, 0.2], [0.2, 0.2], "lightning_default")
    assert judged["within_spread"] is False


# ---------------------------------------------------------------- the report section


def _rounds(steps: dict[str, list[float]]) -> dict:
    """A bench_rounds record from per-variant per-round step times (seconds)."""
    from compare.bench.stats import summarise_rounds
    from compare.bench.variants import DIFFERENCES, RATIOS

    rows = [
        {"round": r, "variant": name, "step_time_median_s": value}
        for name, values in steps.items()
        for r, value in enumerate(values)
    ]
    return {
        "kind": "bench_rounds",
        "rounds": len(next(iter(steps.values()))),
        "epochs_per_round": 5,
        "seed": 0,
        "threads": 1,
        "variant_order": list(steps),
        "processes": rows,
        "machine": "x86_64, Linux, 2 CPU cores",
        "cpu_model": "Test CPU 9000",
        "gpu": None,
        **summarise_rounds(rows, RATIOS, DIFFERENCES),
    }


ROUND_STEPS = {
    "keras_fit": [2.0e-3, 2.1e-3, 1.9e-3, 2.2e-3, 2.0e-3],
    "keras_tuned": [5.0e-4, 5.2e-4, 4.8e-4, 5.5e-4, 5.0e-4],  # 0.25x keras_fit every round
    "lightning_default": [1.5e-3, 1.6e-3, 1.4e-3, 1.7e-3, 1.5e-3],
    "torch_plain": [1.0e-3, 1.1e-3, 0.9e-3, 1.1e-3, 1.0e-3],
    # the same as torch_plain up to +-2% each round: no difference beyond noise
    "torch_tuned": [1.02e-3, 1.078e-3, 0.918e-3, 1.089e-3, 1.0e-3],
}


def _speed(steps: dict[str, list[float]] | None = None) -> dict:
    from compare.report.speed.records import speed_summary

    return speed_summary([*_fixture(), _rounds(steps or ROUND_STEPS)])


def test_training_table_shows_medians_over_rounds_with_intervals():
    lines = speed_report.speed_section(_speed())
    cells = _row(lines, "keras_tuned", "| variant | per-step median")
    assert cells[1] == "500 µs" and cells[3] == "5"
    low, high = (float(part.split()[0]) for part in cells[2].split(" to "))
    assert low <= 500 <= high


def test_ratios_with_intervals_and_beyond_noise_wording():
    speed = _speed()
    by_pair = {(r["variant"], r["reference"]): r for r in speed["ratios"]}
    tuned = by_pair[("keras_tuned", "keras_fit")]
    assert set(tuned) == {"variant", "reference", "ratio", "ci95", "rounds", "method", "per_round"}
    assert tuned["ratio"] == pytest.approx(0.25, abs=1e-3) and tuned["rounds"] == 5
    assert tuned["method"] == "student-t on log per-round values"
    assert tuned["ci95"][0] <= 0.25 <= tuned["ci95"][1] < 1
    text = "\n".join(speed_report.speed_section(speed))
    assert "`keras_tuned` takes 0.25× `keras_fit`'s per-step time" in text
    assert "4.00× faster, beyond noise" in text
    assert "`torch_tuned` takes 1.00× `torch_plain`'s per-step time" in text
    assert "no difference beyond noise (the interval includes 1)" in text
    assert "| keras_tuned | keras_fit | 0.25× |" in text
    # per-round ratios 1.5, 1.45, 1.56, 1.55, 1.5: geometric mean 1.511, x torch_plain's 1 ms
    assert "`lightning_default` spends 511 µs more per step than `torch_plain`" in text
    assert "Test CPU 9000" in text and "no GPU" in text
    assert "goal" not in text.lower()


def test_interval_bounds_keep_their_digits():
    from compare.report.speed.records import fmt_bound

    found = [fmt_bound(v) for v in (3.1e-6, 0.0031, 0.25, 10.014, 228151.4)]
    assert found == ["3.1e-06", "0.0031", "0.25", "10.01", "2.28e+05"]


def test_one_round_shows_its_value_and_claims_nothing():
    speed = _speed({name: values[:1] for name, values in ROUND_STEPS.items()})
    text = "\n".join(speed_report.speed_section(speed))
    assert (
        "`keras_tuned` takes 0.25× `keras_fit`'s per-step time (per round: 0.25; too few " in text
    )
    assert (
        "| keras_tuned | keras_fit | 0.25× | too few rounds for an interval (per round: 0.25)"
        in text
    )
    assert "spends 500 µs more per step than `torch_plain` (per round: 500 µs; too few" in text
    assert "beyond noise" not in text.replace("| beyond noise |", "")  # only the column's name
    assert "95% CI" not in "\n".join(speed_findings.findings(speed))


def test_a_quick_study_says_in_the_headline_that_it_is_indicative():
    quick = _speed()
    assert not any("indicative" in line for line in speed_findings.headline(quick))
    quick["rounds"] = {**quick["rounds"], "quick": True, "rounds": 2, "epochs_per_round": 2}
    [first, *ratios] = speed_findings.headline(quick)
    assert first.startswith("the figures below come from the quick study (2 rounds of 2 timed")
    assert "indicative" in first and len(ratios) == 3 and "indicative" not in " ".join(ratios)


def test_section_links_the_charts_and_shows_equal_work():
    text = "\n".join(speed_report.speed_section(_speed()))
    assert "(speed_tutorial.png)" in text
    assert "(speed_sweep_batch.png)" in text and "(speed_sweep_units.png)" in text
    assert "speed_sweep_time_steps.png" not in text  # no record swept time steps
    assert "| keras_tuned | 3 × 20 | 0.11000 ± 0.01000 | keras_fit | yes |" in text


def test_gpu_wins_from_is_computed_from_the_sweep():
    from compare.report.speed.findings import gpu_findings, gpu_wins_from

    def run(name: str, rates: dict[int, float]) -> dict:
        points = [{"value": v, "samples_per_s": r} for v, r in rates.items()]
        return {"variant": name, "sweep": {"units": points}}

    cpu = run("torch_plain", {3: 1000, 64: 800, 256: 300, 1024: 40})
    gpu = run("torch_plain_cuda", {3: 400, 64: 500, 256: 350, 1024: 330})
    assert gpu_wins_from(cpu, gpu, "units") == (256, 1024)
    never = run("torch_plain_cuda", {3: 1, 64: 1, 256: 1, 1024: 1})
    assert gpu_wins_from(cpu, never, "units") == (None, 1024)
    lines = gpu_findings([cpu, gpu])
    assert lines == [
        "`torch_plain_cuda` trains more samples per second than `torch_plain` from recurrent "
        "units 256 on (to 1024, the largest swept)."
    ]
    records = [{**cpu, "kind": "bench_run"}, {**gpu, "kind": "bench_run", "gpu": "H100"}]
    from compare.report.speed.records import speed_summary

    text = "\n".join(speed_report.speed_section(speed_summary(records)))
    assert "GPU H100" in text and "from recurrent units 256 on" in text


def test_empty_and_partial_records():
    from compare.report.speed.records import speed_summary

    assert speed_report.speed_section(speed_summary([])) == []
    assert speed_report.speed_section(speed_summary([{"kind": "meta"}])) == []
    partial = [
        {"kind": "bench_run", "variant": "keras_fit", "step_time_median_s": "nan"},
        {"kind": "bench_run", "variant": "torch_plain", "sweep": {"batch": [{"value": 1}]}},
    ]
    text = "\n".join(speed_report.speed_section(speed_summary(partial)))
    assert "n/a" in text and "speed_tutorial.png" not in text
    one_round = _speed({"keras_fit": [2e-3], "keras_tuned": [5e-4]})
    assert "too few rounds for an interval" in "\n".join(speed_report.speed_section(one_round))
    assert "keras_fit" in speed_report.terminal_table(speed_summary(partial))


@pytest.mark.slow
def test_draw_speed_writes_the_pngs(tmp_path):
    draw_speed([*_fixture(), _rounds(ROUND_STEPS)], tmp_path)
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == ["speed_sweep_batch.png", "speed_sweep_units.png", "speed_tutorial.png"]
    for name in names:
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_draw_speed_with_nothing_to_draw(tmp_path):
    draw_speed([], tmp_path / "none")
    assert not (tmp_path / "none").exists()
    draw_speed([{"kind": "bench_run", "variant": "x"}], tmp_path)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- planning and environment


def test_worker_env_pins_threads_backend_and_hides_gpus_from_cpu_variants():
    env = worker_env(VARIANTS["keras_torch_backend"], threads=2)
    assert env["KERAS_BACKEND"] == "torch"
    assert env["CUDA_VISIBLE_DEVICES"] == ""
    for name in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        assert env[name] == "2"
    assert worker_env(VARIANTS["keras_fit"], 1)["KERAS_BACKEND"] == "tensorflow"


def test_plan_puts_references_first_and_rejects_unknown_names(monkeypatch):
    monkeypatch.setattr(bench, "cuda_available", lambda: False)
    assert bench.plan_variants(["torch_plain", "lightning_default", "keras_tuned"]) == [
        "keras_tuned",
        "lightning_default",
        "torch_plain",
    ]
    with pytest.raises(ValueError, match="unknown variant"):
        bench.plan_variants(["keras_fast"])
    jobs = bench.bench_jobs(False, 3)
    assert [name for name, _ in jobs] == ["bench-rounds"] + [
        f"bench-{name}" for name in bench.CPU_VARIANTS
    ]


# ---------------------------------------------------------------- workers end to end

TINY = WorkerConfig(
    threads=1,
    repeats=2,
    predict_repeats=3,
    seeds=1,
    equal_work_epochs=1,
    sweep={"batch": [1, 4], "units": [3], "time_steps": [12]},
    sweep_epochs=1,
    sweep_min_samples=8,
    sweep_min_steps=2,
)


@pytest.mark.slow
def test_torch_plain_worker_end_to_end():
    raw = run_worker("torch_plain", TINY)
    record = bench.bench_record(VARIANTS["torch_plain"], raw, TINY, reference=None)
    for key in (
        "import_s",
        "build_s",
        "build_warm_s",
        "step_time_median_s",
        "samples_per_s",
        "predict_batch_median_s",
        "predict_one_median_s",
        "peak_rss_mb",
        "peak_rss_mb_end",
        "worker_wall_s",
    ):
        assert record[key] > 0 and math.isfinite(record[key]), key
    assert record["step_time_iqr_s"] >= 0 and record["step_time_spread_rel"] >= 0
    assert len(record["step_times_s"]) == TINY.repeats and record["steps_per_epoch"] == 187
    assert record["kind"] == "bench_run" and record["variant"] == "torch_plain"
    assert record["threads"] == 1 and record["torch_threads"] == 1
    assert record["device"] == "cpu" and "torch" in record["versions"]
    work = record["equal_work"]
    assert work["seeds"] == [0] and work["epochs"] == 1
    assert 0 < work["test_rmse"][0] < 1 and work["reference_variant"] == "lightning_default"
    assert work["within_spread"] is None and "not measured" in work["note"]
    assert sorted(record["sweep"]) == ["batch", "time_steps", "units"]
    assert [p["value"] for p in record["sweep"]["batch"]] == [1, 4]
    assert all(p["samples_per_s"] > 0 for points in record["sweep"].values() for p in points)


@pytest.mark.slow
def test_numpy_reference_job_end_to_end():
    [(rounds_name, timing), (name, measure)] = bench.bench_jobs(
        True, 1, variants=["numpy_reference"], rounds=2
    )
    rounds = timing()
    assert rounds_name == "bench-rounds" and rounds["kind"] == "bench_rounds"
    assert rounds["orders"] == [["numpy_reference"], ["numpy_reference"]]
    summary = rounds["variants"]["numpy_reference"]
    assert summary["predict_batch_median_s"] > 0 and summary["predict_one_median_s"] > 0
    assert summary["import_s"] > 0 and summary["build_s"] > 0 and summary["peak_rss_mb"] > 0
    assert rounds["cpu_model"] and rounds["ratios"] == []  # inference only: nothing to divide
    record = measure()
    assert name == "bench-numpy_reference" and record["variant"] == "numpy_reference"
    assert record["equal_work"] is None and record["sweep"] == {}
    assert "step_time_median_s" not in record


def test_unknown_variant_fails_with_the_workers_stderr():
    with pytest.raises(BenchError) as caught:
        run_worker("no_such_variant", TINY)
    message = str(caught.value)
    assert "bench worker for 'no_such_variant' failed (exit 2)" in message
    assert "unknown variant 'no_such_variant'" in message


def test_a_crashing_worker_shows_its_traceback():
    class BadConfig:
        threads = 1

        def to_json(self) -> str:
            return '{"bogus": 1}'

    with pytest.raises(BenchError, match=r"(?s)failed \(exit 1\).*unknown worker config key"):
        run_worker("numpy_reference", BadConfig())


@pytest.mark.slow
def test_bench_command_writes_records_and_report(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    bench_command.add_arguments(parser)
    args = parser.parse_args(["--out", str(tmp_path), "--quick", "--variants", "numpy_reference"])
    assert bench_command.run(args) == 0
    assert (tmp_path / "records" / "bench-numpy_reference.json").is_file()
    assert (tmp_path / "report.md").is_file()
    assert "numpy_reference" in capsys.readouterr().out


# ---------------------------------------------------------------- the impls' speed options


def _windows(n: int = 24, steps: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """n random windows (n, steps, 1) and targets (n, 1), float32."""
    rng = np.random.default_rng(7)
    X = rng.uniform(0, 1, (n, steps, 1)).astype("float32")
    return X, rng.uniform(0, 1, (n, 1)).astype("float32")


@pytest.mark.slow
def test_torch_speed_options_change_nothing_but_speed():
    from compare.frameworks import torch_impl
    from shared.spec import TrainSpec, tutorial_spec

    impl = torch_impl()
    X, Y = _windows()
    spec = TrainSpec(epochs=3, batch_size=4, seed=1)
    runs = {}
    for name, fit, options in (
        ("fit", impl.fit, {}),
        ("barebones", impl.fit, {"barebones": True, "device": "cpu"}),
        ("plain", impl.fit_plain, {"device": "cpu"}),
        # lightning_tuned: 4 steps per training_step, 6 per epoch (batch 4 of 24): 4 + 2
        ("steps_per_execution", impl.fit, {"steps_per_execution": 4}),
        ("one_call_per_epoch", impl.fit, {"steps_per_execution": 6}),
    ):
        model, clock = impl.build_model(tutorial_spec(), seed=3), []
        history = fit(model, X, Y, spec, epoch_clock=clock, **options)
        assert len(clock) == 3 and clock == sorted(clock)
        runs[name] = (history, impl.to_canonical(model), impl.predict(model, X, device="cpu"))
    reference_history, reference_weights, reference_outputs = runs["fit"]
    for history, weights, outputs in runs.values():
        assert history.step_loss == reference_history.step_loss
        assert weights.bitwise_equal(reference_weights)
        assert np.array_equal(outputs, reference_outputs)
    with pytest.raises(ValueError, match="device must be"):
        impl.predict(impl.build_model(tutorial_spec(), seed=3), X, device="tpu")
    with pytest.raises(ValueError, match="steps_per_execution"):
        impl.fit(impl.build_model(tutorial_spec(), seed=3), X, Y, spec, steps_per_execution=0)


@pytest.mark.slow
def test_fused_adam_is_the_same_update_up_to_rounding():
    """torch_tuned's fused Adam: not bit-identical (another kernel), but within float32
    rounding after 3 epochs (measured 3e-7 on the tutorial after 6 epochs; 1e-5 allowed)."""
    from compare.frameworks import torch_impl
    from shared.spec import OptimizerSpec, TrainSpec, tutorial_spec

    impl = torch_impl()
    X, Y = _windows()
    spec = TrainSpec(epochs=3, batch_size=4, seed=1)
    weights = []
    for fused in (False, True):
        model = impl.build_model(tutorial_spec(), seed=3)
        impl.fit_plain(model, X, Y, spec, fused=fused)
        weights.append(impl.to_canonical(model))
    assert weights[0].max_abs_diff(weights[1]) <= 1e-5
    keras_adam = TrainSpec(epochs=1, optimizer=OptimizerSpec(epsilon_style="keras"))
    with pytest.raises(ValueError, match="no fused kernel"):
        impl.fit_plain(impl.build_model(tutorial_spec(), seed=3), X, Y, keras_adam, fused=True)


@pytest.mark.slow
def test_keras_epoch_clock_changes_nothing():
    from compare.frameworks import keras_impl
    from shared.spec import TrainSpec, tutorial_spec

    impl = keras_impl()
    X, Y = _windows()
    spec = TrainSpec(epochs=2, batch_size=4, seed=1)
    plain_model, clocked_model, clock = (
        impl.build_model(tutorial_spec(), seed=3),
        impl.build_model(tutorial_spec(), seed=3),
        [],
    )
    plain = impl.fit(plain_model, X, Y, spec)
    clocked = impl.fit(clocked_model, X, Y, spec, epoch_clock=clock)
    assert len(clock) == 2 and clock[0] < clock[1]
    assert clocked.step_loss == plain.step_loss
    assert impl.to_canonical(clocked_model).bitwise_equal(impl.to_canonical(plain_model))


# ---------------------------------------------------------------- GPU planning, report.json


def test_a_gpu_extends_the_sweep_and_adds_the_cuda_twins(monkeypatch):
    monkeypatch.setattr(bench, "cuda_available", lambda: True)
    names = [name for name, _ in bench.bench_jobs(False, 3)]
    assert "bench-torch_tuned_cuda" in names and "bench-lightning_tuned_cuda" in names
    sweep = bench.worker_config(False, 3, gpu=True).sweep
    assert max(sweep["units"]) == 1024 and max(sweep["time_steps"]) == 384
    assert max(sweep["batch"]) == 4096
    assert max(bench.worker_config(False, 3).sweep["units"]) == 256  # no GPU: the CPU sweep


def test_report_json_speed_holds_runs_and_ratios():
    from compare.report.summary import summarise

    speed = summarise([*_fixture(), _rounds(ROUND_STEPS)])["speed"]
    assert [run["variant"] for run in speed["runs"]][:2] == ["keras_fit", "keras_tuned"]
    for entry in speed["ratios"]:
        assert {"variant", "reference", "ratio", "ci95", "rounds", "method"} <= set(entry)
        assert len(entry["ci95"]) == 2 and entry["rounds"] == 5 and len(entry["per_round"]) == 5
