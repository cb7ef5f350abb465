"""`rnn-parity bench`: how fast each framework trains and runs the tutorial's model, and why.

At the tutorial's size (SimpleRNN(3) + Dense(1), 187 windows of 12 steps, batch 1) nearly all
time is framework overhead, so the study times each framework at its defaults and at its best,
against a floor with no framework at all (the catalogue is `compare.bench.variants`):

  keras_fit            Keras as the tutorial runs it (TensorFlow backend, compile defaults)
  keras_tuned          one compiled call per epoch (steps_per_execution) with XLA
  keras_torch_backend  the same Keras model and fit on Keras's torch backend
  keras_jax            the same Keras model and fit on Keras's JAX backend (the `jax` extra)
  keras_jax_tuned      keras_jax with steps_per_execution = steps per epoch
  keras_jax_scan       keras_jax_tuned with each epoch one jitted lax.scan of the train step
  lightning_default    torch_impl.fit, a Lightning Trainer as a user would set it up
  lightning_tuned      torch_impl.fit, every step of an epoch in one training_step
  torch_plain          torch_impl.fit_plain: the same steps with no Lightning
  torch_tuned          the plain loop with torch's fused Adam
  torch_compiled       the whole training step compiled by torch.compile (full study only)
  torch_compiled_tuned the same with inductor's C++ wrapper, guards skipped (full study only)
  torch_compiled_fused the tuned one with a hand-fused cell (full study only)
  numpy_train          shared.numpy_train: hand-written BPTT and Adam, the floor
  numpy_reference      the numpy forward pass (inference only)

plus a "_cuda" twin of every torch-based variant when torch sees a GPU (and then a sweep that
goes on to 1024 units, 384 time steps and batch 4096).

A variant whose package is not installed (`Variant.needs`: the JAX ones) is left out of the
rounds; its record says so, with the one command that adds it. The quick study leaves out the
variants marked `quick=False` (their start-up would push the default report past its budget).

The study is planned as jobs: first the timing rounds (`compare.bench.rounds`: R rounds, each a
fresh process per variant in a new random order, K timed epochs each; ratios formed per round
and given with Student-t 95% intervals on their logs) as one `bench_rounds` record, then one
`bench_run` record per variant from one more process: the equal-work runs (the tutorial
trained in full per seed, judged against the variant's reference) and the scaling sweep. Records go
to OUT/records/ and the report (OUT/report.md) is re-rendered from every record there.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from compare.bench.equal_work import judge_equal_work
from compare.bench.machine import machine_facts
from compare.bench.process import cuda_available, run_worker
from compare.bench.rounds import rounds_record
from compare.bench.variants import (
    CPU_VARIANTS,
    FULL_ONLY,
    GPU_SWEEP_EXTRA,
    INSTALL_COMMANDS,
    VARIANTS,
    Variant,
    WorkerConfig,
    missing_package,
)
from shared.errors import RnnParityError

# Defaults of a full run and of a quick one: (rounds, timed epochs per round's process).
# docs/speed.md says how long each takes on 2 cores.
FULL_ROUNDS, FULL_EPOCHS_PER_ROUND = 4, 5
QUICK_ROUNDS, QUICK_EPOCHS_PER_ROUND = 2, 2


def worker_config(
    quick: bool,
    seeds: int,
    threads: int = 1,
    epochs_per_round: int | None = None,
    gpu: bool = False,
    profile: bool = False,
) -> WorkerConfig:
    """The measurement sizes for a full or a `--quick` run.

    Quick: 2 timed epochs, 2 equal-work epochs, a two-point sweep per axis timed once. With a
    GPU the sweep also covers GPU_SWEEP_EXTRA (where the GPU starts to win). `profile`: each
    round's process also profiles its training (where the time goes, `compare.bench.profile`).
    """
    if threads < 1 or seeds < 0 or (epochs_per_round is not None and epochs_per_round < 1):
        raise RnnParityError(
            f"need threads >= 1, seeds >= 0, epochs per round >= 1; got {threads}, {seeds}, "
            f"{epochs_per_round}"
        )
    if not quick:
        config = WorkerConfig(
            threads=threads,
            repeats=epochs_per_round or FULL_EPOCHS_PER_ROUND,
            seeds=seeds,
            profile=profile,
        )
        if gpu:
            sweep = {axis: values + GPU_SWEEP_EXTRA[axis] for axis, values in config.sweep.items()}
            config = dataclasses.replace(config, sweep=sweep)
        return config
    return WorkerConfig(
        threads=threads,
        repeats=epochs_per_round or QUICK_EPOCHS_PER_ROUND,
        predict_repeats=10,
        seeds=seeds,
        equal_work_epochs=2,
        sweep={"batch": [1, 16], "units": [3, 16], "time_steps": [12, 24]},
        sweep_epochs=1,
        sweep_min_samples=32,
        sweep_min_steps=4,
        profile=profile,
    )


def bench_record(
    variant: Variant, raw: dict[str, Any], config: WorkerConfig, reference: dict | None
) -> dict[str, Any]:
    """One `bench_run` record (equal work, sweep) from a worker's raw result and the reference's."""
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
        **machine_facts(),
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


def not_installed_record(variant: Variant, package: str, config: WorkerConfig) -> dict[str, Any]:
    """The `bench_run` record of a variant whose package is missing (`missing_package`): no
    measurement, the package and the one command that adds it, for the report's row."""
    raw = {"not_installed": package, "install_command": INSTALL_COMMANDS[package]}
    return bench_record(variant, raw, config, None)


