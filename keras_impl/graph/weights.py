"""A Keras model's weights as the graph's canonical arrays, and back, node by node.

Each node's translator (found from its Keras layer's class) names the Keras variables behind
its canonical arrays; this module only walks the nodes, checks every array against its
variable, and assigns, all or nothing.
"""

from __future__ import annotations

import keras

from keras_impl.graph.model import build_graph_model
from keras_impl.graph.reading import read_graph
from keras_impl.graph.translators import for_layer
from shared.errors import WeightFormatError
from shared.graph.model import ModelGraph, same_graph
from shared.graph.weights import GraphWeights


def graph_to_canonical(model: keras.Model) -> GraphWeights:
    """The model's weights in the canonical graph format (copies; one-bias layers c = 0).

    Raises:
        ModelFileError: if `read_graph` refuses the model.
    """
    graph, layers = read_graph(model)
    arrays = {}
    for node in graph.nodes:
        names = set(graph.weight_shapes(node))
        if names:
            layer = layers[node.name]
            arrays[node.name] = for_layer(layer).to_canonical(layer, node.kind, names)
    return GraphWeights(graph, arrays).validate()


def _first_difference(mine: ModelGraph, theirs: ModelGraph) -> str:
    for name, node in mine.by_name.items():
        other = theirs.by_name.get(name)
        if node != other:
            return f"the model has {node.describe()}, the weights {other and other.describe()}"
    return f"the model is\n{mine.describe()}\nthe weights are for\n{theirs.describe()}"


def graph_set_canonical(model: keras.Model, weights: GraphWeights) -> None:
    """Write canonical graph weights into a Keras model, all or nothing.

    Args:
        model: a model `read_graph` reads, of the weights' graph.
        weights: canonical weights; recurrent biases b + c are written as one where Keras
            keeps one bias.

    Raises:
        WeightFormatError: naming the node, array and shape at fault, or the first node where
            the model's graph and the weights' differ; the model is then unchanged.
    """
    weights.validate()
    graph, layers = read_graph(model)
    if not same_graph(graph, weights.graph):
        raise WeightFormatError(
            f"the weights are for another graph than the model: "
            f"{_first_difference(graph, weights.graph)}"
        )
    plan = []
    for node in graph.nodes:
        if node.name in weights.arrays:
            layer, where = layers[node.name], f"node {node.name!r} ({node.kind.type})"
            plan += for_layer(layer).assignments(layer, node.kind, weights.arrays[node.name], where)
    for variable, array, where in plan:
        if tuple(variable.shape) != array.shape:
            raise WeightFormatError(
                f"{where}: the model's variable has shape {tuple(variable.shape)}, the weights "
                f"give {array.shape}"
            )
    for variable, array, _ in plan:
        variable.assign(array)


def graph_from_canonical(weights: GraphWeights) -> keras.Model:
    """Build the Keras model of `weights.graph` (see `build_graph_model`) holding these weights.

    Raises:
        WeightFormatError: if the weights do not fit their own graph.
    """
    weights.validate()
    model = build_graph_model(weights.graph)
    graph_set_canonical(model, weights)
    return model
