"""The translator tables: which translator handles a Keras layer class, and which a spec class.

A translator is one small class per layer kind of the grammar (nobuco's converters are the
model): it builds the Keras layer(s) for its spec (`build`), reads the spec back from a Keras
layer (`spec_of`), and names the Keras variables behind each canonical array (`to_canonical`,
`assignments`: the same two words as torch_impl's translators). `register` files it under its
spec class and every Keras class it reads, so supporting a new kind is one new class, never a
new branch.
"""

from __future__ import annotations

from typing import Any, ClassVar

import keras
import numpy as np

from keras_impl.translators.common import numpy_copy

# Roles a layer plays in the chain [front] -> recurrent -> readout -> head layers -> Dense.
FRONT, RECURRENT, DROPOUT, READOUT, HEAD = "front", "recurrent", "dropout", "readout", "head"


class Translator:
    """One layer kind. Subclasses set the class attributes and `build` / `spec_of`.

    params maps each canonical array name to the Keras variable attribute holding it, for the
    kinds whose canonical arrays are Keras's own (embedding, dense, normalisations): there is
    nothing to transpose or reorder, only names to map.
    """

    spec_class: ClassVar[type | None] = None
    keras_classes: ClassVar[tuple[type, ...]] = ()
    role: ClassVar[str] = HEAD
    params: ClassVar[dict[str, str]] = {}

    @classmethod
    def build(cls, spec: Any, name: str, dtype: str) -> keras.layers.Layer:
        """The Keras layer for `spec`, named `name`, in `dtype`."""
        raise NotImplementedError(cls.__name__)

    @classmethod
    def spec_of(cls, layer: keras.layers.Layer) -> Any:
        """The spec of `layer`, or ModelFileError naming the layer and the setting at fault."""
        raise NotImplementedError(cls.__name__)

    @classmethod
    def holder(cls, layer: keras.layers.Layer) -> keras.layers.Layer:
        """The layer whose variables hold the weights (a wrapper's inner layer)."""
        return layer

    @classmethod
    def to_canonical(cls, layer: keras.layers.Layer, spec: Any) -> Any:
        """The canonical arrays of `layer` (copies), by canonical name."""
        holder = cls.holder(layer)
        return {name: numpy_copy(getattr(holder, attr)) for name, attr in cls.params.items()}

    @classmethod
    def assignments(
        cls, layer: keras.layers.Layer, spec: Any, weights: Any, where: str
    ) -> list[tuple[keras.Variable, np.ndarray, str]]:
        """(variable, new value, where) for every variable; nothing is assigned here."""
        holder = cls.holder(layer)
        return [
            (getattr(holder, attr), weights[name], f"{where} {name} ({attr})")
            for name, attr in cls.params.items()
        ]


BY_SPEC: dict[type, type[Translator]] = {}
BY_KERAS: dict[type, type[Translator]] = {}


def register(translator: type[Translator]) -> type[Translator]:
    """File `translator` under its spec class and each Keras class it reads (a decorator)."""
    if translator.spec_class is not None:
        BY_SPEC[translator.spec_class] = translator
    for keras_class in translator.keras_classes:
        BY_KERAS[keras_class] = translator
    return translator
