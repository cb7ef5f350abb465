"""The reading room: users' own torch models and files read into the project's descriptions.

A live module's forward, traced with torch.fx, read onto the model graph (`shared.graph`):

module_graph.py   read_module_graph, ModuleReading (layouts, origins, the user's runs)
tracing.py        the fx trace, packing, Variable, len and range kept whole; eval mode
walk.py           the walk over the fx trace: each node to its reader, by table
modules.py        readers by module class (Linear, Embedding, norms, Conv1d, pools, ...)
recurrent.py      nn.RNN / nn.LSTM / nn.GRU: one recurrent node per layer, states, h0
functions.py      readers by function and method name (activations, softmax, zeros, ...)
merges.py         +, -, *, torch.cat, torch.bmm, mean / sum / max / min over an axis
indexing.py       out[:, -1], h_n rows, transpose / permute, squeeze, flatten, view
packing.py        forward(x, lengths): pack / pad_packed_sequence, out[arange, lengths - 1]
shaping.py        what readers share: torch dims to graph axes, elementwise nodes
builder.py        the graph as it grows: shapes checked per node, the input's layout
values.py         what each fx value is to the reader

The same forward read onto the chain grammar, and what holds no forward (the chain route):

traced.py         the fx tracer, and refusals naming the construct and source line
traced_model.py   trace_module: a chain's spec and canonical weights, the user's runs (the one
                  route from a live module to canonical weights)
traced_values.py, traced_readout.py, traced_head.py   the chain walk's values and readers
user_models.py    a bare state dict, Lightning checkpoint or .safetensors read by key layout
user_layout.py    where each tensor of a state dict belongs
user_class.py     `--module pkg.mod:Class`: the user's class imported and loaded from a file
"""

from torch_impl.reading.module_graph import ModuleReading, read_module_graph

__all__ = ["ModuleReading", "read_module_graph"]
