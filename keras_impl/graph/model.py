"""Keras models from a model graph, and their outputs: the graph's nodes as built-in layers.

`build_graph_model` is the only place Keras layers are made from a graph (each node through its
kind's translator) and `keras_impl.graph.reading.read_graph` the only place they are read back,
so the two are checked against each other. The model is an ordinary Functional `keras.Model`:
layer names are node names, every layer is in the graph's dtype, token inputs are int32.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from keras_impl.graph.lengths import length_mask
from keras_impl.graph.reading import read_graph
from keras_impl.graph.translators import for_kind
from keras_impl.model import default_compile
from keras_impl.translators.readout import crop_mask_warning_silenced
from shared.errors import ModelFileError
from shared.graph.layers import LengthMask
from shared.graph.model import GraphInput, ModelGraph, Node
from shared.graph.reference import graph_inputs


def _keras_input(graph_input: GraphInput, dtype: str) -> Any:
    if graph_input.kind == "lengths":
        return keras.Input((), dtype="int32", name=graph_input.name)
    if graph_input.kind == "tokens":
        return keras.Input((graph_input.time_steps,), dtype="int32", name=graph_input.name)
    shape = (graph_input.time_steps, graph_input.features)
    return keras.Input(shape, dtype=dtype, name=graph_input.name)


def build_graph_model(graph: ModelGraph, seed: int | None = None) -> keras.Model:
    """Build and compile the Keras model a graph describes, with Keras's default initializers.

    Args:
        graph: the model graph; a step node on a free time axis is refused (Keras's
            Cropping1D needs the length).
        seed: if given, `keras.utils.set_random_seed(seed)` runs first, so the same seed gives
            the same initial weights.

    Returns:
        A Functional `keras.Model` of built-in layers only (loads with safe_mode=True), one
        layer per node named after it (a step node: Cropping1D `name_crop`, then Flatten
        `name`; a bidirectional node `name` wraps `name_<kind>`), compiled like
        `keras_impl.model.default_compile` (Adam, mean squared error) in the graph's dtype.
    """
    if seed is not None:
        keras.utils.set_random_seed(seed)
    inputs = [_keras_input(graph_input, graph.dtype) for graph_input in graph.inputs]
    values: dict[str, list[Any]] = {i.name: [t] for i, t in zip(graph.inputs, inputs, strict=True)}
    length_masks: dict[str, Any] = {}  # length_mask node -> its mask tensor (batch, time)
    with crop_mask_warning_silenced():
        for node in graph.nodes:
            tensors = [values[ref.node][ref.output] for ref in node.inputs]
            if isinstance(node.kind, LengthMask):
                length_masks[node.name] = length_mask(*tensors, node.name, node.kind.min_length)
                values[node.name] = tensors[:1]
                continue
            values[node.name] = _apply(node, graph.dtype, tensors, length_masks)
        outputs = [values[ref.node][ref.output] for ref in graph.outputs]
        model = keras.Model(
            inputs[0] if len(inputs) == 1 else inputs,
            outputs[0] if len(outputs) == 1 else outputs,
            name="rnn_parity_graph",
        )
    default_compile(model, graph.dtype)
    return model


def _apply(node: Node, dtype: str, tensors: list[Any], length_masks: dict[str, Any]) -> list:
    """The node's layer(s) on `tensors`, given `mask=` where a length_mask node feeds it."""
    translator = for_kind(node.kind)
    mask = length_masks.get(node.inputs[0].node)
    if mask is None:
        return translator.apply(node.kind, node.name, dtype, tensors)
    try:
        if not translator.takes_mask:
            raise TypeError(node.kind.type)
        return translator.apply(node.kind, node.name, dtype, tensors, mask=mask)
    except TypeError:  # a Keras layer whose call takes no mask=
        raise ModelFileError(
            f"node {node.name!r} ({node.kind.type}) reads a length_mask: Keras takes a mask= "
            "only in recurrent layers and GlobalAveragePooling1D, so only those may read one"
        ) from None


def _feed(graph: ModelGraph, inputs: Any) -> list[np.ndarray]:
    """The arrays for the graph's inputs in order, checked by `shared.graph.reference`
    (floats in the graph's dtype), token ids as the int32 its keras.Input takes."""
    checked = graph_inputs(graph, inputs)
    return [
        checked[i.name].astype("int32") if i.kind in ("tokens", "lengths") else checked[i.name]
        for i in graph.inputs
    ]


def graph_predict(model: keras.Model, inputs: Any) -> list[np.ndarray]:
    """The model's outputs, computed by the model itself in one batch (`training=False`).

    Args:
        model: a model `read_graph` reads.
        inputs: as `shared.graph.reference.predict` takes them: one array for a one-input
            model, a list in input order or a dict by input name; floats (batch, time,
            features), token ids (batch, time) as integers.

    Returns:
        One array per model output, in the model's dtype.

    Raises:
        DataError: naming the input and its shape, value or count problem.
    """
    graph, _ = read_graph(model)
    feed = _feed(graph, inputs)
    with crop_mask_warning_silenced():
        outputs = model(feed[0] if len(feed) == 1 else feed, training=False)
    outputs = list(outputs) if isinstance(outputs, list | tuple) else [outputs]
    return [np.asarray(ops.convert_to_numpy(output), dtype=graph.dtype) for output in outputs]


def graph_node_outputs(
    model: keras.Model, inputs: np.ndarray | list[np.ndarray] | dict[str, np.ndarray]
) -> dict[str, list[np.ndarray]]:
    """Every node's outputs as the model itself computes them, by node name.

    One Functional model over the same layers returns each layer's outputs, so a port that
    disagrees with its source can name the first node whose values part from the reference.
    """
    graph, layer_of = read_graph(model)
    names = [node.name for node in graph.nodes if node.name in layer_of]
    tensors, counts = [], []
    for name in names:
        produced = layer_of[name].output
        produced = list(produced) if isinstance(produced, list | tuple) else [produced]
        tensors += produced
        counts.append(len(produced))
    # The probe takes its inputs in the structure it is fed: one tensor for a one-input model,
    # else Keras warns on every call that the structures differ.
    probe = keras.Model(model.inputs[0] if len(model.inputs) == 1 else model.inputs, tensors)
    feed = _feed(graph, inputs)
    with crop_mask_warning_silenced():
        values = probe(feed[0] if len(feed) == 1 else feed, training=False)
    values = list(values) if isinstance(values, list | tuple) else [values]
    arrays = [np.asarray(ops.convert_to_numpy(value), dtype=graph.dtype) for value in values]
    result, start = {}, 0
    for name, count in zip(names, counts, strict=True):
        result[name] = arrays[start : start + count]
        start += count
    return result
