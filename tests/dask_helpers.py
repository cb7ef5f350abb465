"""A real Dask cluster on 127.0.0.1 for the tests: `dask scheduler` and `dask worker` processes.

Started as a user starts them (the `dask` command line, here `python -m dask`), on ports chosen
free, each in its own session so that a Ctrl-C a test sends to a client's process group never
reaches them, and stopped at the end. The workers import the project from this checkout
(PYTHONPATH), as a cluster's workers import it from their own installation.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from tests.job_gate import Gate, wait_until

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # no test traffic leaves this machine


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (just now)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _environment(gate: Gate) -> dict[str, str]:
    path = os.environ.get("PYTHONPATH", "")
    path = os.pathsep.join(p for p in (str(ROOT), path) if p)
    return {**os.environ, "PYTHONPATH": path, **gate.environment()}


def _dask(gate: Gate, *arguments: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dask", *arguments],
        cwd=ROOT,
        env=_environment(gate),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: a test's SIGINT is not for it
    )


@dataclass
class DaskCluster:
    """A scheduler's address, the processes (scheduler first) that make the cluster, and the
    gate where its workers hold the jobs of a run sent through tests.job_gate.gated_calls."""

    address: str
    gate: Gate
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
        shutil.rmtree(self.gate.folder, ignore_errors=True)


def start_cluster(workers: int = 2) -> DaskCluster:
    """A scheduler and `workers` single-threaded worker processes, all on 127.0.0.1.

    Returns once every worker has joined (at most a minute).
    """
    port = free_port()
    gate = Gate(Path(tempfile.mkdtemp(prefix="dask_gate_")))
    cluster = DaskCluster(f"tcp://{HOST}:{port}", gate)
    cluster.processes.append(
        _dask(gate, "scheduler", "--host", HOST, "--port", str(port), "--no-dashboard")
    )
    for _ in range(workers):
        worker = ["worker", cluster.address, "--host", HOST, "--nthreads", "1", "--no-dashboard"]
        cluster.processes.append(_dask(gate, *worker))
    try:
        with cluster.client() as client:  # a bounded wait for the workers to join: no race
            client.wait_for_workers(workers, timeout=600)
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


def kill_a_worker_mid_job(cluster: DaskCluster) -> tuple[threading.Thread, Killed]:
    """A started thread that SIGKILLs the worker process of the first job held at the cluster's
    gate, then opens the gate.

    The run must send its jobs through the gate (tests.job_gate.gated_calls): the job is then
    mid-job by construction, whatever the machine's load (a job seen "executing" may finish
    before the kill lands). The worker process is the nanny's child (the nanny restarts it, as
    on a real cluster); its job process, the one held, is recorded, to check it ends with its
    worker.
    """
    import psutil

    killed = Killed()
    cluster.gate.close()

    def watch() -> None:
        try:
            wait_until(lambda: cluster.gate.held() > 0, "a job held on the cluster")
            pid, job = sorted(cluster.gate.held_processes().items())[0]
            worker = psutil.Process(pid).parent()
            killed.children = [child.pid for child in worker.children(recursive=True)]
            os.kill(worker.pid, signal.SIGKILL)
            killed.pid, killed.job = worker.pid, job
        finally:
            cluster.gate.open()  # the killed job runs again elsewhere; the others go on

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


# ---------------------------------------------------------------- two ways to run a job


def start_nothing(threads: int) -> None:
    """A job process's start that loads nothing (the calls below import no framework)."""


def call_one_way(function: str, kwargs: dict) -> tuple[bool, dict]:
    """A job runner's call that says it ran the job."""
    return True, {"served_by": "call_one_way", "function": function}


def call_another_way(function: str, kwargs: dict) -> tuple[bool, dict]:
    """Another call, as a later client of the same cluster may name one."""
    return True, {"served_by": "call_another_way", "function": function}
