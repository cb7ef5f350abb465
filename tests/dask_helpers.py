"""A real Dask cluster on 127.0.0.1 for the tests: `dask scheduler` and `dask worker` processes.

Started as a user starts them (the `dask` command line, here `python -m dask`), on ports chosen
free, each in its own session so that a Ctrl-C a test sends to a client's process group never
reaches them, and stopped at the end. The workers import the project from this checkout
(PYTHONPATH), as a cluster's workers import it from their own installation.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # no test traffic leaves this machine


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (just now)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _environment() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), path) if p)}


def _dask(*arguments: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dask", *arguments],
        cwd=ROOT,
        env=_environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: a test's SIGINT is not for it
    )


@dataclass
class DaskCluster:
    """A scheduler's address and the processes (scheduler first) that make the cluster."""

    address: str
    processes: list[subprocess.Popen] = field(default_factory=list)

    def client(self):
        """A Dask client of this cluster (the caller closes it)."""
        from distributed import Client

        return Client(self.address, timeout=30)

    def stop(self) -> None:
        """End every process group it started (workers and their job processes included)."""
        for process in reversed(self.processes):
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def start_cluster(workers: int = 2) -> DaskCluster:
    """A scheduler and `workers` single-threaded worker processes, all on 127.0.0.1.

    Returns once every worker has joined (at most a minute).
    """
    port = free_port()
    cluster = DaskCluster(f"tcp://{HOST}:{port}")
    cluster.processes.append(
        _dask("scheduler", "--host", HOST, "--port", str(port), "--no-dashboard")
    )
    for _ in range(workers):
        cluster.processes.append(
            _dask("worker", cluster.address, "--host", HOST, "--nthreads", "1", "--no-dashboard")
        )
    try:
        with cluster.client() as client:
            client.wait_for_workers(workers, timeout=60)
    except BaseException:
        cluster.stop()
        raise
    return cluster


@dataclass
class Killed:
    """What `kill_a_worker_mid_job` did: the worker's pid, the job it ran, its children."""

    pid: int = 0
    job: str = ""
    children: list[int] = field(default_factory=list)


def kill_a_worker_mid_job(
    cluster: DaskCluster, settle_s: float = 0.3
) -> tuple[threading.Thread, Killed]:
    """A started thread that SIGKILLs one worker process `settle_s` after it starts a job.

    The worker process is the nanny's child (the nanny restarts it, as on a real cluster);
    its job process (compare.jobs.process) is recorded, to check it ends with its worker.
    """
    import psutil

    killed = Killed()

    def executing(dask_worker) -> list[str]:
        return [str(task.key) for task in dask_worker.state.executing]

    def watch() -> None:
        with cluster.client() as client:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                running = {w: keys for w, keys in client.run(executing).items() if keys}
                if running:
                    worker, keys = sorted(running.items())[0]
                    time.sleep(settle_s)
                    if keys[0] in client.run(executing, workers=[worker])[worker]:  # still
                        killed.pid = client.run(os.getpid, workers=[worker])[worker]
                        children = psutil.Process(killed.pid).children(recursive=True)
                        killed.children = [child.pid for child in children]
                        os.kill(killed.pid, signal.SIGKILL)
                        killed.job = keys[0]
                        return
                time.sleep(0.2)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread, killed


def running(pid: int) -> bool:
    """Whether process `pid` still runs (a zombie, dead but not yet reaped, does not)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
