"""Torch files that plain torch runs: a model of the grammar as a `torch.export` program (.pt2).

`.ckpt` and `.pt` files rebuild an `RNNModel`, so they load only where rnn-parity is installed.
A `.pt2` holds the forward itself as a graph of torch's own operators with the weights inside,
so anyone runs it with plain torch and nothing of this project:

    program = torch.export.load("model.pt2").module()
    outputs = program(x)   # x (batch, time, features) in the model's dtype, any batch size

The batch dimension is exported as a free dimension (`torch.export.Dim`); the time axis is the
spec's. float64 models stay float64. Masked models (Masking, Embedding(mask_zero=True)) run the
exact step loop of `torch_impl.masked` on every call, since the choice between packed sequences
and the loop depends on the data, which an exported graph cannot branch on.
"""

from __future__ import annotations

import copy
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from shared.errors import ModelFileError
from torch_impl import masked
from torch_impl.common import torch_dtype
from torch_impl.model import RNNModel

SUFFIX = ".pt2"
_EXAMPLE_BATCH = 2  # not 0 or 1, which torch.export would specialise


class _LoopedLayer(nn.Module):
    """A RecurrentLayer that always takes the step loop when a mask is given (no data branch)."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(
        self, inputs: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if mask is None:
            return self.layer(inputs, None)
        directions = ("forward", "backward") if self.layer.bidirectional else ("forward",)
        sequence, finals = masked.step_loop(self.layer.rnn, inputs, mask, directions)
        dropout = getattr(self.layer, "output_dropout", None)
        return (dropout(sequence) if dropout is not None else sequence), finals


def exportable(model: RNNModel) -> nn.Module:
    """The model's network, in eval mode, with masked layers looped (a copy; `model` is kept)."""
    net = copy.deepcopy(model.net).eval()
    if model.spec.masked:
        net.recurrent = nn.ModuleList(_LoopedLayer(layer) for layer in net.recurrent)
    return net


def example_input(model: RNNModel, batch: int = _EXAMPLE_BATCH) -> torch.Tensor:
    """Inputs the program is traced with: token ids 1 (kept) or ones, in the model's dtype."""
    spec = model.spec
    if spec.embedded:
        return torch.ones(batch, spec.time_steps, dtype=torch.int64)
    return torch.ones(batch, spec.time_steps, spec.features, dtype=torch_dtype(spec.dtype))


def export_program(model: RNNModel, path: str | os.PathLike) -> Path:
    """Write `model` as a torch.export program with a free batch size, atomically.

    Raises:
        ModelFileError: for another extension, a missing folder, or a model torch.export
            cannot capture (naming the reason).
    """
    path = Path(path)
    if path.suffix != SUFFIX:
        raise ModelFileError(f"{path}: torch.export programs end in {SUFFIX}")
    if not path.parent.is_dir():
        raise ModelFileError(f"{path}: folder {path.parent} does not exist")
    batch = torch.export.Dim("batch", min=1)
    program = capture(exportable(model), (example_input(model),), ({0: batch},), path, "model")
    return save_program(program, path)


def capture(
    module: nn.Module, examples: tuple, dynamic_shapes: tuple, path: Path, what: str
) -> torch.export.ExportedProgram:
    """`torch.export.export`, quiet and refused in one line (the chain's and the graph's .pt2).

    nn.LSTM and nn.GRU re-point their `_flat_weights` while being exported, and torch warns
    about each (a multi-line UserWarning that reached the user's terminal above the port's
    report); the program holds those tensors as parameters all the same, and the port checks
    the written file's outputs against the source, so the warning says nothing the user needs.

    Raises:
        ModelFileError: "`path`: torch.export cannot capture the `what` (torch's first line)".
    """
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"The tensor attributes .*_flat_weights")
            return torch.export.export(module, examples, dynamic_shapes=dynamic_shapes)
    except Exception as error:  # torch.export raises many kinds; one line for the user
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelFileError(f"{path}: torch.export cannot capture the {what} ({first})") from None


def save_program(program: torch.export.ExportedProgram, path: Path) -> Path:
    """Write an exported program to `path` atomically (the chain's and the graph's .pt2)."""
    # torch.export.save wants a name ending in .pt2
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=SUFFIX)
    os.close(handle)
    try:
        torch.export.save(program, temporary)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return path


def run_program(path: str | os.PathLike, X: np.ndarray) -> np.ndarray:
    """Outputs of the program at `path` on numpy X (as plain torch would run it).

    Raises:
        ModelFileError: if the file is not a loadable torch.export program.
    """
    try:
        program = torch.export.load(str(path)).module()
    except Exception as error:  # a truncated or foreign file
        raise ModelFileError(f"{path}: not a readable torch.export program ({error})") from None
    with torch.no_grad():
        return program(torch.from_numpy(np.ascontiguousarray(X))).numpy()
