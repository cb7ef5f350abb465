"""The job runner's progress bar: jobs done of all, time left, groups (cells) done, the last job.

Kept apart from compare.jobs.runner so the runner reads as what it does with jobs; every measuring
command shares this bar (and `say_above_bar` for lines inside a long job).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable
from typing import Protocol


class _Grouped(Protocol):
    name: str
    group: str


class Progress:
    """The bar over `jobs`; those named in `done` (reused from the cache) count from the start.

    Args:
        jobs: every job of the run (anything with a `name` and a `group`).
        done: names of the jobs already done.
        desc: the bar's label; groups: what a job's group is called on it ("cells").
    """

    def __init__(self, jobs: list[_Grouped], done: Iterable[str], desc: str, groups: str) -> None:
        from tqdm import tqdm

        self.left = Counter(job.group for job in jobs if job.group)
        self.groups, self.label = len(self.left), groups
        done = set(done)
        self.bar = tqdm(
            total=len(jobs),
            initial=len(done),
            desc=desc,
            unit="job",
            file=sys.stderr,
            smoothing=0,  # jobs differ in size: the average rate predicts best
            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} jobs [{elapsed}<{remaining}]{postfix}",
        )
        for job in jobs:
            if job.name in done:
                self.finished(job, counted=False)

    def finished(self, job: _Grouped, counted: bool = True) -> None:
        """`job` is done: its group's count goes down, the bar names it (and counts it)."""
        if job.group:
            self.left[job.group] -= 1
        done = sum(1 for left in self.left.values() if left == 0)
        cells = f"{done}/{self.groups} {self.label} " if self.groups else ""
        self.bar.set_postfix_str(f"{cells}{job.name}", refresh=False)
        if counted:
            self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def say_above_bar(text: str) -> None:
    """One line of progress inside a long job, printed above the bar without breaking it."""
    from tqdm import tqdm

    tqdm.write(f"  {text}", file=sys.stderr)
