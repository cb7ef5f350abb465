"""Ctrl-C for the job runner: one line, status 130, no worker left behind, the cache to resume.

A terminal sends SIGINT to its whole process group: to the client and to every worker process
it started (the local pool's, or a `--cluster local` cluster's). Workers that each raise their
own KeyboardInterrupt print tracebacks over the progress bar and may die mid-write, while the
client waits on them. So only the client handles Ctrl-C: workers are started with SIGINT
blocked (`children_ignore_interrupts`; a blocked signal is inherited through fork and exec and
never delivered; a `--cluster local` worker, whose nanny may start it from any thread, ignores
it through the Dask preload `dask_setup`), the client stops them itself (`stop_pool`, or
cancelling its futures and closing the cluster), and
`compare.jobs.run_jobs` turns the KeyboardInterrupt into `Interrupted`, which counts the
records the cache keeps for the next run; `compare.cli.main` prints it and returns 130.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

EXIT_STATUS = 130  # 128 + SIGINT: what a shell reports for a command stopped by Ctrl-C


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a run of jobs; its text is the one line the user sees.

    A KeyboardInterrupt still, so every `finally` and `except BaseException` on the way up
    cleans up as it would for Ctrl-C (a command removes its staging folder).

    Attributes:
        kept: records in the cache that the same command will reuse.
        total: jobs in the run.
        fresh: the run ignored the cache (`--fresh`): the same command would not reuse them.
    """

    def __init__(self, kept: int, total: int, fresh: bool = False) -> None:
        super().__init__(kept, total, fresh)
        self.kept, self.total, self.fresh = kept, total, fresh

    def __str__(self) -> str:
        again = "the same command without --fresh" if self.fresh else "the same command"
        return f"interrupted: {self.kept} of {self.total} records kept; run {again} to resume"


@contextmanager
def children_ignore_interrupts() -> Iterator[None]:
    """Block SIGINT in this thread while worker processes (and threads) are started.

    Processes forked here inherit the blocked signal, so Ctrl-C reaches only the client. A
    SIGINT that arrives meanwhile is held, not lost: it is delivered (as KeyboardInterrupt) as
    soon as the block is lifted on the way out.
    """
    if not hasattr(signal, "pthread_sigmask"):  # not POSIX: workers see Ctrl-C as before
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Drop the pool's queued jobs and end its worker processes now, mid-job if need be.

    `shutdown(cancel_futures=True)` alone lets every running job finish first (minutes of
    training after Ctrl-C); what a stopped job had done is lost anyway, as the cache keeps only
    finished records. Python 3.14 has `terminate_workers()` for this; 3.11 only the pool's
    table of processes.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=10)


def dask_setup(worker: object) -> None:
    """Dask preload hook (`preload=["compare.jobs.interrupt"]`): this worker process ignores SIGINT.

    For the workers of `--cluster local`, which share the client's process group: without it
    each prints its own KeyboardInterrupt traceback while the client closes the cluster.
    """
    if threading.current_thread() is threading.main_thread():  # signal.signal's rule
        signal.signal(signal.SIGINT, signal.SIG_IGN)
