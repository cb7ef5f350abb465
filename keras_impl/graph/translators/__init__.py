"""One translator per node kind of the model graph, found from tables (see `table`).

recurrent.py  SimpleRNN, LSTM, GRU, Bidirectional
layers.py     Embedding, Masking, Dense, TimeDistributed(Dense), Activation, the dropout
              family, LayerNormalization, BatchNormalization
shape_ops.py  global pooling, Flatten/Reshape, Cropping1D (one step), RepeatVector, merges,
              Softmax, Dot, Conv1D, pooling 1d
tensor_ops.py keras.ops.sum/mean/max/min (reduce), Permute and ops.transpose (permute)
"""

from keras_impl.graph.translators import (  # noqa: F401 (registers)
    layers,
    recurrent,
    shape_ops,
    tensor_ops,
)
from keras_impl.graph.translators.table import for_kind, for_layer

__all__ = ["for_kind", "for_layer"]
