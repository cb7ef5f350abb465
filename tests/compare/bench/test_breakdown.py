"""Where the time goes: the stack sampler, the attribution rules and the breakdown of a gap.

The sampler is checked on known busy work (no framework); the rules on hand-written stacks as
the frameworks produce them; the breakdown on fixture rounds whose parts are known, so that the
10% check and the residual it reports are exercised on both sides. One slow test runs the
profiled worker end to end on a tiny torch run.
"""

from __future__ import annotations

import math
import time

import pytest

from compare.bench.attribution import PARTS, attribute, classify
from compare.bench.breakdown import MAX_RESIDUAL, breakdowns
from compare.bench.sampler import SamplingClock, StackSampler

# ---------------------------------------------------------------- the sampler


def _spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _heavy() -> None:
    _spin(0.024)


def _light() -> None:
    _spin(0.008)


def test_the_sampler_charges_wall_time_to_the_stacks_that_spent_it():
    # busy work in two functions, each call timed here; each function's charged time must be
    # its own wall time less at most the sampler's own time (charged to no stack), with 8%
    # left for the samples that straddle a switch from one function to the other (20
    # switches, each may move up to one interval, 0.1-0.3 ms, either way)
    true = {"_heavy": 0.0, "_light": 0.0}
    sampler = StackSampler(interval_s=2e-4)
    sampler.start()
    for _ in range(10):
        for work in (_heavy, _light):
            start = time.perf_counter()
            work()
            true[work.__name__] += time.perf_counter() - start
    sampler.stop()
    for name, spent in true.items():
        charged = sum(s for c, s in sampler.code_stacks() if any(x.co_name == name for x in c))
        assert spent - sampler.overhead_s - 0.08 * spent <= charged <= 1.08 * spent, name
    charged = sum(sampler.stacks.values())
    assert charged + sampler.overhead_s == pytest.approx(sampler.window_s, rel=1e-3)
    assert sampler.samples > 100


def test_the_sampling_clock_samples_only_between_its_marks():
    sampler = StackSampler(interval_s=2e-4)
    clock = SamplingClock(sampler, first=2, last=3)
    clock.append(time.perf_counter())
    _spin(0.02)  # before the window: not sampled
    assert sampler.samples == 0
    clock.append(time.perf_counter())
    _spin(0.02)
    clock.append(time.perf_counter())
    _spin(0.02)  # after it: not sampled either
    assert sampler.window_s == pytest.approx(clock[2] - clock[1], abs=2e-3)
    assert sum(sampler.stacks.values()) <= sampler.window_s
    with pytest.raises(ValueError, match="first < last"):
        SamplingClock(sampler, first=3, last=3)


# ---------------------------------------------------------------- the rules


@pytest.mark.parametrize(
    "stack, part",
    [
        # a kernel called through torch._ops from Adam is optimizer time, not compute
        (["torch/_ops.py:__call__", "torch/optim/adam.py:_single_tensor_adam"], "optimizer"),
        # torch's record_function marker around the loader's next batch is data time
        (
            ["torch/autograd/profiler.py:__enter__", "torch/utils/data/dataloader.py:__next__"],
            "data",
        ),
        # the forward inside Lightning's closure inside the optimizer step is compute
        (
            [
                "torch/nn/modules/rnn.py:forward",
                "lightning/pytorch/trainer/call.py:_call_strategy_hook",
                "torch/optim/adam.py:step",
            ],
            "compute",
        ),
        # a helper both call: its caller decides
        (
            [
                "lightning_utilities/core/overrides.py:is_overridden",
                "lightning/pytorch/trainer/call.py:_call_callback_hooks",
            ],
            "callbacks",
        ),
        (
            ["inspect.py:signature", "lightning/pytorch/loops/training_epoch_loop.py:advance"],
            "loop",
        ),
        (["tensorflow/python/eager/execute.py:quick_execute"], "compute"),
        (["tensorflow/core/function/polymorphism/function_type.py:__hash__"], "compiled"),
        (
            [
                "tensorflow/python/framework/ops.py:_numpy",
                "keras/src/backend/tensorflow/core.py:convert_to_numpy",
                "keras/src/utils/python_utils.py:pythonify_logs",
            ],
            "logging",
        ),
        (["keras/src/trainers/epoch_iterator.py:_enumerate_iterator"], "data"),
        (["contextlib.py:__exit__", "typing.py:cast"], "other"),
    ],
)
def test_the_first_frame_a_rule_names_decides(stack, part):
    assert classify(stack)[0] == part


def test_attribute_gives_every_part_per_step_and_the_heaviest_frames():
    stacks = [
        (["torch/optim/adam.py:step"], 0.3),
        (["torch/nn/modules/rnn.py:forward"], 0.5),
        (["torch/nn/functional.py:mse_loss"], 0.1),
    ]
    found = attribute(stacks, per=10)
    assert set(found["parts_s"]) == set(PARTS)
    assert found["parts_s"]["compute"] == pytest.approx(0.06)
    assert found["parts_s"]["optimizer"] == pytest.approx(0.03)
    assert found["frames"]["compute"][0] == ["torch/nn/modules/rnn.py:forward", 0.05]


