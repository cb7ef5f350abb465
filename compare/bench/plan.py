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

import argparse
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from compare.bench_worker import CPU_VARIANTS, VARIANTS, Variant, WorkerConfig
from shared.errors import RnnParityError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STDERR_TAIL_CHARS = 4000  # how much of a failed worker's stderr an error shows
WORKER_TIMEOUT_S = 3600.0
EQUAL_WORK_RULE = (
    "mean test RMSE within the reference variant's mean ± 2 sample sd over its seeds; "
    "runs identical to the reference seed for seed pass; one reference seed gives no spread, "
    "so only identical runs are judged"
)


class BenchError(RnnParityError):
    """A bench worker failed or returned nothing usable; the message holds its stderr tail."""


# ---------------------------------------------------------------- configuration


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


def worker_env(variant: Variant | None, threads: int) -> dict[str, str]:
    """The environment of a worker: one thread count for every framework, backend, devices.

    OMP/MKL cover torch's and numpy's pools, TF_NUM_*_THREADS TensorFlow's (read when its
    runtime starts). CPU variants see no GPU at all, so none can use one silently.
    """
    env = dict(os.environ)
    count = str(threads)
    for name in (
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "TF_NUM_INTRAOP_THREADS",
        "TF_NUM_INTEROP_THREADS",
    ):
        env[name] = count
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    if variant is not None:
        if variant.framework == "keras":
            env["KERAS_BACKEND"] = variant.backend
        if variant.device == "cpu":
            env["CUDA_VISIBLE_DEVICES"] = ""
    return env


# ---------------------------------------------------------------- running workers


def _stderr_tail(text: str | bytes | None) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    text = (text or "").strip()
    return text[-STDERR_TAIL_CHARS:] if text else "(no stderr)"


def _run_module(
    args: list[str], env: dict[str, str], what: str, timeout_s: float
) -> dict[str, Any]:
    """Run `python -m compare.bench_worker ARGS --result FILE`; return the file's JSON.

    Raises:
        BenchError: on a non-zero exit, a timeout or a missing/invalid result, with the
            worker's stderr tail.
    """
    import json

    with tempfile.TemporaryDirectory(prefix="rnn-parity-bench-") as folder:
        result = Path(folder) / "result.json"
        command = [sys.executable, "-m", "compare.bench_worker", *args, "--result", str(result)]
        try:
            completed = subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=timeout_s
            )
        except subprocess.TimeoutExpired as error:
            raise BenchError(
                f"bench worker for {what} timed out after {timeout_s:.0f} s; its stderr ends:\n"
                f"{_stderr_tail(error.stderr)}"
            ) from None
        if completed.returncode != 0:
            raise BenchError(
                f"bench worker for {what} failed (exit {completed.returncode}); its stderr "
                f"ends:\n{_stderr_tail(completed.stderr)}"
            )
        try:
            return json.loads(result.read_text())
        except (OSError, ValueError) as error:
            raise BenchError(
                f"bench worker for {what} exited 0 but left no valid result ({error}); its "
                f"stderr ends:\n{_stderr_tail(completed.stderr)}"
            ) from None


def run_worker(
    variant: str, config: WorkerConfig, timeout_s: float = WORKER_TIMEOUT_S
) -> dict[str, Any]:
    """Measure one variant in a fresh worker process; return its raw measurements.

    Raises:
        BenchError: if the worker fails (the message ends with its stderr).
    """
    start = time.perf_counter()
    raw = _run_module(
        ["--variant", variant, "--config", config.to_json()],
        worker_env(VARIANTS.get(variant), config.threads),
        repr(variant),
        timeout_s,
    )
    raw["worker_wall_s"] = time.perf_counter() - start
    return raw


def cuda_available() -> bool:
    """Whether torch sees a GPU here, asked in a throw-away process (this one stays light).

    Skips the process (about a second of torch import) where no NVIDIA device exists or
    CUDA_VISIBLE_DEVICES hides every GPU.
    """
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    if not (Path("/dev/nvidiactl").exists() or shutil.which("nvidia-smi")):
        return False
    return bool(_run_module(["--probe"], worker_env(None, 1), "the GPU probe", 300.0)["cuda"])


# ---------------------------------------------------------------- records


def _mean_sd(values: list[float]) -> tuple[float, float]:
    finite = [v for v in values if math.isfinite(v)]
    mean = statistics.fmean(finite) if finite else math.nan
    sd = statistics.stdev(finite) if len(finite) > 1 else math.nan
    return mean, sd


