"""Recurrent nodes in Keras: SimpleRNN, LSTM, GRU, and Bidirectional of identical halves.

Keras's column layout, gate order and one-bias folding are `keras_impl.translators.recurrent`'s
(`gate_blocks`, `KERAS_GATE_ORDER`, `has_two_biases`, `direction_cells`), reused here. What the
graph adds: use_bias=False (no bias arrays), any recurrent activation, return_state,
go_backwards, zero_output_for_mask, every merge_mode, and initial states as node inputs.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import keras
import numpy as np

from keras_impl.graph.translators.common import plain_config
from keras_impl.graph.translators.table import NodeTranslator, Plan, register
from keras_impl.translators.common import activation_name, describe, numpy_copy, spec_or_refusal
from keras_impl.translators.recurrent import (
    KERAS_GATE_ORDER,
    RECURRENT_CLASSES,
    direction_cells,
    gate_blocks,
    has_two_biases,
)
from shared.errors import ModelFileError
from shared.graph.recurrent import Recurrent

_KIND_OF_CLASS = {cls: kind for kind, cls in RECURRENT_CLASSES.items()}


def _one_direction(node: Recurrent, name: str, dtype: str, backwards: bool) -> keras.layers.Layer:
    options: dict[str, Any] = {
        "units": node.units,
        "activation": node.activation,
        "use_bias": node.use_bias,
        "return_sequences": node.return_sequences,
        "return_state": node.return_state,
        "go_backwards": backwards,
        "zero_output_for_mask": node.zero_output_for_mask,
        "dropout": node.dropout,
        "recurrent_dropout": node.recurrent_dropout,
        "dtype": dtype,
        "name": name,
    }
    if node.kind != "simple":
        options["recurrent_activation"] = node.recurrent_activation
    if node.kind == "gru":
        options["reset_after"] = node.reset_after
    return RECURRENT_CLASSES[node.kind](**options)


def _read_one(layer: keras.layers.Layer) -> Recurrent:
    """The node of one SimpleRNN/LSTM/GRU (a Bidirectional's half included)."""
    kind = _KIND_OF_CLASS.get(type(layer))
    if kind is None:
        raise ModelFileError(
            f"{describe(layer)} is not supported inside Bidirectional: it wraps SimpleRNN, "
            "LSTM or GRU"
        )
    config = plain_config(layer, stateful=False)
    options: dict[str, Any] = {}
    if kind != "simple":
        gate = config["recurrent_activation"]
        options["recurrent_activation"] = activation_name(gate, "recurrent_activation", layer)
    return spec_or_refusal(
        layer,
        Recurrent,
        kind=kind,
        units=config["units"],
        activation=activation_name(config["activation"], "activation", layer),
        use_bias=bool(config.get("use_bias", True)),
        return_sequences=bool(config["return_sequences"]),
        return_state=bool(config["return_state"]),
        go_backwards=bool(config["go_backwards"]),
        reset_after=bool(config.get("reset_after", True)),
        zero_output_for_mask=bool(config.get("zero_output_for_mask", False)),
        dropout=float(config.get("dropout", 0.0)),
        recurrent_dropout=float(config.get("recurrent_dropout", 0.0)),
        **options,
    )


def _read_pair(layer: keras.layers.Bidirectional) -> Recurrent:
    """A Bidirectional: the forward half's node, the backward half the same but reversed."""
    plain_config(layer)
    forward, backward = _read_one(layer.forward_layer), _read_one(layer.backward_layer)
    if forward.go_backwards or not backward.go_backwards:
        raise ModelFileError(
            f"{describe(layer)}: its forward half must read forwards and its backward half "
            "backwards"
        )
    if dataclasses.replace(backward, go_backwards=False) != forward:
        raise ModelFileError(
            f"{describe(layer)} has a backward_layer that differs from its forward layer "
            f"({backward.describe()} vs {forward.describe()}): only identical halves are "
            "supported"
        )
    return dataclasses.replace(forward, bidirectional=True, merge_mode=layer.merge_mode)


@register
class RecurrentTranslator(NodeTranslator):
    takes_mask = True
    """SimpleRNN / LSTM / GRU, and Bidirectional of identical halves (any merge_mode)."""

    kind_class = Recurrent
    keras_classes = (*RECURRENT_CLASSES.values(), keras.layers.Bidirectional)

    @classmethod
    def layer(cls, kind: Recurrent, name: str, dtype: str) -> keras.layers.Layer:
        """A bidirectional node `name` wraps `name_<kind>` (Keras names the halves)."""
        if not kind.bidirectional:
            return _one_direction(kind, name, dtype, kind.go_backwards)
        if kind.zero_output_for_mask != kind.return_sequences:
            raise ModelFileError(
                f"node {name!r}: Keras's Bidirectional sets zero_output_for_mask to "
                f"return_sequences ({kind.return_sequences}); the node has "
                f"{kind.zero_output_for_mask}"
            )
        inner = _one_direction(kind, f"{name}_{kind.kind}", dtype, backwards=False)
        return keras.layers.Bidirectional(inner, merge_mode=kind.merge_mode, dtype=dtype, name=name)

    @classmethod
    def apply(
        cls, kind: Recurrent, name: str, dtype: str, inputs: list[Any], mask: Any = None
    ) -> list[Any]:
        layer = cls.layer(kind, name, dtype)
        states = inputs[1:]
        extra = ({"initial_state": states} if states else {}) | (
            {"mask": mask} if mask is not None else {}
        )
        outputs = layer(inputs[0], **extra)
        return list(outputs) if isinstance(outputs, list | tuple) else [outputs]

    @classmethod
    def kind_of(cls, layer: keras.layers.Layer) -> Recurrent:
        if type(layer) is keras.layers.Bidirectional:
            return _read_pair(layer)
        return _read_one(layer)

    @classmethod
    def to_canonical(
        cls, layer: keras.layers.Layer, kind: Recurrent, names: set[str]
    ) -> dict[str, np.ndarray]:
        order = KERAS_GATE_ORDER[kind.kind]
        arrays: dict[str, np.ndarray] = {}
        for direction, cell in direction_cells(layer, kind).items():
            parts = {
                "W": gate_blocks(numpy_copy(cell.kernel), order),  # (in, gates * units)
                "U": gate_blocks(numpy_copy(cell.recurrent_kernel), order),  # (units, ...)
            }
            if kind.use_bias:
                bias = numpy_copy(cell.bias)  # (gates * units,) or (2, gates * units)
                if has_two_biases(kind):
                    parts["b"], parts["c"] = (
                        gate_blocks(bias[0], order),
                        gate_blocks(bias[1], order),
                    )
                else:
                    parts["b"] = gate_blocks(bias, order)
                    parts["c"] = {gate: np.zeros_like(a) for gate, a in parts["b"].items()}
            for param, gates in parts.items():
                for gate, array in gates.items():
                    arrays[f"{direction}/{param}/{gate}"] = array
        return arrays

    @classmethod
    def assignments(
        cls, layer: keras.layers.Layer, kind: Recurrent, arrays: dict[str, np.ndarray], where: str
    ) -> Plan:
        order = KERAS_GATE_ORDER[kind.kind]
        plan: Plan = []
        for direction, cell in direction_cells(layer, kind).items():

            def joined(param: str, axis: int, direction: str = direction) -> np.ndarray:
                blocks = [arrays[f"{direction}/{param}/{gate}"] for gate in order]
                return np.concatenate(blocks, axis=axis)

            plan += [
                (cell.kernel, joined("W", 1), f"{where} {direction} kernel"),
                (cell.recurrent_kernel, joined("U", 1), f"{where} {direction} recurrent_kernel"),
            ]
            if kind.use_bias:
                b, c = joined("b", 0), joined("c", 0)
                bias = np.stack([b, c]) if has_two_biases(kind) else b + c
                plan.append((cell.bias, bias, f"{where} {direction} bias"))
        return plan
