"""What every Keras translator shares: the one-line naming of a layer and the plain-layer checks.

A layer of the grammar is read only if it computes exactly what its spec says: no regularizer
or constraint (each adds a loss term or rewrites weights while training), no LoRA, trainable,
biases on. Each check raises `ModelFileError` naming the layer and the setting.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from shared.errors import ModelFileError, SpecError

# Config keys that must be empty: each adds a loss term or rewrites weights during training.
MUST_BE_NONE = (
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "embeddings_regularizer",
    "beta_regularizer",
    "gamma_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
    "embeddings_constraint",
    "beta_constraint",
    "gamma_constraint",
)


def describe(layer: keras.layers.Layer) -> str:
    """`layer 'name' (Class)`, how every message names a layer."""
    return f"layer {layer.name!r} ({type(layer).__name__})"


def check_plain(
    layer: keras.layers.Layer, config: dict[str, Any] | None = None, need_bias: bool = True
) -> None:
    """Refuse settings that change what the layer computes or how it trains.

    `need_bias=False` lets use_bias=False through, for the model graph, whose nodes carry it.
    """
    config = layer.get_config() if config is None else config
    if need_bias and not config.get("use_bias", True):
        raise ModelFileError(f"{describe(layer)} has use_bias=False: the grammar needs biases")
    for key in MUST_BE_NONE:
        if config.get(key) is not None:
            raise ModelFileError(f"{describe(layer)} sets {key}, which is outside the grammar")
    if config.get("lora_rank"):
        raise ModelFileError(f"{describe(layer)} has LoRA enabled, which is outside the grammar")
    if not layer.trainable:
        raise ModelFileError(
            f"{describe(layer)} is frozen (trainable=False); the grammar trains every layer"
        )


def activation_name(value: Any, what: str, layer: keras.layers.Layer) -> str:
    """A serialized activation as its Keras name; a custom function is outside the grammar."""
    if not isinstance(value, str):
        raise ModelFileError(
            f"{describe(layer)} has a custom {what} (not one of Keras's named activations), "
            "which is outside the grammar"
        )
    return value


def spec_or_refusal(layer: keras.layers.Layer, make: Any, **kwargs: Any) -> Any:
    """`make(**kwargs)`, with a SpecError turned into a ModelFileError naming the layer."""
    try:
        return make(**kwargs)
    except SpecError as error:
        raise ModelFileError(f"{describe(layer)} is outside the grammar: {error}") from None


def numpy_copy(variable: keras.Variable) -> np.ndarray:
    """A numpy copy of a Keras variable (never a view into the framework's buffer)."""
    return np.array(keras.ops.convert_to_numpy(variable))


def inner_dense(layer: keras.layers.Layer) -> keras.layers.Layer:
    """The Dense a TimeDistributed wraps (Dense on every step is Dense on a sequence), or a
    ModelFileError naming both layers when it wraps anything else."""
    if type(layer.layer) is not keras.layers.Dense:
        raise ModelFileError(
            f"{describe(layer)} wraps {describe(layer.layer)}: only TimeDistributed(Dense) is "
            "supported"
        )
    return layer.layer
