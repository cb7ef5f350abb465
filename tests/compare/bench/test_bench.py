"""The speed study: its statistics, equal-work rule, planning and workers.

Nothing here asserts a timing: timings depend on the machine and on who else uses it. The
workers are run end to end at tiny sizes and checked for complete, positive, finite fields; the
speed options added to the impls are checked to change nothing but speed. The report's speed
section is tested in tests/compare/report/test_speed_report.py.
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
    from shared.recipe import TrainSpec
    from shared.spec import tutorial_spec

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
    from shared.recipe import OptimizerSpec, TrainSpec
    from shared.spec import tutorial_spec

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
    from shared.recipe import TrainSpec
    from shared.spec import tutorial_spec

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