def judge_equal_work(
    test_rmse: list[float], reference_rmse: list[float] | None, reference_variant: str | None
) -> dict[str, Any]:
    """Does a variant reach its reference's results? See EQUAL_WORK_RULE.

    Args:
        test_rmse: the variant's test RMSE per seed (NaN for a diverged run).
        reference_rmse: the reference variant's, same seeds in the same order; None if the
            variant is its own reference or the reference was not measured.
        reference_variant: the reference's name (None for a default variant).

    Returns:
        mean, sd, reference_variant, reference mean and sd, identical_to_reference,
        max_abs_diff_to_reference, within_spread (True, False, or None when not judged), rule.
    """
    mean, sd = _mean_sd(test_rmse)
    judged: dict[str, Any] = {
        "mean": mean,
        "sd": sd,
        "reference_variant": reference_variant,
        "rule": EQUAL_WORK_RULE,
        "within_spread": None,
        "identical_to_reference": None,
        "max_abs_diff_to_reference": None,
    }
    if reference_variant is None:
        judged["note"] = "default variant: the reference of its framework"
        return judged
    if reference_rmse is None:
        judged["note"] = f"reference {reference_variant} was not measured with the same settings"
        return judged
    reference_mean, reference_sd = _mean_sd(reference_rmse)
    judged.update(reference_mean=reference_mean, reference_sd=reference_sd)
    if len(reference_rmse) != len(test_rmse) or not test_rmse:
        judged["note"] = "different seed counts: not comparable"
        return judged
    pairs = list(zip(test_rmse, reference_rmse, strict=True))
    diverged_differently = any(math.isfinite(a) != math.isfinite(b) for a, b in pairs)
    finite = [(a, b) for a, b in pairs if math.isfinite(a) and math.isfinite(b)]
    judged["identical_to_reference"] = not diverged_differently and all(a == b for a, b in finite)
    judged["max_abs_diff_to_reference"] = max((abs(a - b) for a, b in finite), default=math.nan)
    if diverged_differently or not finite:
        judged["within_spread"] = False
        judged["note"] = "a run diverged where the reference did not (or the reverse)"
    elif judged["identical_to_reference"]:
        judged["within_spread"] = True
    elif math.isfinite(reference_sd):
        judged["within_spread"] = abs(mean - reference_mean) <= 2 * reference_sd
    else:
        judged["note"] = "one reference seed: no spread to judge a different result against"
    return judged


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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="reports", help="output folder (default reports/)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 3 timed epochs, 1 seed of 2 epochs, a 2-point sweep per axis",
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="threads for every framework (default 1)"
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed epochs (default 10, quick 3)"
    )
    parser.add_argument(
        "--seeds", type=int, default=None, help="equal-work seeds (default 3, quick 1)"
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=list(VARIANTS),
        metavar="NAME",
        help=f"run only these (default: all CPU variants, GPU twins if any): {', '.join(VARIANTS)}",
    )


def _previous_records(folder: Path) -> dict[str, dict]:
    """Bench records already in `folder`, by variant (references for a partial re-run)."""
    from compare.records import read_records

    if not folder.is_dir():
        return {}
    return {r["variant"]: r for r in read_records(folder) if r["kind"] == "bench_run"}


def run(args: argparse.Namespace) -> int:
    from compare.report import write_report
    from compare.report_command import Job, run_jobs
    from compare.speed_report import terminal_table

    out = Path(args.out)
    records = out / "records"
    seeds = args.seeds if args.seeds is not None else (1 if args.quick else 3)
    previous = _previous_records(records)
    jobs = bench_jobs(
        args.quick,
        seeds,
        threads=args.threads,
        repeats=args.repeats,
        variants=args.variants,
        previous=previous,
    )
    started = time.perf_counter()
    made: list[dict] = []

    def measured(measure: Callable[[], dict]) -> Callable[[], dict]:
        def keep() -> dict:
            made.append(measure())
            return made[-1]

        return keep

    # The same progress bar as `rnn-parity report`; each record is written as soon as it exists.
    run_jobs([Job(name, measured(measure)) for name, measure in jobs], records)
    write_report(records, out)
    print(terminal_table(made))
    kept = sorted(set(previous) - {r["variant"] for r in made})
    if kept:
        print(f"earlier bench records kept in {records}: {', '.join(kept)}")
    print(
        f"{len(made)} variant(s) measured in {time.perf_counter() - started:.0f} s; "
        f"records in {records}, report {out / 'report.md'}"
    )
    return 0
