"""One variant of the speed study, measured in a fresh process: `python -m compare.bench.worker`.

Why a process per variant: a framework's import time can only be measured where it has not been
imported yet; thread pools, XLA caches, Lightning state and the memory peak of one variant must
not leak into the next; Keras reads its backend (KERAS_BACKEND) once, at import; and TensorFlow
and torch are best not loaded into one process at all. `compare.bench.plan` starts this module once
per variant with the thread settings in its environment, passes a `WorkerConfig` as JSON and
reads the raw measurements back from a result file (stdout is left to the frameworks' chatter).

What is timed, and how:

* import: the variant's framework package (keras_impl or torch_impl, numpy for the reference),
  first thing in the process;
* build: `build_model(spec, seed)` once cold (the first build also pays lazy initialisation:
  Keras's seeding imports TensorFlow even on its torch backend) and warm (median of 3 more);
* training: one `fit` of WARMUP_EPOCHS + repeats epochs on the tutorial's 187 windows, batch 1.
  The impls append `perf_counter()` at each epoch's end (their `epoch_clock` option), so each
  interval between two epoch ends is one whole epoch. The first two epochs are warm-up and
  discarded: the first (tracing, compilation, optimizer set-up) has no start mark, and the
  second's interval holds the one-time work of the first epoch end (Keras builds its metric
  read-out there: that interval was about 2x the later ones). Per-step time = epoch time /
  steps: timing single steps at microsecond scale would mostly measure the clock;
* prediction: each impl's public `predict` on the 46 test windows and on one window, after two
  warm-up calls;
* memory: peak RSS (VmHWM) after the tutorial-config measurements, and again at the end;
* where the time goes (config.profile): one more training run with a stack sampler on its
  timed epochs (`compare.bench.profile`), after the timing and the memory peak;
* compile (torch_compiled*): the first step's seconds (tracing, compiling, one run), the
  graphs compiled and the graph breaks met, from the tutorial fit; every such process gets an
  empty inductor cache, so each compile is a first run's; where no C++ compiler is found the
  variant is not measured and its result says why ("unavailable");
* equal work: the tutorial preset trained in full (20 epochs, batch 1) per seed, test RMSE;
* scaling sweep: samples per second on synthetic windows, one axis varied at a time.

This module imports only the standard library at module level; frameworks load inside
`measure`, in the worker process only.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from compare.bench.profile import PROFILED, profiled_fit
from compare.bench.runner import Runner, import_framework
from compare.bench.timing import peak_rss_mb, spread, time_calls, timed_epochs
from compare.bench.variants import SWEEP_AXES, VARIANTS, WARMUP_EPOCHS, Variant, WorkerConfig

# ---------------------------------------------------------------- the measurements


def _tutorial_timing(runner: Runner, data: Any, config: WorkerConfig) -> dict[str, Any]:
    """Build times, per-step training times and prediction latencies on the tutorial config."""
    from compare.study.presets import PRESETS

    preset = PRESETS["tutorial"]
    start = time.perf_counter()
    model = runner.build(preset.model, seed=0)
    result: dict[str, Any] = {"build_s": time.perf_counter() - start}
    warm = time_calls(lambda: runner.build(preset.model, seed=0), repeats=3, warmup=0)
    result["build_warm_s"] = statistics.median(warm)
    if runner.variant.trainer != "none":
        clock: list[float] = []
        epochs = WARMUP_EPOCHS + config.repeats
        train_spec = dataclasses.replace(preset.train, epochs=epochs, seed=0)
        runner.fit(model, data.X_train, data.Y_train, train_spec, clock)
        result.update(runner.compile_stats[0] if runner.compile_stats else {})
        steps = math.ceil(len(data.X_train) / train_spec.batch_size)
        step_times = [seconds / steps for seconds in timed_epochs(clock)]
        stats = spread(step_times)
        result.update(
            steps_per_epoch=steps,
            step_times_s=step_times,
            step_time_median_s=stats["median"],
            step_time_iqr_s=stats["iqr"],
            step_time_spread_rel=stats["spread_rel"],
            samples_per_s=train_spec.batch_size / stats["median"],
        )
    batch = time_calls(lambda: runner.predict(model, data.X_test), config.predict_repeats)
    one = time_calls(lambda: runner.predict(model, data.X_test[:1]), config.predict_repeats)
    batch_stats, one_stats = spread(batch), spread(one)
    result.update(
        predict_batch_size=len(data.X_test),
        predict_batch_median_s=batch_stats["median"],
        predict_batch_iqr_s=batch_stats["iqr"],
        predict_one_median_s=one_stats["median"],
        predict_one_iqr_s=one_stats["iqr"],
    )
    return result


def _equal_work(runner: Runner, data: Any, config: WorkerConfig) -> dict[str, Any]:
    """Train the tutorial preset in full per seed; test RMSE as compare.study.presets computes it.

    A diverged run (NaN or infinite loss or prediction) gets RMSE NaN, never a number.
    """
    import numpy as np

    from compare.study.baselines import rmse
    from compare.study.presets import PRESETS
    from shared.data import inverse_scale

    preset = PRESETS["tutorial"]
    epochs = config.equal_work_epochs or preset.train.epochs
    runs: dict[str, list[float]] = {"test_rmse": [], "test_rmse_units": [], "train_seconds": []}
    for seed in range(config.seeds):
        train_spec = dataclasses.replace(preset.train, seed=seed, epochs=epochs)
        model = runner.build(preset.model, seed=seed)
        history = runner.fit(model, data.X_train, data.Y_train, train_spec, [])
        predictions = runner.predict(model, data.X_test)  # (46, 1)
        finite = not history.diverged and bool(np.all(np.isfinite(predictions)))
        units = inverse_scale(data.scaler, predictions)
        runs["test_rmse"].append(rmse(predictions, data.Y_test) if finite else math.nan)
        runs["test_rmse_units"].append(
            rmse(units, inverse_scale(data.scaler, data.Y_test)) if finite else math.nan
        )
        runs["train_seconds"].append(history.seconds)
    return {"seeds": list(range(config.seeds)), "epochs": epochs, **runs}


def _sweep_model(axis: str, value: int) -> tuple[Any, int]:
    """The tutorial spec with one axis changed, and the batch size of that point."""
    from shared.recurrent_spec import RecurrentLayerSpec
    from shared.spec import tutorial_spec

    spec = tutorial_spec()
    if axis == "batch":
        return spec, value
    if axis == "units":
        layer = RecurrentLayerSpec(kind="simple", units=value, activation="tanh")
        return dataclasses.replace(spec, layers=(layer,)), 1
    if axis == "time_steps":
        return dataclasses.replace(spec, time_steps=value), 1
    raise ValueError(f"unknown sweep axis {axis!r}; known: {', '.join(SWEEP_AXES)}")


def _sweep_point(runner: Runner, axis: str, value: int, config: WorkerConfig) -> dict[str, Any]:
    """Training samples per second at one sweep point (synthetic data, warm-up discarded)."""
    import numpy as np

    from shared.recipe import TrainSpec

    spec, batch = _sweep_model(axis, value)
    samples = max(config.sweep_min_samples, config.sweep_min_steps * batch)
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (samples, spec.time_steps, 1)).astype(spec.dtype)
    Y = rng.uniform(0, 1, (samples, 1)).astype(spec.dtype)
    clock: list[float] = []
    train_spec = TrainSpec(epochs=WARMUP_EPOCHS + config.sweep_epochs, batch_size=batch, seed=0)
    runner.fit(runner.build(spec, seed=0), X, Y, train_spec, clock)
    epoch_s = statistics.median(timed_epochs(clock))
    return {
        "value": value,
        "samples_per_s": samples / epoch_s,
        "samples": samples,
        "steps_per_epoch": math.ceil(samples / batch),
    }


def _sweep(runner: Runner, config: WorkerConfig) -> dict[str, list[dict[str, Any]]]:
    """Every axis's points; the tutorial point (batch 1, 3 units, 12 steps) is timed once."""
    tutorial = {"batch": 1, "units": 3, "time_steps": 12}
    shared_point: dict[str, Any] | None = None
    result: dict[str, list[dict[str, Any]]] = {}
    for axis, values in config.sweep.items():
        points = []
        for value in values:
            _sweep_model(axis, value)  # reject an unknown axis before any training
            if value == tutorial.get(axis):
                shared_point = shared_point or _sweep_point(runner, axis, value, config)
                points.append({**shared_point, "value": value})
            else:
                points.append(_sweep_point(runner, axis, value, config))
        result[axis] = points
    return result


