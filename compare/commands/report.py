"""`rnn-parity report`: the whole study, offline, on the built-in sunspots data.

Runs every measurement (forward agreement, the RMSE study over seeds for each preset with its
baselines, the training-parity runs and a speed study), writes each as a JSON record, then
renders report.md, report.json and the PNG plots from those records alone. Records are first
written to a staging folder, so a crash or Ctrl-C mid-study leaves the previous report and its
records intact; Ctrl-C ends with one line (how many records the cache kept) and status 130.
`--quick` is a smoke run; `--cluster` runs the jobs on a Dask cluster (timing stays here).
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from pathlib import Path

from compare.jobs.cluster import add_cluster_argument
from compare.jobs.runner import Job, publish, run_jobs
from compare.records import run_facts, write_record
from shared.errors import RnnParityError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="reports", help="output folder (default reports/)")
    parser.add_argument("--preset", choices=("tutorial", "sliding", "all"), default="all")
    parser.add_argument("--seeds", type=int, default=5, help="seeds per framework (default 5)")
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="override each preset's epochs (default: the preset's, 20)",
    )
    parser.add_argument(
        "--parity-epochs",
        type=int,
        default=20,
        help="epochs of the tutorial SimpleRNN's parity and users runs (default 20, the "
        "tutorial's)",
    )
    parser.add_argument(
        "--lstm-gru-epochs",
        type=int,
        default=5,
        help="epochs of the LSTM and GRU parity and users runs (default 5: enough to show their "
        "weights track from epoch to epoch; 20 for each of them would add about a minute and a "
        "half of the default report's time on 2 cores)",
    )
    parser.add_argument(
        "--gap-epochs",
        type=int,
        default=5,
        help="epochs of each one-gap-at-a-time run (default 5: the gaps reach "
        "their size within a few epochs)",
    )
    parser.add_argument("--no-parity", action="store_true", help="skip the training-parity runs")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 2 seeds, 2 epochs, parity for SimpleRNN only",
    )
    parser.add_argument(
        "--bench",
        choices=("quick", "full", "none"),
        default="quick",
        help="speed study to include: quick (default, 1.5-3 minutes on 2 cores), full (18-26 "
        "minutes; same as `rnn-parity bench`) or none",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes (default: the number of cores); 1 runs every job in this "
        "process. Timing jobs always run alone. Results do not depend on it",
    )
    add_cluster_argument(parser)
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="ignore cached records in OUT/.cache and measure everything again",
    )


def meta_record(args: argparse.Namespace) -> dict:
    return {
        "kind": "meta",
        **run_facts(),
        "quick": args.quick,
        "jobs": args.jobs,
        "cluster": args.cluster,
    }


def parity_epochs(args: argparse.Namespace, kind: str, mode: str) -> int:
    """Epochs of one training-parity row: a smoke run's 2, a gap row's, the tutorial's SimpleRNN's
    (its parity and users rows) or the LSTM and GRU rows'."""
    if args.quick:
        return 2
    if mode.startswith("gap:"):
        return args.gap_epochs
    return args.parity_epochs if kind == "simple" else args.lstm_gru_epochs


def plan(args: argparse.Namespace, cache: Path | None = None) -> list[Job]:
    """Every measurement the options ask for, in the order they run (timing jobs last).

    `cache` supplies earlier bench records as references for a partly cached speed study.
    """
    from compare.bench.cached import cached_bench_jobs
    from compare.port.agreement_rows import (
        AGREEMENT_KINDS,
        AGREEMENT_SHAPES,
        agreement_job,
        shape_agreement_job,
    )
    from compare.study import parity
    from compare.study import presets as study

    seeds = 2 if args.quick else args.seeds
    epochs = 2 if args.quick else args.epochs
    presets = ["tutorial", "sliding"] if args.preset == "all" else [args.preset]
    jobs: list[Job] = [
        Job(
            f"agreement-{label}-{dtype}",
            agreement_job,
            {"kind": kind, "reset_after": reset_after, "dtype": dtype},
        )
        for dtype in ("float32", "float64")
        for label, kind, reset_after in AGREEMENT_KINDS
    ]
    jobs += [
        Job(
            f"agreement-{shape.replace(' ', '_')}-{dtype}",
            shape_agreement_job,
            {"shape": shape, "dtype": dtype},
        )
        for dtype in ("float32", "float64")
        for shape in AGREEMENT_SHAPES
    ]
    for name in presets:
        described = study.PRESETS[name].to_dict()
        jobs += [
            Job(
                f"baseline-{name}-{baseline}",
                study.baseline_job,
                {"preset": described, "baseline": baseline},
            )
            for baseline in study.BASELINES
        ]
        jobs += [
            Job(
                f"run-{name}-{framework}-seed{seed}",
                study.training_job,
                {
                    "framework": framework,
                    # the recipe each trains with (torch: its own Adam epsilon): the cache key
                    "preset": study.users_preset(framework, study.PRESETS[name]).to_dict(),
                    "seed": seed,
                    "epochs": epochs,
                },
            )
            for seed in range(seeds)
            for framework in study.FRAMEWORKS
        ]
    if not args.no_parity:
        kinds = ("simple",) if args.quick else parity.KINDS
        modes = ("parity", "users") if args.quick else parity.MODES
        for dtype in ("float32", "float64"):
            for kind in kinds:
                # Gap-by-gap rows for the tutorial's SimpleRNN; other kinds: parity and users.
                for mode in modes if kind == "simple" else ("parity", "users"):
                    jobs.append(
                        Job(
                            f"parity-{kind}-{dtype}-{mode.replace(':', '-')}",
                            parity.parity_record,
                            {
                                "kind": kind,
                                "dtype": dtype,
                                "mode": mode,
                                "epochs": parity_epochs(args, kind, mode),
                            },
                        )
                    )
    if args.bench != "none":
        jobs += cached_bench_jobs(args.bench == "quick", cache, args.fresh)
    return jobs


def run(args: argparse.Namespace) -> int:
    from compare.report.render import terminal_summary, write_report

    if args.jobs < 1:
        raise RnnParityError(f"--jobs must be an integer >= 1, got {args.jobs}")
    out = Path(args.out)
    staging = out / ".records.staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    started = time.perf_counter()
    write_record(staging, "meta", meta_record(args))
    cache = out / ".cache"
    try:
        done = run_jobs(
            plan(args, cache),
            staging,
            workers=args.jobs,
            cache=cache,
            fresh=args.fresh,
            cluster=args.cluster,
        )
    except BaseException:  # Ctrl-C, an unreachable cluster: the cache keeps what finished
        shutil.rmtree(staging, ignore_errors=True)
        raise
    publish(staging, out / "records")
    summary = write_report(out / "records", out)
    print(terminal_summary(summary))
    print(
        f"{done.ran} job(s) run, {done.reused} reused from {cache}"
        + (f", {len(done.failed)} failed: {', '.join(done.failed)}" if done.failed else "")
    )
    print(f"report written to {out / 'report.md'} in {time.perf_counter() - started:.0f} s")
    return 0
