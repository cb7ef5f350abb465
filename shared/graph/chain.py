"""Today's chain `ModelSpec` as a model graph: the chain is one way to build a graph.

Node names follow `keras_impl.build_model`'s layer names, so a chain read either way names its
parts alike: "embedding" or "masking", "rnn_0", "rnn_0_dropout", ..., "last_step",
"head_layer0", ..., "head". The arrays map one to one (`graph_weights`): layer k's
`layer{k}/{direction}/{param}/{gate}` is node "rnn_k"'s `{direction}/{param}/{gate}`, the head's
W_y and b_y are node "head"'s W and b.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from shared.grammar import BatchNormSpec, DenseSpec, DropoutSpec, EmbeddingSpec, LayerNormSpec
from shared.graph import layers
from shared.graph.base import NodeKind
from shared.graph.model import GraphInput, ModelGraph, Node, Ref
from shared.graph.recurrent import Recurrent
from shared.graph.shape_ops import Step
from shared.graph.weights import GraphWeights
from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import ModelSpec
from shared.weights import CanonicalWeights


def _recurrent(layer: RecurrentLayerSpec) -> Recurrent:
    return Recurrent(
        kind=layer.kind,
        units=layer.units,
        activation=layer.activation,
        return_sequences=layer.return_sequences,
        reset_after=layer.reset_after or layer.kind != "gru",  # GRU's option only
        # Keras's Bidirectional sets it on both halves when it returns sequences
        zero_output_for_mask=layer.bidirectional and layer.return_sequences,
        bidirectional=layer.bidirectional,
        dropout=layer.dropout,
        recurrent_dropout=layer.recurrent_dropout,
    )


# Chain head layer class -> the node kind computing it.
_HEAD_KINDS: dict[type, Callable[[Any], NodeKind]] = {
    DenseSpec: lambda layer: layers.Dense(layer.units, layer.activation),
    DropoutSpec: lambda layer: layers.Dropout(layer.rate),
    LayerNormSpec: lambda layer: layers.LayerNorm(layer.epsilon),
    BatchNormSpec: lambda layer: layers.BatchNorm(layer.epsilon),
}


def graph_of(spec: ModelSpec) -> ModelGraph:
    """The graph that computes what the chain `spec` computes."""
    kind = "tokens" if spec.embedded else "floats"
    graph_input = GraphInput("x", kind, spec.time_steps, spec.features)
    nodes: list[Node] = []

    def add(name: str, node_kind: NodeKind) -> None:
        previous = nodes[-1].name if nodes else graph_input.name
        nodes.append(Node(name, node_kind, (Ref(previous),)))

    if isinstance(spec.front, EmbeddingSpec):
        add("embedding", layers.Embedding(spec.front.vocab, spec.front.dim, spec.front.mask_zero))
    elif spec.front is not None:
        add("masking", layers.Masking(spec.front.mask_value))
    for index, layer in enumerate(spec.layers):
        add(f"rnn_{index}", _recurrent(layer))
        if layer.output_dropout:
            add(f"rnn_{index}_dropout", layers.Dropout(layer.output_dropout))
    if spec.readout == "last_step":
        add("last_step", Step("last"))
    for index, layer in enumerate(spec.head_layers):
        add(f"head_layer{index}", _HEAD_KINDS[type(layer)](layer))
    add("head", layers.Dense(spec.head.units, spec.head.activation))
    return ModelGraph((graph_input,), tuple(nodes), (Ref("head"),), spec.dtype)


def graph_weights(weights: CanonicalWeights) -> GraphWeights:
    """The chain's canonical arrays, renamed node by node (no array is copied or changed)."""
    spec = weights.validate().spec
    arrays: dict[str, dict[str, np.ndarray]] = {}
    for key, array in weights.to_arrays().items():
        part, _, name = key.partition("/")
        if part.startswith("layer"):
            node = f"rnn_{part.removeprefix('layer')}"
        elif part == "front":
            node = "embedding"
        elif part == "head":
            node, name = "head", name.removesuffix("_y")
        else:  # head_layer{i}
            node = part
        arrays.setdefault(node, {})[name] = array
    return GraphWeights(graph_of(spec), arrays).validate()
