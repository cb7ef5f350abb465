"""The job runner every measuring command shares: one job, one record.

A measurement is a `Job`: a name (also its record's file name) and a function that makes the
record. `report`, `bench` and the studies all plan lists of jobs and hand them here, so no room
imports another room's command module to run its work, and progress looks the same everywhere.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from compare.records import write_record


@dataclass
class Job:
    """One measurement: a name (also its record's file name) and how to make its record."""

    name: str
    measure: Callable[[], dict]


def lazy(make: Callable[[], object]) -> Callable[[], object]:
    """Compute once, on first call (data for a preset is loaded only if a job needs it)."""
    cache: list[object] = []

    def get() -> object:
        if not cache:
            cache.append(make())
        return cache[0]

    return get


def run_jobs(jobs: list[Job], staging: Path) -> None:
    """Run each job under a progress bar, writing its record into `staging`."""
    from tqdm import tqdm

    with tqdm(
        jobs,
        desc="measuring",
        unit="run",
        file=sys.stderr,
        bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}] {postfix}",
    ) as bar:
        for job in bar:
            bar.set_postfix_str(job.name)
            write_record(staging, job.name, job.measure())


def publish(staging: Path, records: Path) -> None:
    """Swap the new records folder in for the old one (the old one is removed after)."""
    old = records.with_name(records.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if records.exists():
        records.rename(old)
    staging.rename(records)
    shutil.rmtree(old, ignore_errors=True)
