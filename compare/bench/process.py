"""Worker processes of the speed study: each measurement runs in a fresh Python process.

A fresh process per measurement keeps one variant's imports, thread pools, caches and compiled
graphs from leaking into another's timing; every worker gets the same thread count through its
environment. Errors come back as `BenchError` carrying the worker's stderr tail, never swallowed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from compare.bench.variants import VARIANTS, Variant, WorkerConfig
from shared.errors import RnnParityError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STDERR_TAIL_CHARS = 4000  # how much of a failed worker's stderr an error shows
WORKER_TIMEOUT_S = 3600.0


class BenchError(RnnParityError):
    """A bench worker failed or returned nothing usable; the message holds its stderr tail."""


def worker_env(variant: Variant | None, threads: int) -> dict[str, str]:
    """The environment of a worker: one thread count for every framework, backend, devices.

    OMP/MKL cover torch's and numpy's pools, TF_NUM_*_THREADS TensorFlow's (read when its
    runtime starts). CPU variants see no GPU at all, so none can use one silently.
    """
    env = dict(os.environ)
    count = str(threads)
    for name in (
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "TF_NUM_INTRAOP_THREADS",
        "TF_NUM_INTEROP_THREADS",
    ):
        env[name] = count
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    if variant is not None:
        if variant.framework == "keras":
            env["KERAS_BACKEND"] = variant.backend
        if variant.device == "cpu":
            env["CUDA_VISIBLE_DEVICES"] = ""
    return env


def _stderr_tail(text: str | bytes | None) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    text = (text or "").strip()
    return text[-STDERR_TAIL_CHARS:] if text else "(no stderr)"


def _run_module(
    args: list[str], env: dict[str, str], what: str, timeout_s: float
) -> dict[str, Any]:
    """Run `python -m compare.bench.worker ARGS --result FILE`; return the file's JSON.

    Raises:
        BenchError: on a non-zero exit, a timeout or a missing/invalid result, with the
            worker's stderr tail.
    """
    with tempfile.TemporaryDirectory(prefix="rnn-parity-bench-") as folder:
        result = Path(folder) / "result.json"
        command = [sys.executable, "-m", "compare.bench.worker", *args, "--result", str(result)]
        try:
            completed = subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=timeout_s
            )
        except subprocess.TimeoutExpired as error:
            raise BenchError(
                f"bench worker for {what} timed out after {timeout_s:.0f} s; its stderr ends:\n"
                f"{_stderr_tail(error.stderr)}"
            ) from None
        if completed.returncode != 0:
            raise BenchError(
                f"bench worker for {what} failed (exit {completed.returncode}); its stderr "
                f"ends:\n{_stderr_tail(completed.stderr)}"
            )
        try:
            return json.loads(result.read_text())
        except (OSError, ValueError) as error:
            raise BenchError(
                f"bench worker for {what} exited 0 but left no valid result ({error}); its "
                f"stderr ends:\n{_stderr_tail(completed.stderr)}"
            ) from None


def run_worker(
    variant: str, config: WorkerConfig, timeout_s: float = WORKER_TIMEOUT_S
) -> dict[str, Any]:
    """Measure one variant in a fresh worker process; return its raw measurements.

    Raises:
        BenchError: if the worker fails (the message ends with its stderr).
    """
    start = time.perf_counter()
    raw = _run_module(
        ["--variant", variant, "--config", config.to_json()],
        worker_env(VARIANTS.get(variant), config.threads),
        repr(variant),
        timeout_s,
    )
    raw["worker_wall_s"] = time.perf_counter() - start
    return raw


def cuda_available() -> bool:
    """Whether torch sees a GPU here, asked in a throw-away process (this one stays light).

    Skips the process (about a second of torch import) where no NVIDIA device exists or
    CUDA_VISIBLE_DEVICES hides every GPU.
    """
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    if not (Path("/dev/nvidiactl").exists() or shutil.which("nvidia-smi")):
        return False
    return bool(_run_module(["--probe"], worker_env(None, 1), "the GPU probe", 300.0)["cuda"])
