"""Lazy access to both implementations, in the one import order that is safe.

`compare/` is the only place that uses both frameworks. Importing them at module level would make
`rnn-parity --help` pay seconds for TensorFlow and torch, and importing TensorFlow before torch
in one process is known to cause trouble with shared native libraries; so every function in
`compare/` gets the impls from here, inside the function that needs them.

`both()`, `keras_side()` and `torch_side()` hand out a package as a `shared.twins.FrameworkSide`,
the twin functions both packages expose (tests/test_mirror.py holds both to it); code that
needs one framework's own functions (torch's tracing, say) asks `torch_impl()` or `keras_impl()`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import cast

from shared.twins import FrameworkSide


def torch_impl() -> ModuleType:
    """The PyTorch + Lightning implementation (imported on first use)."""
    import torch_impl as module

    return module


@contextmanager
def _native_stderr_captured() -> Iterator[None]:
    """Hold back what native code writes to file descriptor 2; replay it only on failure.

    TensorFlow 2.21 prints start-up lines through absl ("oneDNN custom operations are on",
    "Could not find cuda drivers") that TF_CPP_MIN_LOG_LEVEL no longer silences. They would
    bury every command's output, so they are captured while TensorFlow loads and shown only if
    the import fails.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def keras_impl() -> ModuleType:
    """The Keras implementation, imported after torch (torch first is the safe order)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    torch_impl()
    if "keras_impl" in sys.modules:
        return sys.modules["keras_impl"]
    with _native_stderr_captured():
        import keras_impl as module
    return module


def keras_side() -> FrameworkSide:
    """keras_impl as its twin functions (imported after torch)."""
    return cast(FrameworkSide, keras_impl())


def torch_side() -> FrameworkSide:
    """torch_impl as its twin functions."""
    return cast(FrameworkSide, torch_impl())


def both() -> tuple[FrameworkSide, FrameworkSide]:
    """(keras_impl, torch_impl) as their twin functions, imported torch first."""
    torch = torch_side()
    return keras_side(), torch


# Settings that change speed, never results: each framework runs this many train steps per call
# (Keras per compiled call; Lightning per `training_step`, with manual optimization). Both are
# proven bit-identical to one step per call: tests/keras_impl/test_train.py::
# test_steps_per_execution_changes_nothing and tests/compare/bench/test_bench.py::
# test_torch_speed_options_change_nothing_but_speed. XLA (jit_compile) is left out: it rounds
# differently. The study, the experiment and the parity runs use these so the default report
# stays within a few minutes on 2 cores (Lightning's tutorial run: 4.7 s -> 3.2 s).
SPEED_ONLY_FIT_OPTIONS: dict[str, dict[str, int]] = {
    "keras": {"steps_per_execution": 64},
    "torch": {"steps_per_execution": 64},
}
