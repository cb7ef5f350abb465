"""A user's torch forward read onto the model graph (`shared.graph`), not the chain.

module_graph.py   read_module_graph, ModuleReading (layouts, origins, the user's runs)
walk.py           the walk over the fx trace: each node to its reader, by table
modules.py        readers by module class (Linear, Embedding, norms, Conv1d, pools, ...)
recurrent.py      nn.RNN / nn.LSTM / nn.GRU: one recurrent node per layer, states, h0
functions.py      readers by function and method name (activations, softmax, zeros, ...)
merges.py         +, -, *, torch.cat, torch.bmm, mean / sum / max / min over an axis
indexing.py       out[:, -1], h_n rows, transpose / permute, squeeze, flatten, view
shaping.py        what readers share: torch dims to graph axes, elementwise nodes
builder.py        the graph as it grows: shapes checked per node, the input's layout
values.py         what each fx value is to the reader
"""

from torch_impl.reading.module_graph import ModuleReading, read_module_graph

__all__ = ["ModuleReading", "read_module_graph"]
