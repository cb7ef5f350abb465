"""Keras weights to and from the canonical format of `shared.weights`.

Keras stores each recurrent layer as three variables whose columns are gate blocks in Keras's
own order, with one bias per gate (two stacked rows for GRU with reset_after=True):

    kernel (in, gates * units), recurrent_kernel (units, gates * units),
    bias (gates * units,) or, for GRU reset_after=True, (2, gates * units): [input, recurrent]

Keras gate orders: SimpleRNN (h), LSTM (i, f, c, o) = canonical (i, f, g, o), GRU (z, r, h),
which is canonical (r, z, n) with r and z SWAPPED. This module is the only place that knows it.

One-bias layers (SimpleRNN, LSTM, GRU reset_after=False) read back with c = 0 and are written
with b + c: both biases are added before any nonlinearity there (for GRU reset_after=False the
reference adds c_n outside the reset, exactly as Keras adds its single bias), so folding them
is exact up to the rounding of the one addition.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_impl.model import build_model, normalized, spec_of
from shared.errors import WeightFormatError
from shared.spec import ModelSpec, RecurrentLayerSpec, first_difference
from shared.weights import CanonicalWeights, DirectionWeights

# Canonical gate names in the order Keras lays out their column blocks.
KERAS_GATE_ORDER: dict[str, tuple[str, ...]] = {
    "simple": ("h",),
    "lstm": ("i", "f", "g", "o"),
    "gru": ("z", "r", "n"),
}


def _recurrent_cells(model: keras.Model, spec: ModelSpec) -> list[dict[str, keras.layers.Layer]]:
    """Per recurrent layer, direction -> the Keras cell holding that direction's variables."""
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    cells = []
    for layer, layer_spec in zip(layers, spec.layers, strict=False):
        if layer_spec.bidirectional:
            cells.append(
                {"forward": layer.forward_layer.cell, "backward": layer.backward_layer.cell}
            )
        else:
            cells.append({"forward": layer.cell})
    return cells


def _head(model: keras.Model) -> keras.layers.Layer:
    return model.layers[-1]  # spec_of has checked that the last layer is the Dense head


def _has_two_biases(layer: RecurrentLayerSpec) -> bool:
    """Whether Keras keeps separate input-side and recurrent-side biases (GRU reset_after)."""
    return layer.kind == "gru" and layer.reset_after


def _blocks(matrix: np.ndarray, gates: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Split (..., gates * units) columns into contiguous per-gate copies, keyed by gate."""
    parts = np.split(matrix, len(gates), axis=-1)
    return {gate: np.ascontiguousarray(part) for gate, part in zip(gates, parts, strict=True)}


def _direction_to_canonical(
    cell: keras.layers.Layer, layer: RecurrentLayerSpec
) -> DirectionWeights:
    order = KERAS_GATE_ORDER[layer.kind]
    kernel = keras.ops.convert_to_numpy(cell.kernel)  # (in, gates * units)
    recurrent = keras.ops.convert_to_numpy(cell.recurrent_kernel)  # (units, gates * units)
    bias = keras.ops.convert_to_numpy(cell.bias)  # (gates * units,) or (2, gates * units)
    if _has_two_biases(layer):
        b, c = _blocks(bias[0], order), _blocks(bias[1], order)
    else:
        b = _blocks(bias, order)
        c = {gate: np.zeros_like(array) for gate, array in b.items()}
    return DirectionWeights(W=_blocks(kernel, order), U=_blocks(recurrent, order), b=b, c=c)


def to_canonical(model: keras.Model) -> CanonicalWeights:
    """Copy a Keras model's weights into the canonical format.

    Args:
        model: any model `spec_of` accepts.

    Returns:
        Validated canonical weights (copies, in the model's dtype) carrying `spec_of(model)`.
        One-bias layers come back with every c[gate] zero.

    Raises:
        ModelFileError: if the model is outside the specs.
    """
    spec = spec_of(model)
    layers = [
        {
            direction: _direction_to_canonical(cell, layer_spec)
            for direction, cell in directions.items()
        }
        for layer_spec, directions in zip(spec.layers, _recurrent_cells(model, spec), strict=True)
    ]
    head = _head(model)
    W_y = np.array(keras.ops.convert_to_numpy(head.kernel))  # (units_in, units_out)
    b_y = np.array(keras.ops.convert_to_numpy(head.bias))  # (units_out,)
    return CanonicalWeights(spec, layers, W_y, b_y).validate()


def _direction_to_keras(
    weights: DirectionWeights, layer: RecurrentLayerSpec
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(kernel, recurrent_kernel, bias) in Keras's layout for one direction."""
    order = KERAS_GATE_ORDER[layer.kind]
    kernel = np.concatenate([weights.W[gate] for gate in order], axis=1)
    recurrent = np.concatenate([weights.U[gate] for gate in order], axis=1)
    b = np.concatenate([weights.b[gate] for gate in order])
    c = np.concatenate([weights.c[gate] for gate in order])
    bias = np.stack([b, c]) if _has_two_biases(layer) else b + c
    return kernel, recurrent, bias


def _planned_assignments(
    model: keras.Model, weights: CanonicalWeights
) -> list[tuple[keras.Variable, np.ndarray]]:
    """Every (variable, new value) pair, each shape checked; nothing is assigned here."""
    spec = weights.spec
    plan: list[tuple[keras.Variable, np.ndarray, str]] = []
    cells = _recurrent_cells(model, spec)
    for index, (layer_spec, directions) in enumerate(zip(spec.layers, cells, strict=True)):
        for direction, cell in directions.items():
            arrays = _direction_to_keras(weights.layers[index][direction], layer_spec)
            variables = {
                "kernel": cell.kernel,
                "recurrent_kernel": cell.recurrent_kernel,
                "bias": cell.bias,
            }
            where = f"layer {index} ({layer_spec.kind}) {direction}"
            for (name, variable), array in zip(variables.items(), arrays, strict=True):
                plan.append((variable, array, f"{where} {name}"))
    head = _head(model)
    plan.append((head.kernel, weights.W_y, "head kernel (W_y)"))
    plan.append((head.bias, weights.b_y, "head bias (b_y)"))
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
        ModelFileError: if the model itself is outside the specs.
    """
    weights.validate()
    model_spec = spec_of(model)
    if normalized(model_spec) != normalized(weights.spec):
        raise WeightFormatError(
            "the weights are for another architecture than the model: "
            + str(first_difference(model_spec, weights.spec))
        )
    for variable, array in _planned_assignments(model, weights):
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