# ---------------------------------------------------------------- the breakdown of a gap


def _profile(parts_us: dict[str, float]) -> dict:
    parts_s = {part: parts_us.get(part, 0.0) * 1e-6 for part in PARTS}
    total = sum(parts_s.values())
    return {
        "parts": list(PARTS),
        "parts_s": parts_s,
        "frames": {},
        "step_s": total * 1.05,  # the profiler's cost: 5%
        "overhead_s": total * 0.02,
        "samples": 1000,
        "interval_s": 5e-4,
    }


def _rows(lightning_loop_us: float) -> list[dict]:
    """Two rounds; torch_plain takes 800 µs, lightning_default 1,300 µs (a 500 µs gap)."""
    plain = {"compute": 500, "optimizer": 200, "data": 80, "loop": 20}
    lightning = {**plain, "loop": lightning_loop_us, "callbacks": 150, "data": 130}
    rows = []
    for number, drift in enumerate((1.0, 1.02)):
        rows += [
            {
                "round": number,
                "variant": "torch_plain",
                "step_time_median_s": 800e-6 * drift,
                "profile": _profile(plain),
            },
            {
                "round": number,
                "variant": "lightning_default",
                "step_time_median_s": 1300e-6 * drift,
                "profile": _profile(lightning),
            },
        ]
    return rows


def test_parts_that_sum_to_the_gap_within_10_percent_pass_the_check():
    # parts: 280 more in the loop + 150 callbacks + 50 data = 480 µs against a 500 µs gap
    found = breakdowns(_rows(lightning_loop_us=300))
    (gap,) = found["gaps"]
    assert (gap["variant"], gap["reference"]) == ("lightning_default", "torch_plain")
    assert gap["parts_s"]["loop"] == pytest.approx(280e-6)
    assert gap["sum_s"] == pytest.approx(480e-6)
    assert gap["gap"]["difference_s"] == pytest.approx(500e-6 * 1.01, rel=0.01)
    assert gap["residual_rel"] == pytest.approx((480 - 505) / 505, rel=0.02)
    assert gap["within"] is True
    variant = found["variants"]["lightning_default"]
    assert variant["sum_s"] == pytest.approx(1280e-6)
    # the sampled run's 1,344 µs per step against the same processes' timed 1,313 µs
    assert variant["cost"] == pytest.approx(1344 / 1313 - 1, rel=1e-3)


def test_parts_that_fall_short_of_the_gap_fail_the_check():
    # 100 more in the loop: parts 300 µs against a ~505 µs gap, 40% short
    gap = breakdowns(_rows(lightning_loop_us=120))["gaps"][0]
    assert gap["residual_rel"] < -MAX_RESIDUAL
    assert gap["within"] is False


def test_no_profile_no_breakdown():
    rows = [{**row, "profile": None} for row in _rows(300)]
    assert breakdowns(rows) is None
    # one variant of a gap unprofiled: that gap is left out, the other variant still shown
    rows = [row if row["variant"] == "torch_plain" else {**row, "profile": None} for row in rows]
    rows = [
        {**row, "profile": _profile({"compute": 500})} if row["variant"] == "torch_plain" else row
        for row in rows
    ]
    found = breakdowns(rows)
    assert found["gaps"] == [] and list(found["variants"]) == ["torch_plain"]
    assert math.isfinite(found["variants"]["torch_plain"]["cost"])


# ---------------------------------------------------------------- end to end


@pytest.mark.slow
def test_the_profiled_worker_breaks_a_tiny_torch_run_down():
    from compare.bench.process import run_worker
    from compare.bench.variants import WorkerConfig

    config = WorkerConfig(repeats=1, predict_repeats=1, seeds=0, part="timing", profile=True)
    profile = run_worker("torch_plain", config)["profile"]
    parts = profile["parts_s"]
    assert set(parts) == set(PARTS)
    for part in ("compute", "optimizer", "data"):  # the plain loop's own work
        assert parts[part] > 0, part
    assert parts["callbacks"] == 0  # no Lightning, no Keras
    assert sum(parts.values()) == pytest.approx(profile["step_s"] - profile["overhead_s"], rel=0.01)
    assert profile["steps"] == 187


class _PlannedError(Exception):
    """Stops `bench` once its jobs are planned."""


@pytest.mark.parametrize(
    "argv, profiled",
    [([], True), (["--quick"], False), (["--quick", "--profile"], True), (["--no-profile"], False)],
)
def test_the_full_study_profiles_and_the_quick_one_does_not(monkeypatch, tmp_path, argv, profiled):
    import argparse

    from compare.commands import bench as bench_command

    def planned(*args, **kwargs):
        raise _PlannedError(kwargs["profile"])

    monkeypatch.setattr(bench_command, "bench_jobs", planned)
    parser = argparse.ArgumentParser()
    bench_command.add_arguments(parser)
    with pytest.raises(_PlannedError) as caught:
        bench_command.run(parser.parse_args(["--out", str(tmp_path), *argv]))
    assert caught.value.args == (profiled,)
