"""The Keras side of the model graph (`shared.graph`): build, read, weights, predict, files.

model.py        build_graph_model, graph_predict, graph_node_outputs
reading.py      read_graph: any Functional or Sequential model as a graph
weights.py      graph_to_canonical, graph_set_canonical, graph_from_canonical
io.py           save_graph_model, load_graph_model
translators/    one translator per node kind, found by Keras class or node kind
"""

from keras_impl.graph.io import load_graph_model, save_graph_model
from keras_impl.graph.model import build_graph_model, graph_node_outputs, graph_predict
from keras_impl.graph.reading import read_graph
from keras_impl.graph.weights import graph_from_canonical, graph_set_canonical, graph_to_canonical

__all__ = [
    "build_graph_model",
    "graph_from_canonical",
    "graph_node_outputs",
    "graph_predict",
    "graph_set_canonical",
    "graph_to_canonical",
    "load_graph_model",
    "read_graph",
    "save_graph_model",
]
