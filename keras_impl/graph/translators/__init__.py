"""One translator per node kind of the model graph, found from tables (see `table`).

recurrent.py  SimpleRNN, LSTM, GRU, Bidirectional
layers.py     Embedding, Masking, Dense, TimeDistributed(Dense), Activation, the dropout
              family, LayerNormalization, BatchNormalization
shape_ops.py  global pooling, Flatten/Reshape, Cropping1D (one step), RepeatVector, merges,
              Softmax, Dot, Conv1D, pooling 1d
"""

from keras_impl.graph.translators import layers, recurrent, shape_ops  # noqa: F401 (registers)
from keras_impl.graph.translators.table import for_kind, for_layer

__all__ = ["for_kind", "for_layer"]
