"""Timing primitives of the speed study: repeated calls, epoch clocks, spreads, peak memory.

Pure standard library, so they are exercised in tests without a framework and behave the same
in every worker process.
"""

from __future__ import annotations

import math
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from compare.bench.variants import WARMUP_EPOCHS


def spread(values: list[float]) -> dict[str, float]:
    """Median, interquartile range and (max - min) / median of repeated timings.

    Quartiles are `statistics.quantiles(method="inclusive")` (numpy's default linear rule);
    with one value the IQR and the relative spread are 0.
    """
    median = statistics.median(values)
    if len(values) > 1:
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    else:
        q1 = q3 = values[0]
    return {
        "median": median,
        "iqr": q3 - q1,
        "spread_rel": (max(values) - min(values)) / median if median > 0 else math.nan,
    }


def timed_epochs(clock: list[float], warmup: int = WARMUP_EPOCHS) -> list[float]:
    """Seconds of each epoch after the first `warmup` ones, from the epoch-end marks.

    Epoch k (counting from 0) lasts clock[k] - clock[k - 1]; epoch 0 has no start mark.
    """
    return [clock[k] - clock[k - 1] for k in range(max(warmup, 1), len(clock))]


def time_calls(call: Callable[[], object], repeats: int, warmup: int = 2) -> list[float]:
    """Wall seconds of `repeats` calls, after `warmup` untimed ones."""
    for _ in range(warmup):
        call()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return seconds


def peak_rss_mb() -> float:
    """This process's own peak resident memory so far, in MiB.

    Linux's ru_maxrss survives fork and exec: a worker started by a parent holding 1.3 GB
    (`rnn-parity report`, with both frameworks loaded) reported 1337 MB for every variant. The
    kernel's VmHWM belongs to the new program image, so it is read first; ru_maxrss (KiB on
    Linux) is the fallback where /proc is missing.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # "VmHWM:   123456 kB"
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
