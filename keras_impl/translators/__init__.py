"""One translator per layer kind of the grammar, found from tables (see `table`).

    front.py      Embedding, Masking
    recurrent.py  SimpleRNN, LSTM, GRU, Bidirectional
    readout.py    Cropping1D + Flatten (the last step of a bidirectional sequence)
    head.py       Dense, TimeDistributed(Dense), Dropout, LayerNormalization, BatchNormalization

`for_layer` and `for_spec` are the only lookups; a Keras class without a translator is refused
in one line naming the layer and what the grammar supports.
"""

from __future__ import annotations

from typing import Any

import keras

from keras_impl.translators import front, head, readout, recurrent  # noqa: F401 (registers)
from keras_impl.translators.common import describe
from keras_impl.translators.table import BY_KERAS, BY_SPEC, Translator
from shared.errors import ModelFileError

SUPPORTED = (
    "Embedding, Masking, SimpleRNN, LSTM, GRU, Bidirectional, Dropout, Dense, "
    "TimeDistributed(Dense), LayerNormalization, BatchNormalization, and Cropping1D + Flatten "
    "for the last step"
)


def for_layer(layer: keras.layers.Layer) -> type[Translator]:
    """The translator of a Keras layer, matched by exact class (a subclass may compute otherwise).

    Raises:
        ModelFileError: `layer 'conv1d' (Conv1D) is outside the grammar: supported are ...`.
    """
    translator = BY_KERAS.get(type(layer))
    if translator is None:
        raise ModelFileError(f"{describe(layer)} is outside the grammar: supported are {SUPPORTED}")
    return translator


def for_spec(spec: Any) -> type[Translator]:
    """The translator that builds and fills the layer a spec part describes."""
    return BY_SPEC[type(spec)]
