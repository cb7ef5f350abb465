"""What every part of torch_impl shares: the one dtype table, and eval mode for a run.

The project computes in float32 or float64 and nothing else; every place that maps a spec's
dtype name to torch's, or refuses a model or file holding other or mixed float dtypes, asks
here, so the table and the refusal are written once. `evaluating` is the one way a module is
run in eval mode (dropout off, BatchNorm's running statistics) and handed back in the mode it
came in: the user's own modules must leave a port as they entered it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

from shared.errors import ModelFileError

DTYPES = {"float32": torch.float32, "float64": torch.float64}
_NAMES = {dtype: name for name, dtype in DTYPES.items()}


def torch_dtype(name: str) -> torch.dtype:
    """Map a spec dtype name ("float32", "float64") to the torch dtype."""
    return DTYPES[name]


def float_dtype(source: str, tensors: Iterable[tuple[str, torch.Tensor]]) -> str:
    """The one float dtype ("float32" or "float64") of the named floating tensors.

    Integer tensors (BatchNorm's step count, token tables) are not weights and are skipped.

    Raises:
        ModelFileError: `source: tensors must be all float32 or all float64 (float16: fc.bias)`.
    """
    found: dict[str, list[str]] = {}
    for key, tensor in tensors:
        if tensor.is_floating_point():
            name = _NAMES.get(tensor.dtype, str(tensor.dtype).removeprefix("torch."))
            found.setdefault(name, []).append(key)
    if len(found) != 1 or next(iter(found)) not in DTYPES:
        detail = "; ".join(f"{d}: {_listed(keys)}" for d, keys in found.items()) or "none"
        raise ModelFileError(f"{source}: tensors must be all float32 or all float64 ({detail})")
    return next(iter(found))


def module_dtype(module: nn.Module) -> str:
    """The one float dtype of a module's parameters and buffers, or ModelFileError naming them."""
    named = [*module.named_parameters(), *module.named_buffers()]
    return float_dtype(type(module).__name__, named)


def _listed(names: list[str], most: int = 8) -> str:
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more


@contextmanager
def evaluating(module: nn.Module) -> Iterator[nn.Module]:
    """Eval mode without gradients for the block; the module's training flag restored after."""
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            yield module
    finally:
        module.train(was_training)
