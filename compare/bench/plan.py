"""`rnn-parity bench`: how fast each framework trains and runs the tutorial's model, and why.

At the tutorial's size (SimpleRNN(3) + Dense(1), 187 windows of 12 steps, batch 1) nearly all
time is framework overhead, so the study times each framework at its defaults and at its best,
against the floor of a plain PyTorch loop:

  keras_fit            Keras as the tutorial runs it (TensorFlow backend, compile defaults)
  keras_tuned          one compiled call per epoch (steps_per_execution) with XLA
  keras_torch_backend  the same Keras model and fit on Keras's torch backend
  lightning_default    torch_impl.fit, a Lightning Trainer as a user would set it up
  lightning_tuned      the same with Trainer(barebones=True)
  torch_plain          torch_impl.fit_plain: the same steps with no Lightning
  numpy_reference      the numpy forward pass (inference only)

plus a "_cuda" twin of every torch-based variant when torch sees a GPU. Each variant runs in
its own process with the same thread count and records import, build, per-step training time
(median over whole epochs after two discarded warm-up epochs, with IQR and (max-min)/median),
prediction latency, samples per second, peak memory, a scaling sweep (batch, units, time
steps), and the tutorial trained in full over seeds: "tuned" must change speed, not results,
so each variant's test RMSE is judged against its framework's default variant.

Records go to OUT/records/bench-VARIANT.json and the report (OUT/report.md) is re-rendered
from every record in that folder. Timings on a shared machine are noisy: the report prints each
median with its spread.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from typing import Any

from compare.bench.equal_work import judge_equal_work
from compare.bench.process import cuda_available, run_worker
from compare.bench.variants import CPU_VARIANTS, VARIANTS, Variant, WorkerConfig
from shared.errors import RnnParityError


def worker_config(
    quick: bool, seeds: int, threads: int = 1, repeats: int | None = None
) -> WorkerConfig:
    """The measurement sizes for a full or a `--quick` run.

    Quick: 3 timed epochs, 2 equal-work epochs, a two-point sweep per axis timed once.
    """
    if threads < 1 or seeds < 0 or (repeats is not None and repeats < 1):
        raise RnnParityError(
            f"need threads >= 1, seeds >= 0, repeats >= 1; got {threads}, {seeds}, {repeats}"
        )
    if not quick:
        return WorkerConfig(threads=threads, repeats=repeats or 10, seeds=seeds)
    return WorkerConfig(
        threads=threads,
        repeats=repeats or 3,
        predict_repeats=10,
        seeds=seeds,
        equal_work_epochs=2,
        sweep={"batch": [1, 16], "units": [3, 16], "time_steps": [12, 24]},
        sweep_epochs=1,
        sweep_min_samples=32,
        sweep_min_steps=4,
    )


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in ("numpy", "tensorflow", "keras", "torch", "lightning"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def bench_record(
    variant: Variant, raw: dict[str, Any], config: WorkerConfig, reference: dict | None
) -> dict[str, Any]:
    """One `bench_run` record from a worker's raw result and its reference's record."""
    record: dict[str, Any] = {
        "kind": "bench_run",
        "variant": variant.name,
        "rank": list(VARIANTS).index(variant.name),  # the report's row order
        "framework": variant.framework,
        "backend": variant.backend or None,
        "device": variant.device,
        "description": variant.description,
        "settings": dict(variant.options),
        "threads": config.threads,
        "repeats": config.repeats,
        "config": {
            "repeats": config.repeats,
            "predict_repeats": config.predict_repeats,
            "seeds": config.seeds,
            "equal_work_epochs": config.equal_work_epochs,
            "sweep": config.sweep,
            "sweep_epochs": config.sweep_epochs,
            "sweep_min_samples": config.sweep_min_samples,
            "sweep_min_steps": config.sweep_min_steps,
        },
        "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": f"{platform.machine()}, {platform.system()}, {os.cpu_count()} CPU cores",
        "versions": _versions(),
        **raw,
    }
    equal_work = raw.get("equal_work")
    if equal_work:
        reference_rmse = None
        if reference and reference.get("equal_work"):
            reference_work = reference["equal_work"]
            if reference_work.get("epochs") == equal_work["epochs"]:
                reference_rmse = [float(v) for v in reference_work["test_rmse"]]
        record["equal_work"] = {
            **equal_work,
            **judge_equal_work(equal_work["test_rmse"], reference_rmse, variant.reference),
        }
    return record


# ---------------------------------------------------------------- jobs and the command


def plan_variants(variants: list[str] | None = None) -> list[str]:
    """The variants to run, references first: the given ones, or all CPU ones (+ GPU twins)."""
    if variants is None:
        chosen = list(CPU_VARIANTS)
        if cuda_available():
            chosen += [name for name in VARIANTS if name.endswith("_cuda")]
    else:
        unknown = [name for name in variants if name not in VARIANTS]
        if unknown:
            raise RnnParityError(f"unknown variant(s) {unknown}; known: {', '.join(VARIANTS)}")
        chosen = list(dict.fromkeys(variants))
    order = list(VARIANTS)  # defaults precede their tuned variants, CPU precede GPU
    return sorted(chosen, key=order.index)


def bench_jobs(
    quick: bool,
    seeds: int,
    *,
    threads: int = 1,
    repeats: int | None = None,
    variants: list[str] | None = None,
    previous: dict[str, dict] | None = None,
) -> list[tuple[str, Callable[[], dict]]]:
    """The speed study as jobs: (record name "bench-VARIANT", function making its record).

    Run the jobs in the order given: a tuned variant's equal-work verdict needs its default
    variant's record, which the earlier job leaves behind (or `previous` supplies).

    Args:
        quick: small sizes (see `worker_config`).
        seeds: equal-work seeds per training variant.
        threads: one thread count for every framework.
        repeats: timed epochs of the tutorial config (default 10, quick 3).
        variants: a subset of VARIANTS; default all CPU variants, plus GPU twins if a GPU is
            visible to torch.
        previous: earlier bench records by variant, used as references for variants whose
            reference is not run now.
    """
    config = worker_config(quick, seeds, threads, repeats)
    done: dict[str, dict] = dict(previous or {})

    def job(name: str) -> Callable[[], dict]:
        def measure() -> dict:
            variant = VARIANTS[name]
            raw = run_worker(name, config)
            reference = done.get(variant.reference) if variant.reference else None
            record = bench_record(variant, raw, config, reference)
            done[name] = record
            return record

        return measure

    return [(f"bench-{name}", job(name)) for name in plan_variants(variants)]
