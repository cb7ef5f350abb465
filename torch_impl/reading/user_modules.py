"""A user's live `nn.Module` read into canonical weights: types and settings from the modules.

A state dict has to be told nn.RNN's nonlinearity and the head's activation; a module knows
them. This walks the module tree, keeps every nn.RNN / nn.LSTM / nn.GRU and the one nn.Linear,
reads each recurrent module's own settings (nonlinearity, proj_size, batch_first, dropout) and
takes the head activation from an activation module registered after the head (nn.Tanh, ...)
unless the caller names one. Any other module holding tensors is refused by name, since the
port could not carry it. The weights themselves go through `canonical_from_state_dict`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from shared.errors import ModelFileError
from torch_impl.reading.user_models import Inferred, canonical_from_state_dict

_RECURRENT_TYPES = (nn.RNN, nn.LSTM, nn.GRU)
# Activation modules whose torch formula equals the Keras activation of that name exactly.
_ACTIVATION_MODULES: dict[type, str] = {
    nn.Tanh: "tanh",
    nn.Sigmoid: "sigmoid",
    nn.ReLU: "relu",
    nn.SiLU: "silu",
    nn.Softsign: "softsign",
}


def _label(name: str) -> str:
    return name or "(top level)"


def _walk(module: nn.Module) -> tuple[dict[str, str], list[str], list[tuple[str, str]], list[str]]:
    """Recurrent prefixes -> nonlinearity, Linear names, activations after the head, notes."""
    activations: dict[str, str] = {}
    linears: list[str] = []
    after_head: list[tuple[str, str]] = []
    notes: list[str] = []
    inside: list[str] = []  # prefixes of recurrent modules, whose insides are not walked
    for name, sub in module.named_modules():
        if any(name.startswith(prefix) for prefix in inside):
            continue  # parameters of a recurrent module itself
        if type(sub) in _RECURRENT_TYPES:
            if getattr(sub, "proj_size", 0):
                raise ModelFileError(
                    f"module {_label(name)} (nn.LSTM) has proj_size={sub.proj_size}, which no "
                    "Keras layer computes; refused"
                )
            prefix = f"{name}." if name else ""
            inside.append(prefix)
            if type(sub) is nn.RNN:
                activations[prefix] = sub.nonlinearity
            if not sub.batch_first:
                notes.append(
                    f"{_label(name)} has batch_first=False: the Keras model takes "
                    "(batch, time, features)"
                )
            if sub.dropout:
                notes.append(f"{_label(name)} dropout={sub.dropout} acts in training only")
            continue
        if type(sub) is nn.Linear:
            linears.append(name)
            continue
        own = [n for n, _ in sub.named_parameters(recurse=False)]
        own += [n for n, _ in sub.named_buffers(recurse=False)]
        if own:
            raise ModelFileError(
                f"module {_label(name)} ({type(sub).__name__}) holds tensors ({', '.join(own)}) "
                "that the port cannot carry: only nn.RNN, nn.LSTM, nn.GRU and one nn.Linear"
            )
        if linears and type(sub) in _ACTIVATION_MODULES:
            after_head.append((name, _ACTIVATION_MODULES[type(sub)]))
    return activations, linears, after_head, notes


def canonical_from_module(
    module: nn.Module, head_activation: str | None = None, time_steps: int = 12
) -> Inferred:
    """Canonical weights and spec of a user's module whose recurrent children and final
    nn.Linear form a chain (registration order, checked by shapes).

    Args:
        module: any nn.Module (a LightningModule included).
        head_activation: the activation the forward applies after the head (Keras name); None
            takes it from the one activation module registered after the nn.Linear, else linear.
        time_steps: window length of the spec.

    Returns:
        The canonical weights (the module's dtype), key mapping and assumptions.

    Raises:
        ModelFileError: proj_size, modules holding other tensors, no or several heads,
            mismatched shapes.
    """
    if not isinstance(module, nn.Module):
        raise ModelFileError(f"expected a torch nn.Module, got {type(module).__name__}")
    source = f"module {type(module).__name__}"
    activations, linears, after_head, notes = _walk(module)
    if head_activation is not None:
        origin = "given"
    elif len(after_head) == 1:
        head_activation = after_head[0][1]
        origin = f"from module {after_head[0][0]}, registered after the head"
    else:
        head_activation = "linear"
        origin = "no activation module after the head; pass head_activation= if forward applies one"
    state = {key: tensor.detach() for key, tensor in module.state_dict().items()}
    inferred = canonical_from_state_dict(
        state, activations, head_activation, time_steps, source, head_origin=origin, readout="final"
    )
    inferred.assumptions.extend(notes)
    return inferred


def module_outputs(module: nn.Module, X: np.ndarray) -> np.ndarray:
    """Any user module's outputs for numpy inputs X, in eval mode and without gradients.

    X is cast to the dtype of the module's parameters; a tuple output (e.g. `(y, h_n)`) gives
    its first element. The module's training flag is restored afterwards.

    Returns:
        The outputs as a numpy array in the module's dtype.
    """
    parameter = next(module.parameters(), None)
    dtype = parameter.dtype if parameter is not None else torch.float32
    inputs = torch.from_numpy(np.ascontiguousarray(X)).to(dtype)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            outputs = module(inputs)
    finally:
        module.train(was_training)
    if isinstance(outputs, tuple | list):
        outputs = outputs[0]
    return outputs.detach().cpu().numpy()
