"""The graph translator tables: which translator handles a Keras class, and which a node kind.

A translator is one small class per node kind (nobuco's converters are the model, as in
`keras_impl.translators.table`): it applies the Keras layer(s) of a node to their inputs, reads
a node kind back from a Keras layer (`kind_of`, the graph's `spec_of`), and names the Keras
variables behind each canonical array (`to_canonical`, `assignments`).
`register` files it under its node kind class and every Keras class it reads, so supporting a
new kind is one new class, never a new branch.
"""

from __future__ import annotations

from typing import Any, ClassVar

import keras
import numpy as np

from keras_impl.translators.common import describe, numpy_copy
from shared.errors import ModelFileError
from shared.graph.base import NodeKind

Plan = list[tuple[keras.Variable, np.ndarray, str]]  # (variable, new value, where)


class NodeTranslator:
    """One node kind. Subclasses set the class attributes and `layer` / `kind_of`.

    params maps each canonical array name to the Keras variable attribute holding it, for the
    kinds whose canonical arrays are Keras's own (nothing to transpose or reorder); an array
    the node kind does not name (use_bias=False, center=False) is skipped.
    """

    kind_class: ClassVar[type[NodeKind] | None] = None
    keras_classes: ClassVar[tuple[type, ...]] = ()
    params: ClassVar[dict[str, str]] = {}
    takes_mask: ClassVar[bool] = False  # its Keras call takes mask= (a length_mask's reader)

    @classmethod
    def layer(cls, kind: Any, name: str, dtype: str) -> keras.layers.Layer:
        """The Keras layer computing `kind`, named `name`, in `dtype`."""
        raise NotImplementedError(cls.__name__)

    @classmethod
    def apply(
        cls, kind: Any, name: str, dtype: str, inputs: list[Any], mask: Any = None
    ) -> list[Any]:
        """The node's output tensors: its layer called on its inputs (one input: bare), with
        `mask=` where a length_mask node feeds it (only where `takes_mask`)."""
        extra = {} if mask is None else {"mask": mask}
        outputs = cls.layer(kind, name, dtype)(inputs[0] if len(inputs) == 1 else inputs, **extra)
        return list(outputs) if isinstance(outputs, list | tuple) else [outputs]

    @classmethod
    def kind_of(cls, layer: keras.layers.Layer) -> NodeKind:
        """The node kind of `layer`, or ModelFileError naming the layer and the option."""
        raise NotImplementedError(cls.__name__)

    @classmethod
    def holder(cls, layer: keras.layers.Layer) -> keras.layers.Layer:
        """The layer whose variables hold the weights (a wrapper's inner layer)."""
        return layer

    @classmethod
    def to_canonical(
        cls, layer: keras.layers.Layer, kind: Any, names: set[str]
    ) -> dict[str, np.ndarray]:
        """The canonical arrays `names` of `layer` (copies)."""
        holder = cls.holder(layer)
        return {
            name: numpy_copy(getattr(holder, attr))
            for name, attr in cls.params.items()
            if name in names
        }

    @classmethod
    def assignments(
        cls, layer: keras.layers.Layer, kind: Any, arrays: dict[str, np.ndarray], where: str
    ) -> Plan:
        """(variable, new value, where) for every variable; nothing is assigned here."""
        holder = cls.holder(layer)
        return [
            (getattr(holder, attr), arrays[name], f"{where} {name} ({attr})")
            for name, attr in cls.params.items()
            if name in arrays
        ]


BY_KIND: dict[type, type[NodeTranslator]] = {}
BY_KERAS: dict[type, type[NodeTranslator]] = {}
SUPPORTED = (
    "SimpleRNN, LSTM, GRU, Bidirectional, Embedding, Masking, Dense, TimeDistributed(Dense), "
    "Activation, Dropout, SpatialDropout1D, GaussianNoise, GaussianDropout, AlphaDropout, "
    "LayerNormalization, BatchNormalization, GlobalAveragePooling1D, GlobalMaxPooling1D, "
    "Flatten, Reshape((-1,)), RepeatVector, Cropping1D + Flatten (one step), Add, Subtract, "
    "Multiply, Average, Maximum, Minimum, Concatenate, Softmax, Dot, Conv1D, MaxPooling1D, "
    "AveragePooling1D, Permute, and the ops sum, mean, max, min and transpose"
)


def register(translator: type[NodeTranslator]) -> type[NodeTranslator]:
    """File `translator` under its node kind class and each Keras class it reads (a decorator)."""
    if translator.kind_class is not None:
        BY_KIND[translator.kind_class] = translator
    for keras_class in translator.keras_classes:
        BY_KERAS[keras_class] = translator
    return translator


def for_layer(layer: Any) -> type[NodeTranslator]:
    """The translator of a Keras layer, matched by exact class (a subclass may compute otherwise).

    Raises:
        ModelFileError: `layer 'lam' (Lambda) is not supported: supported are ...`.
    """
    translator = BY_KERAS.get(type(layer))
    if translator is None:
        raise ModelFileError(f"{describe(layer)} is not supported: supported are {SUPPORTED}")
    return translator


def for_kind(kind: NodeKind) -> type[NodeTranslator]:
    """The translator that builds and fills the layer(s) of a node kind."""
    return BY_KIND[type(kind)]
