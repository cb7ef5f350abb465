"""The job runner every measuring command shares: one job, one record, run in a pool, cached.

A measurement is a `Job`: a name (its record's file name), an importable function given as
"module:function" (or the top-level function itself) and JSON-able keyword arguments. Because a
job is described by data, not by a closure, it can run in a worker process: `run_jobs` hands
the jobs to a pool of `workers` processes started with `spawn` (TensorFlow and torch are not
fork-safe), or runs them in this process when `workers` is 1 (simple to test and debug), or
sends them to a Dask cluster (`cluster`, see compare.jobs.cluster); this process alone writes
records.

Each record is cached under a hash of everything that determines it (see `cache_key`), written
atomically, so the same command again reuses what exists and an interrupted run resumes where
it stopped. Exclusive jobs (timing) never run beside another job: they run here, one at a time,
after the pool has drained, and may be closures (they are cached only when given a `key`).
A job that raises becomes a `failed_job` record carrying the error's first line, and the run
goes on. Ctrl-C stops every worker and raises `compare.jobs.interrupt.Interrupted`, which counts
the records kept for the next run. `report`, `bench` and `experiment` plan jobs and hand them here.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import multiprocessing
import os
import shutil
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compare.jobs.cluster import Task, connected, run_on_cluster
from compare.jobs.interrupt import Interrupted, children_ignore_interrupts, stop_pool
from compare.jobs.progress import Progress
from compare.records import (
    CACHE_FORMAT,
    RECORD_KINDS,
    first_line,
    json_round_trip,
    read_cached,
    versions,
    write_json,
    write_record,
)


def function_path(function: str | Callable[..., dict]) -> str | None:
    """ "module:qualname" of an importable top-level function; None for closures and lambdas."""
    if isinstance(function, str):
        module, _, name = function.partition(":")
        return function if module and name else None
    module, name = getattr(function, "__module__", None), getattr(function, "__qualname__", "")
    if not module or "<" in name:
        return None
    try:
        found = _resolve(f"{module}:{name}")
    except (ImportError, AttributeError):
        return None
    return f"{module}:{name}" if found is function else None


def _resolve(path: str) -> Callable[..., dict]:
    module, _, name = path.partition(":")
    target: Any = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    return target


@dataclass(frozen=True)
class Job:
    """One measurement, described by data so that a worker process can run it.

    Attributes:
        name: the record's file name (unique within a run).
        function: "module:function" or an importable top-level function returning a record; a
            closure only when `exclusive` (it then runs in this process).
        kwargs: JSON-able keyword arguments of `function`.
        exclusive: run alone, after every other job, in this process (timing jobs).
        key: what determines the record, hashed in place of function and kwargs (for
            closures, whose code no path names); a closure without one is never cached.
        group: jobs that share a group (an experiment cell) are counted together on the bar.
    """

    name: str
    function: str | Callable[..., dict]
    kwargs: dict[str, Any] = field(default_factory=dict)
    exclusive: bool = False
    key: dict[str, Any] | None = None
    group: str = ""

    def __post_init__(self) -> None:
        if function_path(self.function) is None and not (
            self.exclusive and callable(self.function)
        ):
            raise ValueError(
                f"job {self.name!r}: function must be 'module:function' or an importable "
                f"top-level function (closures only for exclusive jobs), got {self.function!r}"
            )
        json.dumps([self.kwargs, self.key])  # a TypeError here names what is not JSON-able


def cache_key(job: Job) -> tuple[str, dict[str, Any]] | None:
    """(hash, what was hashed) for `job`, or None when it cannot be cached.

    The hash covers the function's import path, its keyword arguments (configs and seeds), the
    versions of Python, numpy, scikit-learn, TensorFlow, Keras, torch, Lightning and of
    rnn-parity itself, and the cache format. Not the job's name, nor the number of workers:
    a record depends on neither.
    """
    path = function_path(job.function)
    if path is None and job.key is None:
        return None
    source = {
        "format": CACHE_FORMAT,
        "function": path if job.key is None else f"keyed:{job.name}",
        "kwargs": job.kwargs if job.key is None else job.key,
        "versions": versions(),
    }
    text = json.dumps(source, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32], source


def cached(job: Job, folder: Path | None) -> dict[str, Any] | None:
    """The record `job` left in the cache `folder`, or None."""
    key = cache_key(job) if folder is not None else None
    return read_cached(folder / f"{key[0]}.json") if key else None


def _call(function: str | Callable[..., dict], kwargs: dict[str, Any]) -> tuple[bool, Any]:
    """(True, record as JSON reads it back) or (False, the error's first line)."""
    try:
        target = _resolve(function) if isinstance(function, str) else function
        record = target(**kwargs)
        if not isinstance(record, dict) or record.get("kind") not in RECORD_KINDS:
            raise TypeError(f"returned no record (kind must be one of {RECORD_KINDS})")
        return True, json_round_trip(record)
    except Exception as error:  # recorded as a failed job; the run goes on
        return False, first_line(error)


def _worker_start(threads: int) -> None:
    """Each worker: `threads` threads per framework, both frameworks loaded (torch first)."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        os.environ[name] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    from compare import frameworks

    frameworks.torch_impl()
    import torch

    torch.set_num_threads(threads)
    frameworks.keras_impl()


@dataclass
class JobsRun:
    """What a run of jobs gave: every record by job name (in plan order) and what it cost."""

    records: dict[str, dict[str, Any]]
    ran: int = 0
    reused: int = 0
    failed: list[str] = field(default_factory=list)


def run_jobs(
    jobs: list[Job],
    staging: Path | None = None,
    *,
    workers: int = 1,
    cache: Path | None = None,
    fresh: bool = False,
    desc: str = "measuring",
    groups: str = "cells",
    cluster: str | None = None,
) -> JobsRun:
    """Run `jobs` (cached records reused), writing each record into `staging` as it arrives.

    Args:
        jobs: the plan; names must be unique.
        staging: folder for `NAME.json` records (None: keep them in memory only).
        workers: worker processes for the non-exclusive jobs; 1 runs them in this process.
        cache: folder of cached records (`HASH.json`); None caches nothing.
        fresh: ignore cached records (new ones are still written).
        desc: the progress bar's label; groups: what a job's group is called on it.
        cluster: a Dask scheduler's address, or "local" (a cluster of `workers` processes),
            for the non-exclusive jobs; None: the local pool.

    Raises:
        Interrupted: on Ctrl-C, once every worker is stopped (finished records are cached).
        RnnParityError: the cluster cannot be reached or its workers' versions differ.
    """
    names = Counter(job.name for job in jobs)
    if any(count > 1 for count in names.values()):
        raise ValueError(f"job names repeat: {sorted(n for n, c in names.items() if c > 1)}")
    result = JobsRun({})
    done: dict[str, dict[str, Any]] = {}
    pending: list[Job] = []
    for job in jobs:
        record = None if fresh else cached(job, cache)
        if record is None:
            pending.append(job)
        else:
            done[job.name] = record
            if staging is not None:
                write_record(staging, job.name, record)
    result.reused = len(done)
    progress: Progress | None = None  # shown once a cluster is reached

    def finish(job: Job, ok: bool, outcome: Any) -> None:
        key = cache_key(job) if cache is not None else None
        if ok and key and "error" not in outcome:  # errors may be passing: never cached
            write_json(cache / f"{key[0]}.json", {"job": key[1], "record": outcome})
        record = outcome if ok else _failed_record(job, outcome)
        if not ok:
            result.failed.append(job.name)
        done[job.name] = record
        if staging is not None:
            write_record(staging, job.name, record)
        result.ran += 1
        if progress is not None:
            progress.finished(job)

    shared = [job for job in pending if not job.exclusive]
    try:
        with connected(cluster, workers) if cluster and shared else nullcontext() as client:
            progress = Progress(jobs, done, desc, groups)  # after a one-line "cannot reach"
            if client is not None:
                _run_cluster(client, shared, finish)
            elif workers > 1 and shared:
                _run_pool(shared, min(workers, len(shared)), finish)
            else:  # jobs import what they use themselves, through compare.frameworks
                for job in shared:
                    finish(job, *_call(job.function, job.kwargs))
        for job in pending:  # alone: a local cluster is closed by now
            if job.exclusive:
                finish(job, *_call(job.function, job.kwargs))
    except KeyboardInterrupt:
        kept = sum(cached(job, cache) is not None for job in jobs) if cache else 0
        raise Interrupted(kept, len(jobs), fresh) from None
    finally:
        if progress is not None:
            progress.close()
    result.records = {job.name: done[job.name] for job in jobs}
    return result


def _run_pool(jobs: list[Job], workers: int, finish: Callable[[Job, bool, Any], None]) -> None:
    """Run `jobs` in `workers` spawned processes; each outcome is finished as it arrives."""
    threads = max(1, (os.cpu_count() or 1) // workers)
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_worker_start, initargs=(threads,)
    )
    try:
        with children_ignore_interrupts():  # submitting starts the workers: Ctrl-C is ours
            futures: dict[Future, Job] = {
                pool.submit(_call, function_path(job.function), job.kwargs): job for job in jobs
            }
        for future in as_completed(futures):
            try:
                ok, outcome = future.result()
            except Exception as error:  # the worker itself died (e.g. killed for memory)
                ok, outcome = False, first_line(error)
            finish(futures[future], ok, outcome)
    except BaseException:  # Ctrl-C: stop every worker now; finished records are cached
        stop_pool(pool)
        raise
    pool.shutdown(wait=True)


def _run_cluster(client: Any, jobs: list[Job], finish: Callable[[Job, bool, Any], None]) -> None:
    """Run `jobs` on a Dask cluster, keyed by group, name and cache hash."""
    tasks = [
        Task(
            (job.group or job.name, job.name, cache_key(job)[0]),
            function_path(job.function),
            job.kwargs,
        )
        for job in jobs
    ]
    run_on_cluster(
        client,
        tasks,
        f"{__name__}:_call",
        f"{__name__}:_worker_start",
        lambda index, ok, outcome: finish(jobs[index], ok, outcome),
    )


def _failed_record(job: Job, error: str) -> dict[str, Any]:
    """The record of a job that raised: what it was asked to do and the error's first line."""
    return {
        "kind": "failed_job",
        "name": job.name,
        "function": function_path(job.function) or job.name,
        "kwargs": job.kwargs,
        "error": error,
    }


def publish(staging: Path, records: Path) -> None:
    """Swap the new records folder in for the old one (the old one is removed after)."""
    old = records.with_name(records.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if records.exists():
        records.rename(old)
    staging.rename(records)
    shutil.rmtree(old, ignore_errors=True)
