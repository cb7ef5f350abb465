"""`rnn-parity bench`: run the speed study alone, then re-render the report with its records.

The speed study itself (variants, worker processes, equal-work verdicts) lives in
`compare.bench`; this command plans its jobs, runs them with the shared job runner into
OUT/records (keeping earlier records of variants not re-run) and re-renders OUT/report.md. It
sits in the report room because it ends in the report.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from compare.bench.plan import (
    FULL_EPOCHS_PER_ROUND,
    FULL_ROUNDS,
    QUICK_EPOCHS_PER_ROUND,
    QUICK_ROUNDS,
    bench_jobs,
)
from compare.bench.variants import VARIANTS
from compare.jobs.progress import say_above_bar
from compare.jobs.runner import Job, run_jobs
from compare.records import read_records
from shared.errors import RnnParityError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="reports", help="output folder (default reports/)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_ROUNDS} rounds of {QUICK_EPOCHS_PER_ROUND} timed epochs, "
        "1 seed of 2 epochs, a 2-point sweep per axis",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help=f"timing rounds, each a fresh process per variant in a new random order "
        f"(default {FULL_ROUNDS}, quick {QUICK_ROUNDS})",
    )
    parser.add_argument(
        "--epochs-per-round",
        type=int,
        default=None,
        help=f"timed epochs in each round's process, after 2 warm-up epochs "
        f"(default {FULL_EPOCHS_PER_ROUND}, quick {QUICK_EPOCHS_PER_ROUND})",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the rounds' random orders")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads for every framework (default 1)"
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
    parser.add_argument(
        "--profile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="break each round's per-step time down by part (loop, callbacks, optimizer, "
        "data, compiled call, logging, compute) with a stack sampler, for keras_fit, "
        "keras_tuned, lightning_default, torch_plain and torch_tuned: one more training run "
        "per such process, after its timing (default: on in the full study, off with --quick)",
    )
    parser.add_argument(
        "--compare",
        nargs="+",
        metavar="REPORT_JSON",
        help="OLD_report.json: after the study, print old and new interval per ratio and "
        "whether they overlap; OLD NEW: compare two report.json files without measuring",
    )


def _compare_paths(paths: list[str] | None) -> tuple[Path, Path | None] | None:
    """(OLD, NEW or None) from --compare, checked before anything is measured."""
    if not paths:
        return None
    if len(paths) > 2:
        raise RnnParityError(f"--compare takes OLD_report.json [NEW_report.json], got {paths}")
    for path in paths:
        if not Path(path).is_file():
            raise RnnParityError(f"--compare: no such file {path}")
    return Path(paths[0]), Path(paths[1]) if len(paths) == 2 else None


def _previous_records(folder: Path) -> dict[str, dict]:
    """Bench records already in `folder`, by variant (references for a partial re-run)."""
    if not folder.is_dir():
        return {}
    return {r["variant"]: r for r in read_records(folder) if r["kind"] == "bench_run"}


def run(args: argparse.Namespace) -> int:
    from compare.report.render import write_report
    from compare.report.speed.records import speed_summary
    from compare.report.speed.render import terminal_table
    from compare.report.speed.versus import compare_reports, read_ratios

    compare = _compare_paths(args.compare)
    if compare is not None:
        read_ratios(compare[0])  # a bad OLD file fails now, not after the study
        if compare[1] is not None:
            print(compare_reports(*compare))
            return 0
    out = Path(args.out)
    records = out / "records"
    seeds = args.seeds if args.seeds is not None else (1 if args.quick else 3)
    previous = _previous_records(records)
    jobs = bench_jobs(
        args.quick,
        seeds,
        threads=args.threads,
        epochs_per_round=args.epochs_per_round,
        rounds=args.rounds,
        seed=args.seed,
        variants=args.variants,
        previous=previous,
        progress=say_above_bar,  # "round 2/4: keras_fit" before each timing process
        profile=not args.quick if args.profile is None else args.profile,
    )
    started = time.perf_counter()
    made: list[dict] = []

    def measured(measure: Callable[[], dict]) -> Callable[[], dict]:
        def keep() -> dict:
            made.append(measure())
            return made[-1]

        return keep

    # The same progress bar as `rnn-parity report`; each record is written as soon as it exists.
    # Timing jobs are exclusive (one at a time, here) and not cached: this command re-measures.
    run_jobs([Job(name, measured(measure), exclusive=True) for name, measure in jobs], records)
    write_report(records, out)
    print(terminal_table(speed_summary(made)))
    kept = sorted(set(previous) - {r.get("variant") for r in made})
    if kept:
        print(f"earlier bench records kept in {records}: {', '.join(kept)}")
    print(
        f"{len(made)} record(s) made in {time.perf_counter() - started:.0f} s; "
        f"records in {records}, report {out / 'report.md'}"
    )
    if compare is not None:
        print(f"compared with {compare[0]}:")
        print(compare_reports(compare[0], out / "report.json"))
    return 0