def plan_variants(variants: list[str] | None = None, quick: bool = False) -> list[str]:
    """The variants to run, references first: the given ones, or all CPU ones (+ GPU twins);
    a quick study's default leaves out those marked `quick=False`."""
    if variants is None:
        chosen = [name for name in CPU_VARIANTS if VARIANTS[name].quick or not quick]
        if cuda_available():
            chosen += [
                name
                for name in VARIANTS
                if name.endswith("_cuda")
                and not (quick and name.removesuffix("_cuda") in FULL_ONLY)
            ]
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
    epochs_per_round: int | None = None,
    rounds: int | None = None,
    seed: int = 0,
    variants: list[str] | None = None,
    previous: dict[str, dict] | None = None,
    progress: Callable[[str], None] | None = None,
    profile: bool = False,
) -> list[tuple[str, Callable[[], dict]]]:
    """The speed study as jobs: (record name, function making its record).

    First "bench-rounds" (the timing rounds, one `bench_rounds` record; a timing job, to run
    alone), then "bench-VARIANT" per variant (equal work and sweep, a `bench_run` record; the
    rounds' last round measures these in the same processes, after their timing). Run
    the per-variant jobs in the order given: a tuned variant's equal-work verdict needs its
    reference's record, which the earlier job leaves behind (or `previous` supplies).

    Args:
        quick: small sizes (see `worker_config`; QUICK_ROUNDS rounds).
        seeds: equal-work seeds per training variant.
        threads: one thread count for every framework.
        epochs_per_round: timed epochs in each round's process (default FULL_EPOCHS_PER_ROUND).
        rounds: rounds of the timing study (default FULL_ROUNDS, quick QUICK_ROUNDS).
        seed: seeds the rounds' random orders.
        variants: a subset of VARIANTS; default all CPU variants (a quick study: those with
            `quick`), plus GPU twins if a GPU is visible to torch. One whose package is missing
            is not timed; its job makes a `not_installed_record`.
        previous: earlier bench records by variant, used as references for variants whose
            reference is not run now.
        progress: called with a short text before each rounds process.
        profile: each round's process of a profiled variant also breaks its per-step time
            down by part (`compare.bench.profile`), after its timing.
    """
    if rounds is not None and rounds < 1:
        raise RnnParityError(f"need rounds >= 1, got {rounds}")
    chosen = plan_variants(variants, quick)
    missing = {name: missing_package(VARIANTS[name]) for name in chosen}
    timed = [name for name in chosen if missing[name] is None]
    if not timed:
        needed = sorted({package for package in missing.values() if package})
        raise RnnParityError(
            f"nothing to time: {', '.join(chosen)} need(s) {', '.join(needed)}, not installed; "
            f"add it with: {'; '.join(INSTALL_COMMANDS[package] for package in needed)}"
        )
    gpu = any(VARIANTS[name].device == "cuda" for name in chosen)
    config = worker_config(quick, seeds, threads, epochs_per_round, gpu, profile)
    extras = dataclasses.replace(config, part="extras")
    count = rounds or (QUICK_ROUNDS if quick else FULL_ROUNDS)
    # the rows a default quick study leaves to the full one, for the report to name
    left_out = [
        name
        for name in VARIANTS
        if quick
        and variants is None
        and name.removesuffix("_cuda") in FULL_ONLY
        and (name in CPU_VARIANTS or gpu)
    ]
    done: dict[str, dict] = dict(previous or {})
    extras_from_rounds: dict[str, dict] = {}  # filled by the rounds' last round

    def timing() -> dict:
        record = rounds_record(
            timed, config, count, seed, progress=progress, extras=extras_from_rounds, quick=quick
        )
        return {**record, "full_study_only": left_out}

    def job(name: str) -> Callable[[], dict]:
        def measure() -> dict:
            variant = VARIANTS[name]
            if missing[name] is not None:
                return not_installed_record(variant, missing[name], extras)
            # the rounds' last process of this variant measured it already, unless the rounds
            # did not run now (a cached bench_rounds record) or stopped early
            raw = extras_from_rounds.pop(name, None) or run_worker(name, extras)
            reference = done.get(variant.reference) if variant.reference else None
            record = bench_record(variant, raw, extras, reference)
            done[name] = record
            return record

        return measure

    return [("bench-rounds", timing), *((f"bench-{name}", job(name)) for name in chosen)]
