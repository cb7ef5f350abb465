"""Translate a torch model's weights to and from the canonical per-gate format.

torch stores each direction of a recurrent layer as `weight_ih_l0` (gates*units, input),
`weight_hh_l0` (gates*units, units), `bias_ih_l0` and `bias_hh_l0` (gates*units,), gate blocks
stacked along rows (LSTM i, f, g, o; GRU r, z, n: the canonical orders), with a `_reverse`
suffix for the backward direction. Canonical weights are per gate and row-vector
(x @ W), so W = block(weight_ih).T, U = block(weight_hh).T, b = block(bias_ih),
c = block(bias_hh). This module is the only place that mapping is written down.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from shared.errors import WeightFormatError
from shared.spec import first_difference
from shared.weights import CanonicalWeights, DirectionWeights
from torch_impl.model import RNNModel, build_model

_SUFFIX = {"forward": "_l0", "backward": "_l0_reverse"}
# canonical parameter -> (torch parameter prefix, transpose?)
_TORCH_NAMES = {
    "W": ("weight_ih", True),
    "U": ("weight_hh", True),
    "b": ("bias_ih", False),
    "c": ("bias_hh", False),
}


def recurrent_parameter(model: RNNModel, layer: int, direction: str, param: str) -> nn.Parameter:
    """The torch parameter holding canonical `param` ("W", "U", "b", "c") of one direction."""
    prefix, _ = _TORCH_NAMES[param]
    return getattr(model.net.recurrent[layer].rnn, prefix + _SUFFIX[direction])


def _to_numpy(tensor: torch.Tensor) -> np.ndarray:
    # a copy, so later training never changes weights already handed out
    return tensor.detach().cpu().numpy().copy()


def to_canonical(model: RNNModel) -> CanonicalWeights:
    """Read a model's weights into canonical form, in the model's dtype, values unchanged.

    Returns:
        Validated CanonicalWeights carrying the model's spec.
    """
    spec = model.spec
    layers = []
    for index, layer_spec in enumerate(spec.layers):
        units = layer_spec.units
        directions = {}
        for direction in layer_spec.directions:
            params: dict[str, dict[str, np.ndarray]] = {}
            for param, (_, transpose) in _TORCH_NAMES.items():
                full = _to_numpy(recurrent_parameter(model, index, direction, param))
                params[param] = {}
                for position, gate in enumerate(layer_spec.gates):
                    block = full[position * units : (position + 1) * units]  # rows of this gate
                    params[param][gate] = np.ascontiguousarray(block.T if transpose else block)
            directions[direction] = DirectionWeights(**params)
        layers.append(directions)
    head = model.net.head  # nn.Linear weight is (out, in); canonical W_y is (in, out)
    W_y = np.ascontiguousarray(_to_numpy(head.weight).T)
    return CanonicalWeights(spec, layers, W_y, _to_numpy(head.bias)).validate()


def _torch_tensors(
    model: RNNModel, weights: CanonicalWeights
) -> list[tuple[nn.Parameter, torch.Tensor]]:
    """Pair every model parameter with the tensor canonical `weights` puts there."""
    pairs = []
    for index, layer_spec in enumerate(model.spec.layers):
        for direction in layer_spec.directions:
            source = weights.layers[index][direction]
            for param, (_, transpose) in _TORCH_NAMES.items():
                blocks = [source.param(param)[gate] for gate in layer_spec.gates]
                # stack gate blocks along torch's rows: (gates*units, in) or (gates*units,)
                stacked = np.concatenate([block.T if transpose else block for block in blocks])
                target = recurrent_parameter(model, index, direction, param)
                pairs.append((target, torch.from_numpy(np.ascontiguousarray(stacked))))
    head = model.net.head
    pairs.append((head.weight, torch.from_numpy(np.ascontiguousarray(weights.W_y.T))))
    pairs.append((head.bias, torch.from_numpy(np.ascontiguousarray(weights.b_y))))
    for target, tensor in pairs:  # a last guard: the mapping itself must fit
        if target.shape != tensor.shape or target.dtype != tensor.dtype:
            raise WeightFormatError(
                f"internal mapping error: {tuple(tensor.shape)} "
                f"{tensor.dtype} for a {tuple(target.shape)} {target.dtype}"
            )
    return pairs


def set_canonical(model: RNNModel, weights: CanonicalWeights) -> None:
    """Copy canonical weights into a model; all checks happen before any tensor changes.

    Raises:
        WeightFormatError: naming layer, direction, parameter, gate and shape (or the spec field)
            that does not fit the model; the model is then left untouched.
    """
    if not isinstance(weights, CanonicalWeights):
        raise WeightFormatError(f"expected CanonicalWeights, got {type(weights).__name__}")
    # Check the arrays against the *model's* spec, so a message names what the model expects.
    CanonicalWeights(model.spec, weights.layers, weights.W_y, weights.b_y).validate()
    mismatch = first_difference(model.spec, weights.spec)
    if mismatch is not None:
        raise WeightFormatError(f"weights do not fit the model: {mismatch}")
    pairs = _torch_tensors(model, weights)
    with torch.no_grad():
        for target, tensor in pairs:
            target.copy_(tensor)


def native_weights(model: RNNModel) -> dict[str, np.ndarray]:
    """torch's own view of the weights: every state_dict entry by name, as numpy copies.

    For showing side by side with canonical weights (e.g. `weight_ih_l0` (gates*units, input)
    next to the per-gate W (input, units)); nothing reads these back.
    """
    return {name: _to_numpy(tensor) for name, tensor in model.state_dict().items()}


def from_canonical(weights: CanonicalWeights) -> RNNModel:
    """Build the model `weights.spec` describes and load the weights into it."""
    model = build_model(weights.validate().spec)
    set_canonical(model, weights)
    return model
