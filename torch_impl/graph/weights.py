"""A GraphNet's weights to and from the canonical format (`shared.graph.weights.GraphWeights`).

Each node's translator (`torch_impl.graph.translators`) says which torch tensor holds which
canonical array; these functions only walk the nodes. Copying in checks every array against the
graph and every target tensor's shape and dtype before any tensor changes, so a misfit leaves
the model untouched.
"""

from __future__ import annotations

import torch

from shared.errors import WeightFormatError
from shared.graph.weights import GraphWeights
from torch_impl.graph.model import GraphNet, build_graph_model, read_graph
from torch_impl.graph.translators import for_kind
from torch_impl.translators import Pair


def graph_to_canonical(model: GraphNet) -> GraphWeights:
    """The canonical arrays of every node of `model` (numpy copies)."""
    graph, modules = read_graph(model)
    arrays = {}
    for node in graph.nodes:
        held = for_kind(node.kind).arrays.to_canonical(modules[node.name], node.kind)
        if held:
            arrays[node.name] = held
    return GraphWeights(graph, arrays).validate()


def _pairs(net: GraphNet, weights: GraphWeights) -> list[Pair]:
    """Every target tensor of `net` with the value `weights` puts there, all checked."""
    graph, modules = read_graph(net)
    pairs = []
    for node in graph.nodes:
        module, arrays = modules[node.name], weights.arrays.get(node.name, {})
        for target, value in for_kind(node.kind).arrays.assignments(module, node.kind, arrays):
            if target.shape != value.shape or target.dtype != value.dtype:
                raise WeightFormatError(
                    f"node {node.name!r} ({node.kind.type}): internal mapping error: "
                    f"{tuple(value.shape)} {value.dtype} for a {tuple(target.shape)} "
                    f"{target.dtype}"
                )
            pairs.append((target, value))
    return pairs


def graph_set_canonical(model: GraphNet, weights: GraphWeights) -> None:
    """Copy canonical weights into `model`; every check happens before any tensor changes.

    Raises:
        WeightFormatError: for weights of another graph, or naming the node, array and shape
            that do not fit.
    """
    if not isinstance(weights, GraphWeights):
        raise WeightFormatError(f"expected GraphWeights, got {type(weights).__name__}")
    if weights.graph != model.graph:
        raise WeightFormatError("the weights belong to another graph than the model's")
    weights.validate()
    pairs = _pairs(model, weights)
    with torch.no_grad():
        for target, value in pairs:
            target.copy_(value)


def graph_from_canonical(weights: GraphWeights) -> GraphNet:
    """Build the GraphNet `weights.graph` describes and load the weights into it."""
    net = build_graph_model(weights.validate().graph)
    graph_set_canonical(net, weights)
    return net
