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
--explain then runs `rnn-parity explain` on every cell where the frameworks differ after Holm's
correction of the cells' Welch p-values, writing OUT/explain-PRESET-CELL.json and .md, and the
experiment page (and the report) gain a "Why they differ" section.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from compare.jobs.cluster import add_cluster_argument
from compare.jobs.runner import run_jobs
from compare.records import run_facts, write_json
from compare.study import experiment, explain


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
    parser.add_argument(
        "--explain",
        action="store_true",
        help="then run `explain` on each cell where Keras and torch differ after Holm's "
        "correction across the grid",
    )
    parser.add_argument(
        "--explain-seeds",
        type=int,
        default=explain.DEFAULT_SEEDS,
        help=f"seeds per explain variant (default {explain.DEFAULT_SEEDS})",
    )


def explain_differing(
    args: argparse.Namespace, summary: dict, samples: int | None = None
) -> list[str]:
    """Run `explain` on the cells that differ after Holm's correction, all their jobs in one
    pool (cached, Dask-able); write each cell's record and section; return their labels.
    `samples` shortens training (tests only)."""
    from compare.commands.explain import write_explain
    from compare.report.experiment.differ import cells_that_differ

    cells = cells_that_differ(summary)
    plans = [
        explain.plan_explain(
            args.preset,
            f"{c['units']},{c['time_steps']},{c['layers']},{c['kind']}",
            args.explain_seeds,
            args.epochs,
            samples,
        )
        for c in cells
    ]
    if not plans:
        print("explain: no cell differs after Holm's correction; nothing to explain")
        return []
    out, started = Path(args.out), time.perf_counter()
    done = run_jobs(
        [job for plan in plans for job in plan.jobs],
        workers=args.jobs,
        cache=out / ".cache",
        fresh=args.fresh,
        desc="explain",
        groups="variants",
        cluster=args.cluster,
    )
    for plan, cell in zip(plans, cells, strict=True):
        meta = {
            **run_facts(),
            "jobs": args.jobs,
            "seconds": time.perf_counter() - started,  # all cells' jobs together
            "selected_by": {"correction": "holm", **cell},
        }
        write_explain(plan, done.records, out, meta)
    print(f"explain: {', '.join(plan.label for plan in plans)} written")
    return [plan.label for plan in plans]


def run(args: argparse.Namespace) -> int:
    from compare.report.experiment.render import terminal_lines, write_experiment_report

    plan = experiment.plan_experiment(  # every input checked here, before anything trains
        args.preset, args.units, args.time_steps, args.layers, args.kind, args.seeds, args.epochs
    )
    experiment.check_positive([args.jobs], "--jobs")
    experiment.check_positive([args.explain_seeds], "--explain-seeds")
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
            **run_facts(),
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
    summary = write_experiment_report(data, out)
    if args.explain and explain_differing(args, summary):
        write_experiment_report(data, out)  # now with its "Why they differ" section
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
