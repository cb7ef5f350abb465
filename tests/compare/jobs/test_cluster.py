"""The job runner on a Dask cluster, and Ctrl-C on both back ends, with real processes.

A real `dask scheduler` and two `dask worker` processes on 127.0.0.1 (the `dask_cluster`
fixture). test_experiment.py runs a grid on them with a worker killed mid-job and demands the
local pool's records; here: the one-line errors (unreachable scheduler, version mismatch) and
Ctrl-C sent to a whole process group, as a terminal sends it, on the local pool and on the
cluster: one line, status 130, no process left, staging removed, and the next run resumes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from compare.cli import build_parser, main
from compare.jobs import cluster
from compare.jobs.cluster import VersionMismatchError, run_task, version_mismatch
from compare.records import versions
from tests.dask_helpers import ROOT, free_port
from tests.job_gate import COMMAND, Gate, hold, wait_until

# A tiny grid: 2 cells (1 and 2 layers) x 2 frameworks x 1 seed of 1 epoch, and 2 baselines.
CELL = ["experiment", "--units", "2", "--time-steps", "6", "--epochs", "1", "--seeds", "1"]
GRID = [*CELL, "--layers", "1", "2"]
INTERRUPTED = re.compile(
    r"^rnn-parity (report|experiment): interrupted: (\d+) of (\d+) records kept; "
    r"run the same command to resume$"
)


def _one_line(text: str) -> str:
    """The only line of `text` that is not the progress bar (tqdm redraws with \\r)."""
    lines = [line for line in text.replace("\r", "\n").splitlines() if line.strip()]
    lines = [line for line in lines if "jobs [" not in line]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.slow
def test_the_flag_defaults_to_the_environment_and_unreachable_is_one_line(
    tmp_path, capsys, monkeypatch
):
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("RNN_PARITY_CLUSTER", address)
    # nothing listens there: the connection fails at any speed; 1 s only ends the retries sooner
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1)
    assert build_parser().parse_args(["report"]).cluster == address
    assert build_parser().parse_args(["experiment", "--cluster", "local"]).cluster == "local"
    assert main([*GRID, "--out", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    line = captured.err.strip()
    assert len(line.splitlines()) == 1, line  # no progress bar either: nothing ran
    assert line.startswith(
        f"rnn-parity experiment: error: cannot reach the Dask scheduler at {address}"
    )
    assert not (tmp_path / ".cache").exists()


@pytest.mark.slow
def test_version_mismatch_is_one_line_naming_the_worker(
    tmp_path, capsys, monkeypatch, dask_cluster
):
    assert version_mismatch("w", versions(), versions()) is None
    older = {**versions(), "torch": "2.0.0"}
    assert version_mismatch("w", older, versions()) == (
        f"Dask worker w has torch 2.0.0 but this client has torch {versions()['torch']}: "
        "install the same versions on every worker (the record cache is keyed by them)"
    )
    # every worker is checked on connecting, before anything runs
    monkeypatch.setattr(cluster, "versions", lambda: older)
    cli = [*GRID, "--cluster", dask_cluster.address]
    assert main([*cli, "--out", str(tmp_path)]) == 2
    line = capsys.readouterr().err.strip()
    assert len(line.splitlines()) == 1
    assert re.match(
        r"rnn-parity experiment: error: Dask worker tcp://127\.0\.0\.1:\d+ has torch ", line
    )
    assert "but this client has torch 2.0.0" in line and not (tmp_path / ".cache").exists()
    # and each task checks its own worker again (workers may join later)
    with dask_cluster.client() as client:
        future = client.submit(
            run_task, "x:y", {}, call="x:y", start="x:y", expected=older, pure=False
        )
        with pytest.raises(VersionMismatchError, match="has torch"):
            future.result(timeout=600)


@pytest.mark.slow
def test_a_worker_runs_each_clients_jobs_the_way_that_client_names(dask_cluster):
    """A worker keeps one job process; a later client naming another call must not be served
    by the child an earlier client started (a test's gated calls ran ungated after the cluster
    had served plain runs)."""
    with dask_cluster.client() as client:
        worker = sorted(client.scheduler_info()["workers"])[0]
        served = []
        for call in ("call_one_way", "call_another_way", "call_one_way"):
            future = client.submit(
                run_task,
                "job:x",
                {},
                call=f"tests.dask_helpers:{call}",
                start="tests.dask_helpers:start_nothing",
                expected=versions(),
                workers=[worker],
                pure=False,
            )
            ok, record = future.result(timeout=600)  # a hang guard: the result is timeless
            assert ok, record
            served.append(record["served_by"])
    assert served == ["call_one_way", "call_another_way", "call_one_way"]


def toy(x: int) -> dict:
    """A toy job for an in-process cluster: its record holds its argument."""
    return {"kind": "baseline", "x": x}


def lost_or_run(function: str, kwargs: dict, **_: object) -> tuple[bool, object]:
    """`run_task` on an in-process cluster: the job with x=0 is lost, the others run here.

    Lost as the scheduler reports a job that killed every worker it was given: its future
    raises KilledWorker (the scheduler's retries, which a real killed worker meets first, are
    spent).
    """
    from types import SimpleNamespace

    from distributed import KilledWorker

    from compare.jobs import runner

    if kwargs["x"] == 0:
        raise KilledWorker(("cell", "lost", "0"), SimpleNamespace(address="tcp://gone:1"), 3)
    return runner._call(function, kwargs)


def test_a_job_whose_future_raises_is_one_failed_record_counted_once(tmp_path, monkeypatch):
    from distributed import LocalCluster

    from compare.jobs.runner import Job, run_jobs

    monkeypatch.setattr(cluster, "run_task", lost_or_run)
    jobs = [Job(f"x{x}", toy, {"x": x}) for x in (1, 0, 2)]
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as local:  # inproc
        done = run_jobs(jobs, None, cache=tmp_path / "cache", cluster=local.scheduler_address)
    assert done.ran == len(jobs) and done.failed == ["x0"] and done.reused == 0
    lost = done.records["x0"]
    assert lost["kind"] == "failed_job" and lost["error"].startswith("KilledWorker: ")
    assert [done.records[name]["x"] for name in ("x1", "x2")] == [1, 2]
    assert len(list((tmp_path / "cache").glob("*.json"))) == 2  # a failure is never cached


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


# The grid's one-layer cell (4 of its 6 jobs) is measured once, here, and its cache is copied
# into each Ctrl-C test: the interrupted run then starts with records to keep. Its own two jobs
# are held (tests.job_gate) until it has been interrupted: Ctrl-C lands while they run, never
# after the grid has finished, however loaded the machine.


@pytest.fixture(scope="module")
def one_layer_cache(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("one_layer")
    assert main([*CELL, "--layers", "1", "--jobs", "1", "--out", str(out)]) == 0
    assert len(list((out / ".cache").glob("*.json"))) == 4
    return out / ".cache"


def _interrupt(
    arguments: list[str],
    out: Path,
    tmp_path: Path,
    ready: Callable[[], bool],
    gate: Gate | None = None,
) -> tuple[int, str, int]:
    """Run `rnn-parity ARGUMENTS` in a process group of its own (its pool's jobs held at
    `gate`, if given), send the group SIGINT once `ready()`, and return (exit status, its
    stderr, records in the cache). `ready` must wait for a state the run cannot leave by
    itself (jobs held at a gate): the signal then never comes too late."""
    # A child inherits an ignored or blocked SIGINT (Python then installs no handler for it):
    # the run would ignore the Ctrl-C. Name such a leak from an earlier test, here.
    assert signal.getsignal(signal.SIGINT) is not signal.SIG_IGN, "this process ignores SIGINT"
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, []), "SIGINT blocked"
    errors = tmp_path / "stderr.txt"
    program = [*COMMAND] if gate else [sys.executable, "-m", "compare.cli"]
    environment = {**_environment(), **(gate.environment() if gate else {})}
    with errors.open("w") as stderr:
        process = subprocess.Popen(
            [*program, *arguments, "--out", str(out)],
            cwd=ROOT,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
        try:

            def running_and_ready() -> bool:
                assert process.poll() is None, errors.read_text()  # it must not end unasked
                return ready()

            wait_until(running_and_ready, "the run's jobs held")
            os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group
            status = process.wait(timeout=600)
        finally:
            if process.poll() is None:  # a failure above: leave nothing running
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            if gate:
                gate.open()  # only now: a held job can finish after the run, never before

    def group_gone() -> bool:  # every process it started (workers too) has ended
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return True
        return False

    try:  # they were told to end before the run exited: a wait for that, not a race with it
        wait_until(group_gone, "processes of the interrupted run were left running", 60)
    except AssertionError:
        os.killpg(process.pid, signal.SIGKILL)
        raise
    return status, errors.read_text(), len(list((out / ".cache").glob("*.json")))


@pytest.mark.slow
def test_ctrl_c_on_the_local_pool_is_one_line_and_status_130_and_resumes(
    tmp_path, capsys, one_layer_cache
):
    out = tmp_path / "out"
    shutil.copytree(one_layer_cache, out / ".cache")
    # SIGINT reaches the pool's two workers too, each in its job, held at the gate
    gate = Gate(tmp_path / "gate")
    ready = lambda: gate.held() == 2  # noqa: E731
    status, stderr, cached = _interrupt([*GRID, "--jobs", "2"], out, tmp_path, ready, gate)
    assert status == 130 and "Traceback" not in stderr
    kind, kept, total = INTERRUPTED.match(_one_line(stderr)).groups()
    assert (kind, int(kept), int(total)) == ("experiment", 4, 6) and cached == 4
    assert main([*GRID, "--jobs", "1", "--out", str(out)]) == 0  # --jobs: not in the key
    assert "2 job(s) run, 4 reused" in capsys.readouterr().out


def test_ctrl_c_in_report_removes_its_staging_folder(tmp_path, capsys, monkeypatch):
    from compare.commands import report as command
    from compare.jobs.interrupt import Interrupted

    planned: list[int] = []

    def interrupted(jobs, staging, **options):
        assert staging.is_dir() and (staging / "meta.json").is_file()
        planned.append(len(jobs))
        raise Interrupted(3, len(jobs))

    monkeypatch.setattr(command, "run_jobs", interrupted)
    flags = ["--quick", "--no-parity", "--bench", "none", "--preset", "tutorial"]
    assert main(["report", *flags, "--out", str(tmp_path)]) == 130
    words = INTERRUPTED.match(capsys.readouterr().err.strip()).groups()
    assert words == ("report", "3", str(planned[0]))
    assert list(tmp_path.iterdir()) == []  # no staging, no records: the cache keeps the work


def _job_tasks(dask_scheduler) -> int:
    """Tasks of rnn-parity jobs the scheduler holds (keyed by tuples; a test's holds by text)."""
    return sum(isinstance(key, tuple) for key in dask_scheduler.tasks)


@pytest.mark.slow
def test_ctrl_c_on_a_cluster_cancels_its_futures_and_resumes(
    tmp_path, capsys, dask_cluster, one_layer_cache
):
    out = tmp_path / "out"
    shutil.copytree(one_layer_cache, out / ".cache")
    command = [*GRID, "--cluster", dask_cluster.address]
    gate = Gate(tmp_path / "gate")
    with dask_cluster.client() as client:
        # Each worker's one thread is held at the gate: the run's tasks wait in the scheduler,
        # and none can finish before the Ctrl-C that must cancel them.
        workers = sorted(client.scheduler_info()["workers"])
        holds = [
            client.submit(hold, str(gate.folder), key=f"hold-{n}", workers=[w], pure=False)
            for n, w in enumerate(workers)
        ]
        try:
            wait_until(lambda: gate.held() == len(workers), "every worker held")

            def tasks() -> int:
                return client.run_on_scheduler(_job_tasks)

            status, stderr, cached = _interrupt(command, out, tmp_path, lambda: tasks() > 0)
            assert status == 130 and "Traceback" not in stderr
            kind, kept, total = INTERRUPTED.match(_one_line(stderr)).groups()
            assert (kind, int(kept), int(total)) == ("experiment", 4, 6) and cached == 4
            # its futures are cancelled: the scheduler forgets them while no worker could have
            # run one (the workers are still held)
            wait_until(lambda: tasks() == 0, "the run's tasks forgotten", 60)
            assert not any(hold.done() for hold in holds)
        finally:
            gate.open()
        assert sorted(client.gather(holds)) == workers
    assert main([*command, "--out", str(out)]) == 0
    assert "2 job(s) run, 4 reused" in capsys.readouterr().out
    runs = json.loads((out / "experiment.json").read_text())["runs"]
    assert len(runs) == 4 and all(run["error"] is None for run in runs)
