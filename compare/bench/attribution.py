"""Which part of a training step a sampled stack belongs to: the loop, hooks, optimizer, data...

A stack is read innermost frame first; the first frame whose module a rule names decides, and
helpers that any part may call (context managers, torch's record_function markers, TF's
tensor utilities, Lightning's `is_overridden`) name no part, so the frame that called them
decides. Time spent in C (a TF graph, a torch kernel) is charged by the sampler to the Python
frame that made the call (`compare.bench.sampler`), so it lands on the module that asked for
it: a kernel called from torch.optim is optimizer time, one called from torch.nn is compute.

The parts, in the report's order:

  loop        the framework's training loop: Lightning's loops, strategy, precision plugin
              and trainer; Keras's fit loop and its step function; the plain loop's own lines
  callbacks   callbacks and hook dispatch (Lightning's trainer/call.py, Keras's CallbackList)
  optimizer   torch.optim (Adam's update kernels included) and Lightning's optimizer wrapper
  data        batches: torch's DataLoader and collate, Lightning's fetchers and batch transfer,
              Keras's epoch iterator and data adapters, tf.data
  compiled    calling a tf.function: TensorFlow's Python dispatch (argument binding, concrete
              function lookup), up to the graph's execution
  logging     metrics and logs turned into Python numbers, Lightning's logger connector,
              Python's logging module
  compute     the model's forward, loss and backward (torch.nn, autograd, the project's own
              model code), and a TF graph's execution (TensorFlow's execute), which for Keras
              also holds the optimizer and, in a compiled loop, the steps themselves
  other       stacks in which no frame names a part (the bench's own frames)

Standard library only: it runs in the bench worker and in the tests without a framework.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

PARTS = ("loop", "callbacks", "optimizer", "data", "compiled", "logging", "compute", "other")
PART_TITLES = {
    "loop": "the framework's loop",
    "callbacks": "callbacks and hooks",
    "optimizer": "the optimizer",
    "data": "data handling",
    "compiled": "the compiled call (TF dispatch)",
    "logging": "logging and metrics",
    "compute": "compute (forward, loss, backward; for Keras, the TF graph's execution)",
    "other": "other",
}
PROJECT_ROOT = Path(__file__).resolve().parents[2]

# (prefix of "module/path.py:function", part or None); the first matching rule decides a
# frame, None passes the decision to the caller. Order matters: specific before general.
RULES: tuple[tuple[str, str | None], ...] = (
    # helpers of every part: their caller decides
    ("torch/autograd/profiler.py", None),  # record_function markers around loader, optimizer
    ("torch/autograd/grad_mode.py", None),
    ("torch/_ops.py", None),
    ("torch/utils/_contextlib.py", None),
    ("torch/utils/_foreach_utils.py", None),
    ("torch/_compile.py", None),
    ("torch/_dynamo/", None),
    ("torch/_jit_internal.py", None),
    ("torch/overrides.py", None),
    ("torch/_VF.py", None),
    ("torch/accelerator/", None),
    # torch
    ("torch/optim/", "optimizer"),
    ("torch/utils/data/", "data"),
    ("torch/autograd/", "compute"),
    ("torch/nn/", "compute"),
    ("torch/_tensor.py", "compute"),
    ("torch/functional.py", "compute"),
    ("torch_impl/train.py", "loop"),  # fit_plain's loop and Lightning's set-up
    ("torch_impl/loops.py", "loop"),
    ("torch_impl/callbacks.py", "callbacks"),
    ("torch_impl/inputs.py", "data"),
    ("torch_impl/", "compute"),  # the model: forward, training_step, loss
    # Lightning
    ("lightning/pytorch/loops/fetchers.py", "data"),
    ("lightning/pytorch/utilities/combined_loader.py", "data"),
    ("lightning/pytorch/trainer/connectors/data_connector.py", "data"),
    ("lightning/fabric/utilities/apply_func.py", "data"),  # batch_to_device
    ("lightning/pytorch/trainer/connectors/logger_connector/", "logging"),
    ("lightning/pytorch/core/module.py:log", "logging"),
    ("lightning/pytorch/loggers/", "logging"),
    ("torchmetrics/", "logging"),
    ("lightning/pytorch/callbacks/", "callbacks"),
    ("lightning/pytorch/trainer/call.py", "callbacks"),  # every hook goes through here
    ("lightning/pytorch/core/optimizer.py", "optimizer"),
    ("lightning/pytorch/utilities/", None),
    ("lightning/fabric/utilities/", None),
    ("lightning_utilities/", None),
    ("lightning/", "loop"),
    # Keras on TensorFlow
    ("keras/src/callbacks/", "callbacks"),
    ("keras_impl/callbacks.py", "callbacks"),
    ("keras/src/utils/python_utils.py:pythonify_logs", "logging"),
    ("keras/src/metrics/", "logging"),
    ("keras/src/trainers/trainer.py:_get_metrics_result_or_logs", "logging"),
    ("keras/src/trainers/trainer.py:get_metrics_result", "logging"),
    ("keras/src/trainers/epoch_iterator.py", "data"),
    ("keras/src/trainers/data_adapters/", "data"),
    ("tensorflow/python/data/", "data"),
    ("tensorflow/python/ops/gen_dataset_ops.py", "data"),
    ("tensorflow/python/ops/gen_optional_ops.py", "data"),  # the step's end-of-data check
    ("tensorflow/python/eager/execute.py", "compute"),  # the graph runs inside this call
    ("tensorflow/python/eager/", "compiled"),
    ("tensorflow/core/function/", "compiled"),
    ("keras/src/backend/tensorflow/trainer.py", "loop"),
    ("keras/src/trainers/", "loop"),
    ("keras_impl/train.py", "loop"),
    ("tensorflow/", None),
    ("keras/", None),
    # Python's own logging; the bench itself
    ("logging/", "logging"),
    ("compare/", "other"),
)


def module_path(filename: str) -> str:
    """A frame's file as a module path: "torch/optim/adam.py", "keras_impl/train.py",
    "contextlib.py" (the standard library), "<string>"."""
    path = filename.replace("\\", "/")
    if "/site-packages/" in path:
        return path.rsplit("/site-packages/", 1)[1]
    root = f"{PROJECT_ROOT.as_posix()}/"
    if path.startswith(root):
        return path[len(root) :]
    if "/lib/python" in path:  # the standard library: lib/python3.11/logging/__init__.py
        return path.rsplit("/lib/python", 1)[1].split("/", 1)[-1]
    return path


def frame_key(filename: str, function: str) -> str:
    return f"{module_path(filename)}:{function}"


def rule_of(key: str) -> tuple[bool, str | None]:
    """(whether a rule names this frame, its part or None for a helper or an unknown frame)."""
    for prefix, part in RULES:
        if key.startswith(prefix):
            return True, part
    return False, None


def classify(keys: Iterable[str]) -> tuple[str, str]:
    """The part of one stack, innermost frame first, and the frame that decided it.

    Returns:
        (part, frame key); ("other", innermost key or "") when no frame names a part.
    """
    keys = list(keys)
    for key in keys:
        named, part = rule_of(key)
        if named and part is not None:
            return part, key
    return "other", keys[0] if keys else ""


def attribute(
    stacks: Iterable[tuple[list[str], float]], per: float, top: int = 3
) -> dict[str, dict]:
    """Seconds per step by part, and each part's heaviest deciding frames.

    Args:
        stacks: (frame keys innermost first, seconds charged), e.g. from the sampler.
        per: what to divide by (steps sampled), so the result is per step.
        top: how many deciding frames to keep per part.

    Returns:
        {"parts_s": {part: s per step, every part of PARTS}, "frames": {part: [[key, s per
        step], ...] heaviest first}}.
    """
    parts = dict.fromkeys(PARTS, 0.0)
    frames: dict[str, dict[str, float]] = {part: {} for part in PARTS}
    for keys, seconds in stacks:
        part, key = classify(keys)
        parts[part] += seconds / per
        frames[part][key] = frames[part].get(key, 0.0) + seconds / per
    heaviest = {
        part: [[key, value] for key, value in sorted(found.items(), key=lambda kv: -kv[1])[:top]]
        for part, found in frames.items()
        if found
    }
    return {"parts_s": parts, "frames": heaviest}
