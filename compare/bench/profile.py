"""Where a variant's per-step time goes: one sampled training run in the bench worker.

After a round's process has timed its epochs, it trains once more, the same way (a fresh model
from seed 0, WARMUP_EPOCHS + repeats epochs), with the stack sampler on for exactly the timed
epochs (`compare.bench.sampler.SamplingClock`), and charges each stack's time to a part of the
step (`compare.bench.attribution`). The timing itself never runs under the profiler; the
sampled run measures its own per-step time too, so the profiler's cost is known per process.

Which variants, and which gaps the report breaks down, are fixed here: Keras's default `fit`
against its tuned path, and Lightning against the plain loop against the plain loop with
fused Adam. Standard library only at module level (the worker imports it before any framework).
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

from compare.bench.attribution import PARTS, attribute, frame_key
from compare.bench.sampler import DEFAULT_INTERVAL_S, SamplingClock, StackSampler
from compare.bench.variants import WARMUP_EPOCHS

# The gaps the report breaks down, (variant, reference), and the variants they need, grouped
# by framework for the chart.
BREAKDOWNS: tuple[tuple[str, str], ...] = (
    ("keras_fit", "keras_tuned"),
    ("lightning_default", "torch_plain"),
    ("torch_plain", "torch_tuned"),
)
FRAMEWORK_GROUPS: dict[str, tuple[str, ...]] = {
    "Keras (TensorFlow)": ("keras_fit", "keras_tuned"),
    "PyTorch": ("lightning_default", "torch_plain", "torch_tuned"),
}
PROFILED = tuple(name for group in FRAMEWORK_GROUPS.values() for name in group)


def profiled_fit(
    runner: Any, data: Any, repeats: int, interval_s: float = DEFAULT_INTERVAL_S
) -> dict[str, Any]:
    """Train the tutorial config once with the sampler on its timed epochs; parts per step.

    Args:
        runner: the worker's `compare.bench.runner.Runner`.
        data: the tutorial's prepared windows (`compare.study.presets.prepare`).
        repeats: timed epochs, after WARMUP_EPOCHS unsampled ones.
        interval_s: the sampling interval.

    Returns:
        {"parts_s": {part: s per step}, "frames": {part: [[module:function, s per step]]},
         "parts": PARTS, "step_s": the sampled run's per-step wall time (the profiler's own
         time included), "overhead_s": the profiler's own time per step (charged to no part),
         "samples", "interval_s", "steps", "wall_s": the whole sampled run, warm-up
         included}. The parts sum to step_s - overhead_s.
    """
    from compare.study.presets import PRESETS

    preset = PRESETS["tutorial"]
    train_spec = dataclasses.replace(preset.train, epochs=WARMUP_EPOCHS + repeats, seed=0)
    started = time.perf_counter()
    sampler = StackSampler(interval_s)
    clock = SamplingClock(sampler, first=WARMUP_EPOCHS, last=WARMUP_EPOCHS + repeats)
    runner.fit(runner.build(preset.model, seed=0), data.X_train, data.Y_train, train_spec, clock)
    if len(clock) < WARMUP_EPOCHS + repeats:
        raise RuntimeError(
            f"{runner.variant.name}: the profiled run marked {len(clock)} epoch ends, "
            f"expected {WARMUP_EPOCHS + repeats}"
        )
    steps = math.ceil(len(data.X_train) / train_spec.batch_size) * repeats
    stacks = [
        ([frame_key(code.co_filename, code.co_name) for code in codes], seconds)
        for codes, seconds in sampler.code_stacks()
    ]
    found = attribute(stacks, per=steps)
    return {
        **found,
        "parts": list(PARTS),
        "step_s": sampler.window_s / steps,
        "overhead_s": sampler.overhead_s / steps,
        "samples": sampler.samples,
        "interval_s": interval_s,
        "steps": steps,
        "wall_s": time.perf_counter() - started,  # what profiling added to the process
    }
