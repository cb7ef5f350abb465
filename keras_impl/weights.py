"""Keras weights to and from the canonical format of `shared.weights`.

`keras_impl.reading.read_model` says which Keras layer holds each part of the spec; the
translator of that layer's class (`keras_impl.translators`, so TimeDistributed(Dense) finds its
inner Dense) knows its own layout: the recurrent one splits and
reorders gate blocks (Keras GRU z, r, h is canonical r, z, n; one-bias layers are written with
b + c and read back with c = 0), the others only map names (Dense W = kernel, b = bias;
Embedding E = embeddings; LayerNormalization gamma, beta; BatchNormalization gamma, beta,
moving mean and variance). This module only walks the parts, so it stays free of layer kinds.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_impl.model import build_model, normalized
from keras_impl.reading import ModelLayers, read_model
from keras_impl.translators import for_layer
from shared.errors import WeightFormatError
from shared.spec import first_difference
from shared.weights import CanonicalWeights


def to_canonical(model: keras.Model) -> CanonicalWeights:
    """Copy a Keras model's weights into the canonical format.

    Args:
        model: any model `spec_of` accepts.

    Returns:
        Validated canonical weights (copies, in the model's dtype) carrying `spec_of(model)`.
        One-bias recurrent layers come back with every c[gate] zero.

    Raises:
        ModelFileError: if the model is outside the grammar.
    """
    found = read_model(model)
    spec = found.spec
    front = for_layer(found.front).to_canonical(found.front, spec.front) if spec.front else {}
    layers = [
        for_layer(layer).to_canonical(layer, layer_spec)
        for layer_spec, layer in zip(spec.layers, found.recurrent, strict=True)
    ]
    head_layers = [
        for_layer(layer).to_canonical(layer, layer_spec)
        for layer_spec, layer in zip(spec.head_layers, found.head_layers, strict=True)
    ]
    head = for_layer(found.head).to_canonical(found.head, spec.head)
    return CanonicalWeights(spec, layers, head["W"], head["b"], front, head_layers).validate()


def _planned_assignments(
    found: ModelLayers, weights: CanonicalWeights
) -> list[tuple[keras.Variable, np.ndarray]]:
    """Every (variable, new value) pair, each shape checked; nothing is assigned here."""
    spec = weights.spec
    plan = []
    if spec.front is not None:
        where = f"front ({spec.front.type})"
        plan += for_layer(found.front).assignments(found.front, spec.front, weights.front, where)
    for index, (layer_spec, layer) in enumerate(zip(spec.layers, found.recurrent, strict=True)):
        where = f"layer {index} ({layer_spec.kind})"
        plan += for_layer(layer).assignments(layer, layer_spec, weights.layers[index], where)
    for index, (layer_spec, layer) in enumerate(
        zip(spec.head_layers, found.head_layers, strict=True)
    ):
        where = f"head layer {index} ({layer_spec.type})"
        arrays = weights.head_layers[index]
        plan += for_layer(layer).assignments(layer, layer_spec, arrays, where)
    head = {"W": weights.W_y, "b": weights.b_y}
    plan += for_layer(found.head).assignments(found.head, spec.head, head, "head")
    for variable, array, where in plan:
        if tuple(variable.shape) != array.shape:
            raise WeightFormatError(
                f"{where}: the model's variable has shape {tuple(variable.shape)}, the weights "
                f"give {array.shape}"
            )
    return [(variable, array) for variable, array, _ in plan]


def set_canonical(model: keras.Model, weights: CanonicalWeights) -> None:
    """Write canonical weights into a Keras model, all or nothing.

    Everything is checked before the first variable changes: the weights against their own
    spec (every layer, direction, parameter, gate, shape, dtype), their spec against
    `spec_of(model)`, and every assembled Keras array against its variable's shape.

    Args:
        model: any model `spec_of` accepts.
        weights: canonical weights for the same spec (activation aliases such as "swish" and
            "silu" count as equal).

    Raises:
        WeightFormatError: naming the layer, direction, parameter, gate and shape at fault, or
            where the weights' spec and the model's part; the model is then unchanged.
        ModelFileError: if the model itself is outside the grammar.
    """
    weights.validate()
    found = read_model(model)
    if normalized(found.spec) != normalized(weights.spec):
        raise WeightFormatError(
            "the weights are for another architecture than the model: "
            + str(first_difference(found.spec, weights.spec))
        )
    for variable, array in _planned_assignments(found, weights):
        variable.assign(array)


def from_canonical(weights: CanonicalWeights) -> keras.Model:
    """Build the Keras model for `weights.spec` (see `build_model`) holding these weights.

    Raises:
        WeightFormatError: if the weights do not fit their own spec.
    """
    weights.validate()
    model = build_model(weights.spec)
    set_canonical(model, weights)
    return model


def native_weights(model: keras.Model) -> dict[str, np.ndarray]:
    """Keras's own view of the weights: every variable by its path, as numpy copies.

    For showing side by side with canonical weights (e.g. `rnn_0/simple_rnn_cell/kernel`
    (input, units) next to the per-gate W (input, units)); nothing reads these back.
    """
    return {variable.path: np.array(variable.numpy()) for variable in model.weights}
