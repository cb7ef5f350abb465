"""The numpy forward pass over any model graph: the oracle both frameworks are tested against.

`evaluate` runs the nodes in order with each kind's formula (`shared.graph.reference_ops`),
carrying masks as Keras carries them, and keeps every value, so a failed port can say which
node diverges first. `graph_inputs` checks inputs once for the reference and both impls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from shared.errors import DataError
from shared.graph.layers import Embedding, LengthMask
from shared.graph.model import GraphInput, ModelGraph
from shared.graph.reference_ops import FORMULAS, Mask
from shared.graph.weights import GraphWeights
from shared.inputs import token_ids


@dataclass
class GraphTrace:
    """Every value the forward pass computed: values[node][output], masks[node][output]."""

    values: dict[str, list[np.ndarray]]
    masks: dict[str, list[Mask]]
    outputs: list[np.ndarray]


def _vocab(graph: ModelGraph, name: str) -> int:
    """The smallest vocabulary of the embeddings reading token input `name`."""
    sizes = [
        node.kind.vocab
        for node in graph.nodes
        if isinstance(node.kind, Embedding) and any(ref.node == name for ref in node.inputs)
    ]
    return min(sizes) if sizes else np.iinfo(np.int64).max


def _one_input(graph: ModelGraph, graph_input: GraphInput, X: Any) -> np.ndarray:
    where = f"input {graph_input.name!r}"
    if graph_input.kind == "lengths":
        return _lengths(X, where, lowest_length(graph, graph_input.name))
    if graph_input.kind == "tokens":
        ids = token_ids(X, _vocab(graph, graph_input.name))
        time = ids.shape[1]
    else:
        X = np.asarray(X)
        if X.ndim != 3 or X.shape[1] < 1 or X.shape[2] != graph_input.features:
            raise DataError(
                f"{where} must be shaped (samples, time, {graph_input.features}), got {X.shape}"
            )
        if not np.all(np.isfinite(X)):
            raise DataError(f"{where} holds NaN or infinite values")
        ids, time = np.ascontiguousarray(X.astype(graph.dtype)), X.shape[1]
    if graph_input.time_steps is not None and time != graph_input.time_steps:
        raise DataError(f"{where} must have {graph_input.time_steps} time steps, got {time}")
    return ids


def lowest_length(graph: ModelGraph, name: str) -> int:
    """The least length lengths input `name` takes: 0 where every length_mask reading it clamps
    lengths to >= 1 first (torch's lengths.clamp(min=1)), else 1."""
    floors = [
        node.kind.min_length
        for node in graph.nodes
        if isinstance(node.kind, LengthMask) and node.inputs[1].node == name
    ]
    return 0 if floors and min(floors) == 1 else 1


def _lengths(X: Any, where: str, lowest: int = 1) -> np.ndarray:
    """Sequence lengths (batch,) as int64: whole numbers >= `lowest` (the node that reads them
    checks that they fit its sequence)."""
    X = np.asarray(X)
    if X.ndim != 1 or X.size == 0:
        raise DataError(f"{where} holds lengths, one per sample (samples,), got shape {X.shape}")
    if X.dtype == bool or not np.issubdtype(X.dtype, np.number):
        raise DataError(f"{where} holds lengths: whole numbers, got dtype {X.dtype}")
    if not np.all(np.isfinite(X)) or np.any(np.round(X) != X) or np.any(np.less(X, lowest)):
        raise DataError(f"{where} holds lengths: whole numbers >= {lowest}, got {X.tolist()}")
    return X.astype(np.int64)


def graph_inputs(graph: ModelGraph, inputs: Any) -> dict[str, np.ndarray]:
    """Inputs by name, checked and cast: floats in the graph's dtype, token ids as int64.

    `inputs` is one array (a one-input graph), a sequence in the graph's input order, or a
    mapping by input name.

    Raises:
        DataError: naming the input and the shape, value or count problem.
    """
    names = [graph_input.name for graph_input in graph.inputs]
    if isinstance(inputs, dict):
        if set(inputs) != set(names):
            raise DataError(f"inputs must be named {names}, got {sorted(inputs)}")
        given = [inputs[name] for name in names]
    elif isinstance(inputs, list | tuple):
        given = list(inputs)
    else:
        given = [inputs]
    if len(given) != len(names):
        raise DataError(f"the model takes {len(names)} input(s) {names}, got {len(given)}")
    checked = {
        graph_input.name: _one_input(graph, graph_input, value)
        for graph_input, value in zip(graph.inputs, given, strict=True)
    }
    batches = {value.shape[0] for value in checked.values()}
    if len(batches) != 1:
        raise DataError(f"inputs must share one batch size, got {sorted(batches)}")
    return checked


def evaluate(weights: GraphWeights, inputs: Any) -> GraphTrace:
    """Run the whole graph on `inputs` (see `graph_inputs`) and keep every value and mask."""
    graph = weights.validate().graph
    values: dict[str, list[np.ndarray]] = {}
    masks: dict[str, list[Mask]] = {}
    for name, array in graph_inputs(graph, inputs).items():
        values[name], masks[name] = [array], [None]
    for node in graph.nodes:
        arguments = [values[ref.node][ref.output] for ref in node.inputs]
        argument_masks = [masks[ref.node][ref.output] for ref in node.inputs]
        formula = FORMULAS[type(node.kind)]
        try:
            outputs, output_masks = formula(
                node.kind, weights.arrays.get(node.name, {}), arguments, argument_masks
            )
        except DataError as error:  # e.g. lengths longer than the sequence they mask
            reads = ", ".join(repr(ref.node) for ref in node.inputs)
            where = f"node {node.name!r} ({node.kind.type}) reading {reads}"
            raise DataError(f"{where}: {error}") from None
        values[node.name] = [np.asarray(output, dtype=graph.dtype) for output in outputs]
        masks[node.name] = output_masks
    outputs = [values[ref.node][ref.output] for ref in graph.outputs]
    return GraphTrace(values, masks, outputs)


def predict(weights: GraphWeights, inputs: Any) -> list[np.ndarray]:
    """The graph's outputs, one array per output (batch first)."""
    return evaluate(weights, inputs).outputs
