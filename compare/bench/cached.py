"""The speed study as the report's jobs: exclusive (run alone, after the rest), cached per machine.

`rnn-parity report` plans its speed rows here; `rnn-parity bench` plans its own, uncached.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from compare.bench.plan import bench_jobs, plan_variants
from compare.bench.stats import METHOD
from compare.bench.variants import VARIANTS, missing_package
from compare.jobs.progress import say_above_bar
from compare.jobs.runner import Job, cached


def cached_bench_jobs(quick: bool, cache: Path | None, fresh: bool) -> list[Job]:
    """The speed study as exclusive jobs (run alone, after the rest), cached per machine.

    A timing belongs to its machine, so the cache key names the machine beside the sizes.
    Cached references are handed to `bench_jobs`, so a tuned variant run now is judged
    against its default variant's cached record.
    """
    seeds = 1 if quick else 3
    # What can run here: installing a variant's package (JAX) must re-time the rounds, which
    # then hold its row, and replace its "not installed" record.
    planned = plan_variants(None, quick)
    missing = {name for name in planned if missing_package(VARIANTS[name])}
    profile = not quick  # the full study breaks the per-step time down (bench --profile)

    def key(name: str) -> dict:
        found = {
            "bench": name,
            "quick": quick,
            "seeds": seeds,
            "threads": 1,
            "stats": METHOD,  # a record summarised another way is not reused
            "machine": f"{platform.machine()} {platform.processor()} {os.cpu_count()} cores",
        }
        variant = VARIANTS.get(name.removeprefix("bench-"))
        if name == "bench-rounds":
            found["variants"] = [n for n in planned if n not in missing]
        elif variant is not None and variant.needs:
            found["installed"] = variant.name not in missing
        return {**found, "profile": True} if profile else found  # quick keys stay as they were

    names = [name for name, _ in bench_jobs(quick, seeds)]
    previous = {}
    for name in names if not fresh else ():
        record = cached(Job(name, no_measure, exclusive=True, key=key(name)), cache)
        if record is not None and record["kind"] == "bench_run":
            previous[record["variant"]] = record
    return [
        Job(name, measure, exclusive=True, key=key(name))
        for name, measure in bench_jobs(
            quick, seeds, previous=previous, progress=say_above_bar, profile=profile
        )
    ]


def no_measure() -> dict:
    """Stands in for a bench job's measurement when only its cache key is needed."""
    raise AssertionError("only looked up in the cache, never run")