def measure(variant: Variant, config: WorkerConfig) -> dict[str, Any]:
    """The measurements `config.part` asks for, in this (fresh) process; see the docstring.

    "timing": import, build, per-step training, prediction, peak memory (a round's process);
    "extras": equal work and the sweep; "all": both.
    """
    if variant.trainer != "compiled":
        return _measure(variant, config)
    before = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="rnn-parity-inductor-") as cache:
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache  # a cold compile, as a first run's
        try:
            return _measure(variant, config)
        finally:
            if before is None:
                del os.environ["TORCHINDUCTOR_CACHE_DIR"]
            else:
                os.environ["TORCHINDUCTOR_CACHE_DIR"] = before


def _measure(variant: Variant, config: WorkerConfig) -> dict[str, Any]:
    impl, import_s, facts = import_framework(variant, config.threads)
    if variant.trainer == "compiled" and variant.device == "cpu" and impl.cpp_compiler() is None:
        reason = "no C++ compiler found ($CXX, g++, c++, clang++): inductor needs one on the CPU"
        return {"import_s": import_s, **facts, "unavailable": reason, "equal_work": None}
    from compare.study.presets import PRESETS, prepare

    runner = Runner(variant, impl)
    data = prepare(PRESETS["tutorial"])  # 187 train windows (12, 1), 46 test windows
    result: dict[str, Any] = {"import_s": import_s, **facts}
    if config.part in ("timing", "all"):
        result.update(_tutorial_timing(runner, data, config))
        result["peak_rss_mb"] = peak_rss_mb()
        if config.profile and variant.name in PROFILED:  # after the timing, never during it
            result["profile"] = profiled_fit(runner, data, config.repeats)
    if config.part in ("extras", "all"):
        if variant.trainer != "none":
            result["equal_work"] = _equal_work(runner, data, config) if config.seeds else None
            result["sweep"] = _sweep(runner, config) if variant.sweep else {}
        else:
            result["equal_work"], result["sweep"] = None, {}
        result["peak_rss_mb_end"] = peak_rss_mb()
    return result


def probe() -> dict[str, Any]:
    """What this machine offers the torch variants: {"cuda": bool, "gpu": name or None}."""
    import torch

    cuda = torch.cuda.is_available()
    return {"cuda": cuda, "gpu": torch.cuda.get_device_name(0) if cuda else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure one speed-study variant.")
    parser.add_argument("--variant", help="a name from compare.bench.worker.VARIANTS")
    parser.add_argument("--config", default="{}", help="a WorkerConfig as JSON")
    parser.add_argument("--result", type=Path, required=True, help="where to write the JSON")
    parser.add_argument("--probe", action="store_true", help="report GPU availability only")
    args = parser.parse_args(argv)
    if args.probe:
        payload = probe()
    else:
        if args.variant not in VARIANTS:
            known = ", ".join(VARIANTS)
            print(
                f"bench worker: unknown variant {args.variant!r}; known: {known}", file=sys.stderr
            )
            return 2
        payload = measure(VARIANTS[args.variant], WorkerConfig.from_json(args.config))
    args.result.write_text(json.dumps(payload, allow_nan=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
