"""The torch side of the model graph (`shared.graph`): any graph as a plain nn.Module.

model.py        GraphNet (one module per node), build_graph_model, graph_predict, read_graph
translators.py  one translator per node kind: its module builder and its canonical arrays
layers.py       step-wise kinds (embedding, masking, dense, dropout, norms) and the base
shape_ops.py    pooling, flatten, repeat, step, merges, softmax, dot, conv1d, pool1d
recurrent.py    the recurrent node: torch's fused modules where exact, the step loop elsewhere
weights.py      graph_to_canonical, graph_set_canonical, graph_from_canonical
io.py           save_graph_model, load_graph_model (.pt, .safetensors; no pickled code)
export.py       export_graph_program, run_graph_program (.pt2 that plain torch runs)
"""

from torch_impl.graph.export import export_graph_program, run_graph_program
from torch_impl.graph.io import holds_graph, load_graph_model, save_graph_model
from torch_impl.graph.model import GraphNet, build_graph_model, graph_predict, read_graph
from torch_impl.graph.weights import graph_from_canonical, graph_set_canonical, graph_to_canonical

__all__ = [
    "GraphNet",
    "build_graph_model",
    "export_graph_program",
    "graph_from_canonical",
    "graph_predict",
    "graph_set_canonical",
    "graph_to_canonical",
    "holds_graph",
    "load_graph_model",
    "read_graph",
    "run_graph_program",
    "save_graph_model",
]
