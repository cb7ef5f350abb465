"""The job runner's Dask back end: the same jobs on a cluster, with this process the only writer.

`--cluster ADDRESS` (or RNN_PARITY_CLUSTER) sends the pool's jobs to a running Dask scheduler
(`tcp://host:8786`); `--cluster local` starts a `LocalCluster` of `--jobs` worker processes
here. A job is data (a function path and JSON-able arguments), so a worker needs the project
installed, never a shared folder: it returns the record, and `compare.jobs.run_jobs` writes and
caches it here, under the same keys as the local pool.

What a cluster adds, handled here:
- A scheduler that cannot be reached, or has no workers, is one line naming its address,
  before any job runs.
- The cache key holds the frameworks' versions, so a worker whose versions differ from this
  client's would poison the cache: every worker is checked on connecting, and each task checks
  its own worker again (workers may join later); a mismatch stops the run with one line.
- A worker that dies mid-job (killed, out of memory) costs only its job: the scheduler runs it
  again elsewhere; a job that kills every worker it is given becomes a failed record.
- Each worker runs its jobs one at a time in a child process that loads the frameworks once,
  pinned to the worker's Dask thread count (`--nthreads`; 1 for `--cluster local`), as a local
  pool worker does (compare.jobs.process says why not in the worker itself).
- Ctrl-C cancels every future and closes the client (and the local cluster); see
  compare.jobs.interrupt.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from compare.jobs.interrupt import children_ignore_interrupts
from compare.jobs.process import JobProcess, JobProcessDiedError
from compare.records import first_line, versions
from shared.errors import RnnParityError

CONNECT_TIMEOUT_S = 10  # a reachable scheduler answers in well under a second
WORKERS_TIMEOUT_S = 60  # for the first worker to join (a worker starting up, say)
ENVIRONMENT = "RNN_PARITY_CLUSTER"


def add_cluster_argument(parser: argparse.ArgumentParser) -> None:
    """`--cluster ADDRESS|local`, defaulting to $RNN_PARITY_CLUSTER (unset: the local pool)."""
    parser.add_argument(
        "--cluster",
        default=os.environ.get(ENVIRONMENT) or None,
        metavar="ADDRESS|local",
        help="run the jobs on a Dask scheduler (tcp://host:8786), or on a local Dask cluster "
        f"of --jobs workers ('local'); default ${ENVIRONMENT}, else the local process pool. "
        "Timing jobs always run here, alone",
    )


class VersionMismatchError(RnnParityError):
    """A worker's frameworks differ from this client's (records would be cached wrongly)."""


def version_mismatch(worker: str, found: dict[str, str], expected: dict[str, str]) -> str | None:
    """The one-line complaint about `worker`'s versions, or None when they match this client's."""
    differ = sorted(name for name in expected if found.get(name) != expected[name])
    if not differ:
        return None
    theirs = ", ".join(f"{name} {found.get(name, 'missing')}" for name in differ)
    ours = ", ".join(f"{name} {expected[name]}" for name in differ)
    return (
        f"Dask worker {worker} has {theirs} but this client has {ours}: install the same "
        "versions on every worker (the record cache is keyed by them)"
    )


@dataclass(frozen=True)
class Task:
    """One job as the cluster sees it.

    Attributes:
        key: the Dask key: the job's group (its experiment cell), name and cache hash, so the
            scheduler's dashboard shows which cell runs, and two clients asking for the same
            record share one computation.
        function: "module:function".
        kwargs: its JSON-able keyword arguments.
    """

    key: tuple[str, str, str]
    function: str
    kwargs: dict[str, Any]


# ---------------------------------------------------------------- in each worker process

_ONE_JOB_AT_A_TIME = threading.Lock()  # a worker with --nthreads N still trains one at a time
_job_process: list[JobProcess] = []  # this worker's child for jobs, once started


def worker_versions() -> dict[str, str]:
    """The versions this worker process would cache records under."""
    return versions()


def run_task(
    function: str, kwargs: dict[str, Any], *, call: str, start: str, expected: dict[str, str]
) -> tuple[bool, Any]:
    """Run one job from a Dask worker: check versions, then run it in the worker's job process.

    Args:
        function, kwargs: the job.
        call: "module:function" running a job, returning (True, record) or (False, the
            error's first line).
        start: "module:function" loading both frameworks with a number of threads each (the
            worker's Dask thread count).
        expected: the client's versions.

    Raises:
        VersionMismatchError: this worker's versions differ from the client's.
    """
    from distributed import get_worker

    worker = get_worker()
    complaint = version_mismatch(worker.address, worker_versions(), expected)
    if complaint:
        raise VersionMismatchError(complaint)
    with _ONE_JOB_AT_A_TIME:
        if _job_process and _job_process[0].serves != (start, call):
            # a later client runs its jobs through another call: the child started for an
            # earlier one would run them the earlier way, so it gives way to a new one
            _job_process.pop().close()
        if not _job_process:
            _job_process.append(JobProcess(start, call, worker.state.nthreads))
        try:
            return _job_process[0].run(function, kwargs)
        except JobProcessDiedError as error:  # as a dead pool worker: a failed record
            _job_process.pop().close()
            return False, first_line(error)


# ---------------------------------------------------------------- in the client


def _start(address: str, workers: int) -> tuple[Any, Any]:
    """(local cluster or None, client) for `address`; one line naming it if unreachable."""
    from distributed import Client, LocalCluster

    try:
        if address == "local":
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                preload=["compare.jobs.interrupt"],  # its workers leave Ctrl-C to the client
                silence_logs=logging.CRITICAL,  # closing logs heartbeat tracebacks; a
                # job's own errors come back as failed records
            )
            return cluster, Client(cluster)
        return None, Client(address, timeout=CONNECT_TIMEOUT_S)
    except Exception as error:  # OSError (timed out, refused), ValueError (not an address)
        raise RnnParityError(
            f"cannot reach the Dask scheduler at {address}: {first_line(error)}"
        ) from None


def _check_workers(client: Any, address: str) -> None:
    """Wait for a worker; every worker must import the project with this client's versions."""
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
    except TimeoutError:
        raise RnnParityError(
            f"the Dask scheduler at {address} has no workers (none joined in "
            f"{WORKERS_TIMEOUT_S} s): start one with `dask worker {address}`"
        ) from None
    expected = versions()
    for worker, found in sorted(client.run(worker_versions, on_error="return").items()):
        if isinstance(found, BaseException):
            raise RnnParityError(
                f"Dask worker {worker} cannot run rnn-parity jobs ({first_line(found)}): "
                "install the project on every worker"
            )
        complaint = version_mismatch(worker, found, expected)
        if complaint:
            raise VersionMismatchError(complaint)


@contextmanager
def connected(address: str, workers: int) -> Iterator[Any]:
    """A Dask client for `address` ("local": a new LocalCluster of `workers` processes),
    its workers checked; closed (and the local cluster with it) on the way out."""
    cluster = client = None
    try:
        with children_ignore_interrupts():  # the local cluster's workers leave Ctrl-C to us
            cluster, client = _start(address, workers)
        _check_workers(client, address)
        yield client
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def run_on_cluster(
    client: Any,
    tasks: list[Task],
    call: str,
    start: str,
    finish: Callable[[int, bool, Any], None],
) -> None:
    """Run `tasks` on the cluster of `client`; each outcome is finished here as it arrives.

    Args:
        client: from `connected`.
        tasks: the jobs, sent in one batch.
        call, start: as for `run_task`.
        finish: called with (index in `tasks`, ok, record or error line), in this process.

    Raises:
        VersionMismatchError: a worker's versions differ from this client's.
    """
    from distributed import as_completed

    futures = client.map(
        run_task,
        [task.function for task in tasks],
        [task.kwargs for task in tasks],
        key=[task.key for task in tasks],
        pure=False,
        call=call,
        start=start,
        expected=versions(),
    )
    index = {future.key: number for number, future in enumerate(futures)}
    try:
        for future in as_completed(futures):
            try:
                ok, outcome = future.result()
            except VersionMismatchError:
                raise
            except Exception as error:  # KilledWorker: the job took down every worker
                ok, outcome = False, first_line(error)
            finish(index[future.key], ok, outcome)
    except BaseException:  # Ctrl-C or a mismatch: nothing more may run for this client
        client.cancel(futures)
        raise
