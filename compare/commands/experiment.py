"""`rnn-parity experiment`: the experiments the tutorial invites, in both frameworks.

Trains every cell of a grid (hidden units x time steps x stacked layers x layer kind) in Keras
and in PyTorch Lightning with the same seeds on a preset's data steps, beside the persistence
and linear-AR baselines for each time-steps value. Jobs run in a pool of worker processes
(--jobs) and each record is cached in OUT/.cache, so running the same command again reuses
every finished run and an interrupted run resumes; --fresh measures everything again.
--cluster ADDRESS (or $RNN_PARITY_CLUSTER) runs the jobs on a Dask scheduler's workers instead,
and --cluster local on a Dask cluster of --jobs workers started here.

Writes OUT/experiment.json ("runs", "baselines"), OUT/experiment.md with a table per
time-steps value (mean ± sd per framework, Welch's p for the difference, the best baseline)
and its plots; when OUT/records exists, OUT/report.md is re-rendered with an experiment section.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

from compare.jobs.cluster import add_cluster_argument
from compare.jobs.runner import run_jobs
from compare.records import versions, write_json
from compare.study import experiment


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--preset",
        default="tutorial",
        help="data steps and training recipe: tutorial (default) or sliding",
    )
    grid = (
        ("--units", experiment.DEFAULT_UNITS, "hidden units per layer"),
        ("--time-steps", experiment.DEFAULT_TIME_STEPS, "window lengths"),
        ("--layers", experiment.DEFAULT_LAYERS, "stacked recurrent layers"),
    )
    for flag, default, what in grid:
        parser.add_argument(
            flag,
            type=int,
            nargs="+",
            default=list(default),
            metavar="N",
            help=f"{what} (default {' '.join(map(str, default))})",
        )
    parser.add_argument(
        "--kind",
        nargs="+",
        default=list(experiment.DEFAULT_KINDS),
        metavar="KIND",
        help="layer kinds among simple, lstm, gru (default simple)",
    )
    parser.add_argument("--seeds", type=int, default=experiment.DEFAULT_SEEDS, help="default 5")
    parser.add_argument("--epochs", type=int, default=experiment.DEFAULT_EPOCHS, help="default 20")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes (default: the number of cores); 1 runs in this process",
    )
    add_cluster_argument(parser)
    parser.add_argument("--out", default="reports", help="output folder (default reports/)")
    parser.add_argument(
        "--fresh", action="store_true", help="ignore cached records and train everything again"
    )


def run(args: argparse.Namespace) -> int:
    from compare.report.experiment.render import terminal_lines, write_experiment_report

    plan = experiment.plan_experiment(  # every input checked here, before anything trains
        args.preset, args.units, args.time_steps, args.layers, args.kind, args.seeds, args.epochs
    )
    experiment.check_positive([args.jobs], "--jobs")
    out = Path(args.out)
    started = time.perf_counter()
    done = run_jobs(
        plan.jobs,
        workers=args.jobs,
        cache=out / ".cache",
        fresh=args.fresh,
        desc="experiment",
        groups="cells",
        cluster=args.cluster,
    )
    data = {
        "meta": {
            "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "command": "rnn-parity " + " ".join(sys.argv[1:]),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
            "versions": versions(),
            "grid": {
                "units": args.units,
                "time_steps": args.time_steps,
                "layers": args.layers,
                "kind": args.kind,
                "seeds": args.seeds,
                "epochs": args.epochs,
            },
            "jobs": args.jobs,
            "cluster": args.cluster,
        },
        **experiment.collect(plan, done.records),
    }
    write_json(out / "experiment.json", data)
    write_experiment_report(data, out)
    if (out / "records").is_dir():  # the main report gains (or refreshes) its experiment section
        from compare.report.render import write_report

        write_report(out / "records", out)
    print("\n".join(terminal_lines(data)))
    failed = f", {len(done.failed)} failed" if done.failed else ""
    print(
        f"{done.ran} job(s) run, {done.reused} reused from {out / '.cache'}{failed}; "
        f"{out / 'experiment.md'} written in {time.perf_counter() - started:.0f} s"
    )
    return 0
