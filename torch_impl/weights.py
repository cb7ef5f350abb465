"""Translate a torch model's weights to and from the canonical format of `shared.weights`.

A model is a list of parts (front, recurrent layers, head layers, the final head), each a torch
module built for one spec layer. Every part is read and written by the translator of its layer
kind (`torch_impl.translators`, the only place torch's parameter names and layouts are written
down), so this module is the same few loops for every spec of the grammar. The final head is a
dense layer whose canonical arrays are called W_y and b_y.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from shared.errors import WeightFormatError
from shared.spec import first_difference
from shared.weights import CanonicalWeights
from torch_impl.model import RNNModel, build_model
from torch_impl.translators import Pair, to_numpy, translator


def _parts(model: RNNModel) -> Iterator[tuple[str, nn.Module, object]]:
    """(where, module, spec layer) for every part of the model, in the model's order."""
    spec, net = model.spec, model.net
    if spec.front is not None:
        yield "front", net.front, spec.front
    for index, layer in enumerate(spec.layers):
        yield f"layer {index}", net.recurrent[index].rnn, layer
    for index, layer in enumerate(spec.head_layers):
        yield f"head layer {index}", net.head_layers[index], layer
    yield "head", net.head, spec.head


def _canonical_parts(weights: CanonicalWeights) -> list[object]:
    """The canonical arrays of each part, in `_parts`'s order."""
    front = [weights.front] if weights.spec.front is not None else []
    head = {"W": weights.W_y, "b": weights.b_y}
    return [*front, *weights.layers, *weights.head_layers, head]


def to_canonical(model: RNNModel) -> CanonicalWeights:
    """Read a model's weights into canonical form, in the model's dtype, values unchanged.

    Returns:
        Validated CanonicalWeights carrying the model's spec (copies: later training never
        changes them).
    """
    spec = model.spec
    read = [
        translator(module, part, where).to_canonical(module, part)
        for where, module, part in _parts(model)
    ]
    front = read.pop(0) if spec.front is not None else {}
    head = read.pop()
    layers, head_layers = read[: len(spec.layers)], read[len(spec.layers) :]
    return CanonicalWeights(spec, layers, head["W"], head["b"], front, head_layers).validate()


def _torch_tensors(model: RNNModel, weights: CanonicalWeights) -> list[Pair]:
    """Pair every model tensor with the tensor canonical `weights` puts there."""
    pairs = []
    for (where, module, part), arrays in zip(_parts(model), _canonical_parts(weights), strict=True):
        pairs += translator(module, part, where).assignments(module, part, arrays)
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
    CanonicalWeights(
        model.spec, weights.layers, weights.W_y, weights.b_y, weights.front, weights.head_layers
    ).validate()
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
    return {name: to_numpy(tensor) for name, tensor in model.state_dict().items()}


def from_canonical(weights: CanonicalWeights) -> RNNModel:
    """Build the model `weights.spec` describes and load the weights into it."""
    model = build_model(weights.validate().spec)
    set_canonical(model, weights)
    return model
