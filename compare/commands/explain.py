"""`rnn-parity explain`: why Keras and torch differ, one framework default at a time.

For the preset's RMSE study (or one experiment cell, --cell UNITS,STEPS,LAYERS,KIND), trains
Keras and torch as users write them, and torch with each factor (initialisers, one bias vs two,
Adam's epsilon value and placement, beta rounding, the sample order) switched alone to Keras's
choice, its initialisers together, and every factor at once, for --seeds seeds each. Jobs run
on the shared pool (--jobs) or a Dask cluster (--cluster) and are cached in OUT/.cache.

Writes OUT/explain-PRESET[-CELL].json (the record) and .md ("Why they differ": each factor's
effect on the mean and the spread of test RMSE with 95% intervals, its share of the gap and a
verdict); when OUT/records exists, OUT/report.md is re-rendered with the section.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from compare.jobs.cluster import add_cluster_argument
from compare.jobs.runner import run_jobs
from compare.records import run_facts, write_json
from compare.study import explain
from compare.study.experiment import check_positive


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default="tutorial", help="tutorial (default) or sliding")
    parser.add_argument(
        "--cell", metavar="UNITS,STEPS,LAYERS,KIND", help="one experiment cell, e.g. 3,6,1,simple"
    )
    parser.add_argument("--seeds", type=int, default=explain.DEFAULT_SEEDS, help="default 10")
    parser.add_argument("--epochs", type=int, help="default: the preset's (20)")
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


def write_explain(plan: explain.ExplainPlan, records: dict, out: Path, meta: dict) -> dict:
    """Write OUT/<label>.json (the record, with `meta`) and OUT/<label>.md; return the summary."""
    from compare.report.explain import explain_section, summarise_explain

    record = explain.collect(plan, records)
    record["meta"] = meta
    write_json(out / f"{plan.label}.json", record)
    summary = summarise_explain(record)
    (out / f"{plan.label}.md").write_text("\n".join(explain_section([summary])))
    return summary


def run(args: argparse.Namespace, samples: int | None = None) -> int:
    """Plan, run, record, render. `samples` shortens training (tests only)."""
    from compare.report.explain import findings

    plan = explain.plan_explain(args.preset, args.cell, args.seeds, args.epochs, samples)
    check_positive([args.jobs], "--jobs")
    out = Path(args.out)
    started = time.perf_counter()
    done = run_jobs(
        plan.jobs,
        workers=args.jobs,
        cache=out / ".cache",
        fresh=args.fresh,
        desc="explain",
        groups="variants",
        cluster=args.cluster,
    )
    meta = {
        **run_facts(),
        "jobs": args.jobs,
        "seconds": time.perf_counter() - started,
    }
    summary = write_explain(plan, done.records, out, meta)
    if (out / "records").is_dir():  # the main report gains (or refreshes) its section
        from compare.report.render import write_report

        write_report(out / "records", out)
    print("\n".join(findings(summary)))
    failed = f", {len(done.failed)} failed" if done.failed else ""
    print(
        f"{done.ran} job(s) run, {done.reused} reused{failed}; {out / plan.label}.md written "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return 0
