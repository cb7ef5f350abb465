"""The process a Dask worker runs its jobs in: the frameworks loaded once, nothing else running.

Why not in the Dask worker itself: Keras draws the seed of every unseeded initializer from
Python's global `random` (`keras.random.make_default_seed`), and a Dask worker's own threads
draw from that same generator while a task runs (measured: its state moves within 3 s of an
idle task). A job seeded by `keras.utils.set_random_seed` would then start from other weights
than in the local pool, from run to run. So each Dask worker hands its jobs, one at a time, to a
child process of its own that runs them in its main thread as a local pool worker does (the
same start and call functions, so the same records), and reads the outcome back: JSON lines
over a pair of pipes, since jobs and records are JSON. The child is started on the worker's
first job and kept; it ends when its worker does (it watches its parent). It runs in a process
group of its own, so Ctrl-C at a terminal that started the client (and a `--cluster local`
cluster) never interrupts a job halfway through an import: the client cancels, the worker goes,
and the child follows it.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

CHILD = "import sys; from compare.jobs.process import serve; serve(*sys.argv[1:])"


class JobProcessDiedError(RuntimeError):
    """The job process ended mid-job (killed, out of memory): the job gets a failed record."""


def _resolve(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _watch_parent(parent: int) -> None:
    """End this process as soon as its Dask worker is gone (killed mid-job, say)."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


def serve(start: str, call: str, threads: str, requests: str, replies: str, parent: str) -> None:
    """The job process's main: load the frameworks, then answer one job per line until EOF.

    Args:
        start: "module:function" loading both frameworks with `threads` threads each.
        call: "module:function" running a job: (function, kwargs) -> (ok, record or error).
        threads: threads per framework, as text (these arrive as command-line arguments).
        requests, replies: file descriptors of the pipes from and to the worker.
        parent: the worker's process id.
    """
    threading.Thread(target=_watch_parent, args=(int(parent),), daemon=True).start()
    _resolve(start)(int(threads))
    run = _resolve(call)
    try:
        with os.fdopen(int(requests)) as incoming, os.fdopen(int(replies), "w") as outgoing:
            for line in incoming:  # EOF: the worker closed the pipe (or died)
                function, kwargs = json.loads(line)
                outgoing.write(json.dumps(run(function, kwargs)) + "\n")
                outgoing.flush()
    except BrokenPipeError:  # the worker went mid-job (its run was cancelled): nothing to say
        os._exit(0)


class JobProcess:
    """A worker's child process for jobs (see the module docstring); one job at a time.

    Args:
        start, call: as for `serve`.
        threads: threads per framework in the child.
    """

    def __init__(self, start: str, call: str, threads: int) -> None:
        self.serves = (start, call)  # what the child was started to run, as the client named it
        child_requests, self._requests = os.pipe()  # (read end, write end)
        self._replies, child_replies = os.pipe()
        arguments = [start, call, str(threads), str(child_requests), str(child_replies)]
        self.process = subprocess.Popen(
            [sys.executable, "-c", CHILD, *arguments, str(os.getpid())],
            stdin=subprocess.DEVNULL,
            pass_fds=(child_requests, child_replies),
            process_group=0,  # a group of its own: a terminal's Ctrl-C is for the client
        )
        os.close(child_requests)
        os.close(child_replies)
        self._out = os.fdopen(self._requests, "w")
        self._in = os.fdopen(self._replies)

    def run(self, function: str, kwargs: dict[str, Any]) -> tuple[bool, Any]:
        """(ok, record or the error's first line) of one job, run in the child.

        Raises:
            JobProcessDiedError: the child ended before it answered.
        """
        try:
            self._out.write(json.dumps([function, kwargs]) + "\n")
            self._out.flush()
            line = self._in.readline()
        except BrokenPipeError:
            line = ""
        if not line:
            raise JobProcessDiedError(
                f"the job process died mid-job (exit status {self.process.wait()})"
            )
        ok, outcome = json.loads(line)
        return ok, outcome

    def close(self) -> None:
        """Close the pipes (the child ends at EOF) and wait for it briefly."""
        for pipe in (self._out, self._in):
            with contextlib.suppress(OSError):  # a pipe the dead child broke
                pipe.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
