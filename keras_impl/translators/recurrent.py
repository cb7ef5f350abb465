"""Translator of the recurrent layers: SimpleRNN, LSTM, GRU, each optionally in Bidirectional.

Keras stores each direction as three variables whose columns are gate blocks in Keras's own
order, with one bias per gate (two stacked rows for GRU with reset_after=True):

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

from typing import Any

import keras
import numpy as np

from keras_impl.translators.common import (
    activation_name,
    check_plain,
    describe,
    numpy_copy,
    spec_or_refusal,
)
from keras_impl.translators.table import RECURRENT, Translator, register
from shared.errors import ModelFileError
from shared.recurrent_spec import RecurrentLayerSpec
from shared.weights import DirectionWeights

# Keras layer class per spec kind; matched by exact type, since a subclass may compute otherwise.
RECURRENT_CLASSES: dict[str, type] = {
    "simple": keras.layers.SimpleRNN,
    "lstm": keras.layers.LSTM,
    "gru": keras.layers.GRU,
}
_KIND_OF_CLASS = {cls: kind for kind, cls in RECURRENT_CLASSES.items()}
# Canonical gate names in the order Keras lays out their column blocks.
KERAS_GATE_ORDER: dict[str, tuple[str, ...]] = {
    "simple": ("h",),
    "lstm": ("i", "f", "g", "o"),
    "gru": ("z", "r", "n"),
}


def _unwrapped(layer: RecurrentLayerSpec, name: str, dtype: str) -> keras.layers.Layer:
    """One Keras recurrent layer (not wrapped in Bidirectional) for a layer spec."""
    options: dict[str, Any] = {
        "units": layer.units,
        "activation": layer.activation,
        "return_sequences": layer.return_sequences,
        "dropout": layer.dropout,
        "recurrent_dropout": layer.recurrent_dropout,
        "dtype": dtype,
        "name": name,
    }
    if layer.kind != "simple":
        # Keras's default, written out because the reference and torch assume it.
        options["recurrent_activation"] = "sigmoid"
    if layer.kind == "gru":
        options["reset_after"] = layer.reset_after
    return RECURRENT_CLASSES[layer.kind](**options)


def _read_unwrapped(
    layer: keras.layers.Layer, backwards: bool = False, bidirectional: bool = False
) -> RecurrentLayerSpec:
    """The spec of one SimpleRNN/LSTM/GRU (a Bidirectional's half when `backwards` is set)."""
    kind = _KIND_OF_CLASS.get(type(layer))
    if kind is None:
        raise ModelFileError(
            f"{describe(layer)} is outside the grammar: a Bidirectional wraps SimpleRNN, LSTM "
            "or GRU"
        )
    config = layer.get_config()
    check_plain(layer, config)
    for key in ("stateful", "return_state"):
        if config.get(key):
            raise ModelFileError(f"{describe(layer)} has {key}=True, which is outside the grammar")
    if bool(config.get("go_backwards")) != backwards:
        raise ModelFileError(
            f"{describe(layer)} has go_backwards={config.get('go_backwards')}: only a "
            "Bidirectional's backward half may read the sequence backwards"
        )
    if config.get("zero_output_for_mask") and not bidirectional:
        # Keras then outputs zeros at masked steps (and as the final output after trailing
        # padding) where the grammar repeats the previous output: refused, never read as False.
        raise ModelFileError(
            f"{describe(layer)} has zero_output_for_mask=True: a one-direction layer in the "
            "grammar repeats its previous output at masked steps (only a Bidirectional "
            "returning sequences outputs zeros there)"
        )
    if kind != "simple":
        gate = activation_name(config["recurrent_activation"], "recurrent_activation", layer)
        if gate != "sigmoid":
            raise ModelFileError(
                f"{describe(layer)} has recurrent_activation={gate!r}: the grammar uses sigmoid"
            )
    return spec_or_refusal(
        layer,
        RecurrentLayerSpec,
        kind=kind,
        units=config["units"],
        activation=activation_name(config["activation"], "activation", layer),
        return_sequences=bool(config["return_sequences"]),
        bidirectional=bidirectional,
        reset_after=bool(config.get("reset_after", True)),
        dropout=float(config.get("dropout", 0.0)),
        recurrent_dropout=float(config.get("recurrent_dropout", 0.0)),
    )


def has_two_biases(layer: RecurrentLayerSpec) -> bool:
    """Whether Keras keeps separate input-side and recurrent-side biases (GRU reset_after)."""
    return layer.kind == "gru" and layer.reset_after


def gate_blocks(matrix: np.ndarray, gates: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Split (..., gates * units) columns into contiguous per-gate copies, keyed by gate."""
    parts = np.split(matrix, len(gates), axis=-1)
    return {gate: np.ascontiguousarray(part) for gate, part in zip(gates, parts, strict=True)}


def direction_cells(layer: keras.layers.Layer, spec: RecurrentLayerSpec) -> dict[str, Any]:
    """Direction -> the Keras cell holding that direction's variables."""
    if spec.bidirectional:
        return {"forward": layer.forward_layer.cell, "backward": layer.backward_layer.cell}
    return {"forward": layer.cell}


@register
class RecurrentTranslator(Translator):
    """SimpleRNN / LSTM / GRU, and Bidirectional(merge_mode="concat") of mirrored halves."""

    spec_class = RecurrentLayerSpec
    keras_classes = (*RECURRENT_CLASSES.values(), keras.layers.Bidirectional)
    role = RECURRENT

    @classmethod
    def build(cls, spec: RecurrentLayerSpec, name: str, dtype: str) -> keras.layers.Layer:
        """A bidirectional layer `name` wraps `name_<kind>` (halves forward_/backward_...)."""
        if not spec.bidirectional:
            return _unwrapped(spec, name, dtype)
        inner = _unwrapped(spec, f"{name}_{spec.kind}", dtype)
        return keras.layers.Bidirectional(inner, merge_mode="concat", dtype=dtype, name=name)

    @classmethod
    def spec_of(cls, layer: keras.layers.Layer) -> RecurrentLayerSpec:
        if type(layer) is not keras.layers.Bidirectional:
            return _read_unwrapped(layer)
        if layer.merge_mode != "concat":
            raise ModelFileError(
                f"{describe(layer)} has merge_mode={layer.merge_mode!r}: only 'concat' is in "
                "the grammar"
            )
        check_plain(layer)
        forward = _read_unwrapped(layer.forward_layer, backwards=False, bidirectional=True)
        backward = _read_unwrapped(layer.backward_layer, backwards=True, bidirectional=True)
        if forward != backward:
            raise ModelFileError(
                f"{describe(layer)}: its forward and backward layers differ ({forward} vs "
                f"{backward}); the grammar needs mirrored halves"
            )
        return forward

    @classmethod
    def to_canonical(
        cls, layer: keras.layers.Layer, spec: RecurrentLayerSpec
    ) -> dict[str, DirectionWeights]:
        order = KERAS_GATE_ORDER[spec.kind]
        directions = {}
        for direction, cell in direction_cells(layer, spec).items():
            kernel = numpy_copy(cell.kernel)  # (in, gates * units)
            recurrent = numpy_copy(cell.recurrent_kernel)  # (units, gates * units)
            bias = numpy_copy(cell.bias)  # (gates * units,) or (2, gates * units)
            if has_two_biases(spec):
                b, c = gate_blocks(bias[0], order), gate_blocks(bias[1], order)
            else:
                b = gate_blocks(bias, order)
                c = {gate: np.zeros_like(array) for gate, array in b.items()}
            directions[direction] = DirectionWeights(
                W=gate_blocks(kernel, order), U=gate_blocks(recurrent, order), b=b, c=c
            )
        return directions

    @classmethod
    def assignments(
        cls,
        layer: keras.layers.Layer,
        spec: RecurrentLayerSpec,
        weights: dict[str, DirectionWeights],
        where: str,
    ) -> list[tuple[keras.Variable, np.ndarray, str]]:
        order = KERAS_GATE_ORDER[spec.kind]
        plan = []
        for direction, cell in direction_cells(layer, spec).items():
            direction_weights = weights[direction]
            kernel = np.concatenate([direction_weights.W[gate] for gate in order], axis=1)
            recurrent = np.concatenate([direction_weights.U[gate] for gate in order], axis=1)
            b = np.concatenate([direction_weights.b[gate] for gate in order])
            c = np.concatenate([direction_weights.c[gate] for gate in order])
            bias = np.stack([b, c]) if has_two_biases(spec) else b + c
            plan += [
                (cell.kernel, kernel, f"{where} {direction} kernel"),
                (cell.recurrent_kernel, recurrent, f"{where} {direction} recurrent_kernel"),
                (cell.bias, bias, f"{where} {direction} bias"),
            ]
        return plan
