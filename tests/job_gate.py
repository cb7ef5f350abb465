"""Jobs held at a gate the test opens: to interrupt a run of jobs at a point the test controls.

Sending Ctrl-C "once the workers exist" races the jobs: a small grid can finish before the
signal lands, and the run then exits 0 where the test expects 130. So the tests hold the jobs
instead. A held job leaves a file in the gate's folder ("I'm running") and waits for the
test's go-ahead, the file `go` there; the test sends Ctrl-C once every job it expects is held,
and opens the gate only after the run has ended. No job can finish first, whatever the load.

- `main` runs `rnn-parity` with every job of the local pool (and of `--jobs 1`) held: the
  pool's `_call` is replaced by `held_call`, which a spawned worker finds by its import path.
- `hold` is a Dask task that occupies one worker thread at the gate, so that a client's tasks
  wait in the scheduler until the test lets the worker go.
- `gated_calls` sends a cluster's jobs through `held_call` too, in each worker's job process
  (tests.dask_helpers gives a cluster's workers a gate): a worker killed while its job is
  held is killed mid-job, however fast the job would have been.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from compare.jobs import runner

GATE = "RNN_PARITY_TEST_GATE"  # the environment variable naming the gate's folder
_call = runner._call  # the runner's own, kept before `main` replaces it


class Gate:
    """A folder where held jobs say that they run and wait for the file `go`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def environment(self) -> dict[str, str]:
        """Variables for a process (and the workers it starts) whose jobs this gate holds."""
        return {GATE: str(self.folder)}

    def held(self) -> int:
        """Jobs (or Dask worker threads) waiting at the gate now."""
        return len(list(self.folder.glob("held.*")))

    def held_processes(self) -> dict[int, str]:
        """{process id: the job it holds} of each job `held_call` holds at the gate."""
        return {int(f.name.split(".")[1]): f.read_text() for f in self.folder.glob("held.*")}

    def open(self) -> None:
        """Let every held job go on (and any that comes later)."""
        (self.folder / "go").touch()

    def close(self) -> None:
        """Hold every job that comes from now on (a gate used before is emptied)."""
        for file in self.folder.iterdir():
            file.unlink()


def _wait_at(folder: Path, name: str, what: str = "") -> None:
    """Say that a job runs (file `held.NAME`, holding `what`), then wait until the test opens
    the gate.

    The poll waits for the test's own file, not for time to pass: a job behind this gate
    cannot finish before the test says so, however slow or fast the machine.
    """
    (folder / f".{name}.tmp").write_text(what)
    (folder / f".{name}.tmp").rename(folder / f"held.{name}")  # seen whole, never half written
    while not (folder / "go").exists():
        time.sleep(0.05)


def held_call(function: str | Callable[..., dict], kwargs: dict[str, Any]) -> tuple[bool, Any]:
    """The runner's `_call`, run once the gate named by $RNN_PARITY_TEST_GATE is open."""
    what = f"{function} {json.dumps(kwargs, sort_keys=True)[:200]}"
    _wait_at(Path(os.environ[GATE]), str(os.getpid()), what)
    return _call(function, kwargs)


def gated_calls(monkeypatch: Any) -> None:
    """Send the jobs of every cluster run (in this process) through `held_call`.

    A cluster's worker runs `call` in its job process, whose environment is the worker's: the
    gate is the one tests.dask_helpers gave that cluster.
    """
    real = runner.run_on_cluster

    def through_the_gate(client: Any, tasks: Any, call: str, start: str, finish: Any) -> None:
        real(client, tasks, f"{__name__}:held_call", start, finish)

    monkeypatch.setattr(runner, "run_on_cluster", through_the_gate)


def hold(folder: str) -> str:
    """A Dask task: hold this worker's thread at the gate in `folder`; its worker's address."""
    from distributed import get_worker

    address = get_worker().address
    _wait_at(Path(folder), address.rpartition(":")[2])  # the port: one file per worker
    return address


def main(argv: list[str]) -> int:
    """`rnn-parity ARGV` with each job of the local pool held at the gate ($RNN_PARITY_TEST_GATE).

    Run as `python -c "import sys; from tests.job_gate import main; sys.exit(main(sys.argv[1:]))"`
    (see `COMMAND`): with `-m`, `held_call` would belong to `__main__` and a spawned worker
    would look it up there.
    """
    from compare.cli import main as cli

    runner._call = held_call  # the pool submits runner._call: the workers get held_call
    return cli(argv)


COMMAND = [
    sys.executable,
    "-c",
    "import sys; from tests.job_gate import main; sys.exit(main(sys.argv[1:]))",
]


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 600) -> None:
    """Poll `condition` every 0.1 s until it holds.

    Only for a condition that cannot pass by unseen (jobs held at a gate, tasks that a
    finished client dropped): the wait cannot race, and `timeout_s` only turns a hang into a
    failure that names `what`.
    """
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s:.0f} s"
        time.sleep(0.1)
