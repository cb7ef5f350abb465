"""The model graph read back from any Keras model, with the Keras layer behind each node.

Keras's own graph is walked, not the layer list: a Functional model (a Sequential through the
Functional it builds) records one `Node` per layer call, whose `arguments` hold the tensors it
was called on and whose tensors' `_keras_history` names the layer and output that made them.
Starting from the model's outputs and following only data (the called-on tensors and
`initial_state=`, never the `mask=` Keras fills in; a `mask=` passed by hand is refused), the
reader finds every layer that computes
an output, so the ops Keras adds to compute masks are never mistaken for layers. Node names are
Keras layer names; each layer's translator (`keras_impl.graph.translators`) reads its node.
Anything it cannot read exactly is one `ModelFileError` naming the layer.
"""

from __future__ import annotations

from typing import Any

import keras

from keras_impl.graph.lengths import read_length_mask
from keras_impl.graph.translators import for_layer
from keras_impl.reading import layer_dtype
from keras_impl.translators.common import describe
from shared.errors import ModelFileError, SpecError
from shared.graph.layers import LengthMask
from shared.graph.model import GraphInput, ModelGraph, Node, Ref
from shared.graph.shape_ops import Flatten, Step

_DATA_KWARGS = ("initial_state",)  # keyword arguments carrying data; mask/training do not


def _functional(model: Any) -> keras.Model:
    """The Functional graph of `model` (a Sequential's own), or a refusal naming the model."""
    if not isinstance(model, keras.Model):
        raise ModelFileError(f"expected a keras.Model, got {type(model).__name__}")
    functional = (
        getattr(model, "_functional", None) if isinstance(model, keras.Sequential) else model
    )
    if functional is None or not hasattr(functional, "_nodes_by_depth"):
        raise ModelFileError(
            f"model {model.name!r} ({type(model).__name__}) has no graph of layer calls: start "
            "it with keras.Input(...) (a subclassed model is not supported)"
        )
    return functional


def _ref(tensor: Any) -> Ref:
    history = tensor._keras_history  # (operation, node_index, tensor_index)
    return Ref(history.operation.name, history.tensor_index)


def _data_tensors(node: Any) -> list[Any]:
    """The tensors a layer call computes from: its positional argument, then initial_state."""
    layer, arguments = node.operation, node.arguments
    unknown = set(arguments.kwargs) - {"mask", "training", *_DATA_KWARGS}
    if len(arguments.args) != 1 or unknown:
        extra = sorted(unknown) or [f"{len(arguments.args)} positional arguments"]
        raise ModelFileError(f"{describe(layer)} is called with {', '.join(extra)}: not supported")
    first = arguments.args[0]
    tensors = list(first) if isinstance(first, list | tuple) else [first]
    for key in _DATA_KWARGS:
        value = arguments.kwargs.get(key)
        tensors += (
            list(value) if isinstance(value, list | tuple) else [] if value is None else [value]
        )
    return tensors


def _calls(functional: keras.Model) -> dict[Any, Any]:
    """Each layer that computes an output -> its one call, in topological order."""
    producer: dict[Any, list[Any]] = {}
    for depth in functional._nodes_by_depth.values():
        for node in depth:
            producer.setdefault(node.operation, []).append(node)
    reached, stack = set(), [t._keras_history.operation for t in functional.outputs]
    while stack:
        layer = stack.pop()
        if layer in reached or isinstance(layer, keras.layers.InputLayer):
            continue
        if len(producer[layer]) > 1:
            raise ModelFileError(
                f"{describe(layer)} is called {len(producer[layer])} times (shared weights): "
                "every layer must be used once"
            )
        reached.add(layer)
        stack += [t._keras_history.operation for t in _data_tensors(producer[layer][0])]
    return {op: producer[op][0] for op in functional.operations if op in reached}


def _graph_input(tensor: Any) -> GraphInput:
    name, shape = tensor._keras_history.operation.name, tuple(tensor.shape[1:])
    if shape == () and "int" in str(tensor.dtype):
        return GraphInput(name, "lengths")
    if len(shape) == 1:
        return GraphInput(name, "tokens", shape[0])
    if len(shape) != 2 or shape[1] is None:
        raise ModelFileError(
            f"input {name!r} is shaped {tuple(tensor.shape)}: supported are (batch, time, "
            "features) floats and (batch, time) token ids"
        )
    return GraphInput(name, "floats", shape[0], shape[1])


def _fused_step(kind: Any, refs: tuple[Ref, ...], crops: dict[str, Node]) -> Node | None:
    """A Flatten of a one-step Cropping1D: the step node, reading what the crop read."""
    crop = crops.pop(refs[0].node, None) if isinstance(kind, Flatten) else None
    return None if crop is None else Node("", crop.kind, crop.inputs)


def _length_masked(found: tuple, refs: tuple[Ref, ...], nodes: list[Node]) -> tuple[Ref, ...]:
    """`refs` reading the length_mask node `found` names (added to `nodes` once) in place of
    the sequence it masks."""
    name, sequence, lengths, min_length = found
    if all(node.name != name for node in nodes):
        nodes.append(Node(name, LengthMask(min_length), (_ref(sequence), _ref(lengths))))
    return (Ref(name), *refs[1:])


def read_graph(model: keras.Model) -> tuple[ModelGraph, dict[str, Any]]:
    """Read a Keras model (Functional or Sequential) into a model graph.

    Args:
        model: a built Keras model of built-in layers: branches, merges, several inputs and
            outputs, return_state and initial_state= between layers are all read.

    Returns:
        The graph (node names = layer names) and, per node name, the Keras layer computing it
        (for a one-step readout, the Flatten after its Cropping1D).

    Raises:
        ModelFileError: one line naming the layer, its class and the option or use at fault:
            an unsupported class (Lambda, a custom layer), a layer called twice, stateful=True,
            Bidirectional halves that differ, Dot(normalize=True), mixed precision, ...
    """
    functional = _functional(model)
    calls = _calls(functional)
    nodes: list[Node] = []
    layers: dict[str, keras.layers.Layer] = {}
    crops: dict[str, Node] = {}  # one-step Cropping1D waiting for its Flatten
    for layer, call in calls.items():
        kind = for_layer(layer).kind_of(layer)
        refs = tuple(_ref(tensor) for tensor in _data_tensors(call))
        found = read_length_mask(call.arguments.kwargs.get("mask"))
        # made from this layer's own input: a length_mask node; else Keras propagated it
        if found is not None and found[1] is _data_tensors(call)[0]:
            refs = _length_masked(found, refs, nodes)
        for ref in refs:
            if ref.node in crops and not isinstance(kind, Flatten):
                raise ModelFileError(
                    f"{describe(layer)} reads a Cropping1D: only a Flatten may follow one"
                )
        node = Node(layer.name, kind, refs)
        if isinstance(kind, Step):
            crops[layer.name] = node
            continue
        fused = _fused_step(kind, refs, crops)
        nodes.append(Node(layer.name, fused.kind, fused.inputs) if fused else node)
        layers[layer.name] = layer
    # ops (keras.ops.sum, ...) hold no dtype policy: they compute in their inputs' dtype
    dtypes = {layer_dtype(layer) for layer in calls if isinstance(layer, keras.layers.Layer)}
    dtypes = dtypes or {t.dtype for t in functional.inputs if t.dtype.startswith("float")}
    if crops or len(dtypes) != 1:
        problem = f"ends in Cropping1D {sorted(crops)}" if crops else f"mixes dtypes {dtypes}"
        raise ModelFileError(f"model {model.name!r} {problem}: not supported")
    dtype = dtypes.pop()
    inputs = tuple(_graph_input(t) for t in functional.inputs)
    for graph_input, tensor in zip(inputs, functional.inputs, strict=True):
        if graph_input.kind == "floats" and tensor.dtype != dtype:
            raise ModelFileError(
                f"input {graph_input.name!r} is {tensor.dtype} while the layers are {dtype}: "
                "Keras rounds the inputs to it, so only one float dtype throughout is supported"
            )
    try:
        graph = ModelGraph(
            inputs=inputs,
            nodes=tuple(nodes),
            outputs=tuple(_ref(t) for t in functional.outputs),
            dtype=dtype,
        )
    except SpecError as error:
        raise ModelFileError(f"model {model.name!r} is not supported: {error}") from None
    _check_masks(graph, calls)
    return graph, layers


def _check_masks(graph: ModelGraph, calls: dict[Any, Any]) -> None:
    """Refuse a `mask=` given by hand where Keras would propagate none.

    Keras fills a call's `mask` from its input's own mask; one the graph does not derive
    (Embedding(mask_zero), Masking, carried on) was passed by hand and would be dropped
    silently, so the port would compute on steps the user's model skips.
    """
    for layer, call in calls.items():
        if call.arguments.kwargs.get("mask") is None:
            continue
        node = graph.by_name.get(layer.name)  # its first input may be a length_mask node
        first = node.inputs[0] if node is not None else _ref(_data_tensors(call)[0])
        if not graph.masked(first):
            raise ModelFileError(
                f"{describe(layer)} is called with a mask= of its own: masks are read only as "
                "Keras propagates them (from Embedding(mask_zero) or Masking) or as a lengths "
                "input makes them (keras_impl.graph.lengths)"
            )
