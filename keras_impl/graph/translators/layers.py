"""Graph translators of the step-wise kinds: embedding, masking, dense, activation, dropout
family, layer and batch normalisation.

Their canonical arrays are Keras's own variables (Embedding E = embeddings, Dense W = kernel,
b = bias, normalisations gamma, beta, mean = moving_mean, variance = moving_variance), so each
translator only maps names. Epsilons, center and scale are read from the layer, never assumed.
"""

from __future__ import annotations

from typing import Any

import keras

from keras_impl.graph.translators.common import plain_config
from keras_impl.graph.translators.table import NodeTranslator, register
from keras_impl.translators.common import (
    activation_name,
    describe,
    inner_dense,
    spec_or_refusal,
)
from shared.errors import ModelFileError
from shared.graph.layers import Activation, BatchNorm, Dense, Dropout, Embedding, LayerNorm, Masking


@register
class EmbeddingTranslator(NodeTranslator):
    kind_class = Embedding
    keras_classes = (keras.layers.Embedding,)
    params = {"E": "embeddings"}  # (vocab, dim)

    @classmethod
    def layer(cls, kind: Embedding, name: str, dtype: str) -> keras.layers.Layer:
        return keras.layers.Embedding(
            kind.vocab, kind.dim, mask_zero=kind.mask_zero, dtype=dtype, name=name
        )

    @classmethod
    def kind_of(cls, layer: keras.layers.Layer) -> Embedding:
        config = plain_config(layer)
        return spec_or_refusal(
            layer,
            Embedding,
            vocab=config["input_dim"],
            dim=config["output_dim"],
            mask_zero=bool(config.get("mask_zero", False)),
        )


@register
class MaskingTranslator(NodeTranslator):
    kind_class = Masking
    keras_classes = (keras.layers.Masking,)

    @classmethod
    def layer(cls, kind: Masking, name: str, dtype: str) -> keras.layers.Layer:
        return keras.layers.Masking(mask_value=kind.mask_value, dtype=dtype, name=name)

    @classmethod
    def kind_of(cls, layer: keras.layers.Layer) -> Masking:
        config = plain_config(layer)
        return spec_or_refusal(layer, Masking, mask_value=float(config["mask_value"]))


@register
class DenseTranslator(NodeTranslator):
    kind_class = Dense
    keras_classes = (keras.layers.Dense,)
    params = {"W": "kernel", "b": "bias"}  # (in, units), (units,)

    @classmethod
    def layer(cls, kind: Dense, name: str, dtype: str) -> keras.layers.Layer:
        return keras.layers.Dense(
            kind.units, activation=kind.activation, use_bias=kind.use_bias, dtype=dtype, name=name
        )

    @classmethod
    def kind_of(cls, layer: keras.layers.Layer) -> Dense:
        config = plain_config(layer)
        return spec_or_refusal(
            layer,
            Dense,
            units=config["units"],
            activation=activation_name(config["activation"], "activation", layer),
            use_bias=bool(config["use_bias"]),
        )


@register
class TimeDistributedDenseTranslator(NodeTranslator):
    """TimeDistributed(Dense) is Dense on every step: read as a dense node (built as Dense)."""

    keras_classes = (keras.layers.TimeDistributed,)
    params = DenseTranslator.params

    @classmethod
    def holder(cls, layer: keras.layers.Layer) -> keras.layers.Layer:
        return layer.layer

    @classmethod
    def kind_of(cls, layer: keras.layers.Layer) -> Dense:
        plain_config(layer)
        return DenseTranslator.kind_of(inner_dense(layer))


@register
class ActivationTranslator(NodeTranslator):
    kind_class = Activation
    keras_classes = (keras.layers.Activation,)

    @classmethod
    def layer(cls, kind: Activation, name: str, dtype: str) -> keras.layers.Layer:
        return keras.layers.Activation(kind.activation, dtype=dtype, name=name)

    @classmethod
    def kind_of(cls, layer: keras.layers.Layer) -> Activation:
        config = plain_config(layer)
        activation = activation_name(config["activation"], "activation", layer)
        return spec_or_refusal(layer, Activation, activation=activation)


# Dropout node's `layer` tag -> (Keras class, the config key holding its rate or stddev).
NOISE_CLASSES: dict[str, tuple[type, str]] = {
    "dropout": (keras.layers.Dropout, "rate"),
    "spatial_dropout1d": (keras.layers.SpatialDropout1D, "rate"),
    "gaussian_noise": (keras.layers.GaussianNoise, "stddev"),
    "gaussian_dropout": (keras.layers.GaussianDropout, "rate"),
    "alpha_dropout": (keras.layers.AlphaDropout, "rate"),
}
_NOISE_TAG = {cls: tag for tag, (cls, _) in NOISE_CLASSES.items()}


@register
class DropoutTranslator(NodeTranslator):
    """The noise layers: the identity at inference; which one and its rate are kept."""

    kind_class = Dropout
    keras_classes = tuple(cls for cls, _ in NOISE_CLASSES.values())

    @classmethod
    def layer(cls, kind: Dropout, name: str, dtype: str) -> keras.layers.Layer:
        keras_class, key = NOISE_CLASSES[kind.layer]
        return keras_class(**{key: kind.rate}, dtype=dtype, name=name)

    @classmethod
    def kind_of(cls, layer: keras.layers.Layer) -> Dropout:
        tag = _NOISE_TAG[type(layer)]
        config = plain_config(layer, noise_shape=None)
        rate = float(config[NOISE_CLASSES[tag][1]])
        return spec_or_refusal(layer, lambda **options: Dropout(rate, tag), rate=rate)


def _last_axis(layer: keras.layers.Layer, axis: Any) -> None:
    """Normalisation must run over the last (feature) axis, written -1 or as its index."""
    axes = list(axis) if isinstance(axis, list | tuple) else [axis]
    last = len(layer.output.shape) - 1
    if len(axes) != 1 or axes[0] not in (-1, last):
        raise ModelFileError(
            f"{describe(layer)} has axis={axis}: only the last (feature) axis is supported"
        )


def _norm_options(layer: keras.layers.Layer, **required: Any) -> dict[str, Any]:
    config = plain_config(layer, **required)
    _last_axis(layer, config["axis"])
    return {
        "epsilon": float(config["epsilon"]),
        "center": bool(config["center"]),
        "scale": bool(config["scale"]),
    }


@register
class LayerNormTranslator(NodeTranslator):
    kind_class = LayerNorm
    keras_classes = (keras.layers.LayerNormalization,)
    params = {"gamma": "gamma", "beta": "beta"}

    @classmethod
    def layer(cls, kind: LayerNorm, name: str, dtype: str) -> keras.layers.Layer:
        return keras.layers.LayerNormalization(
            epsilon=kind.epsilon, center=kind.center, scale=kind.scale, dtype=dtype, name=name
        )

    @classmethod
    def kind_of(cls, layer: keras.layers.Layer) -> LayerNorm:
        options = _norm_options(layer, rms_scaling=False)
        return spec_or_refusal(layer, LayerNorm, **options)


@register
class BatchNormTranslator(NodeTranslator):
    kind_class = BatchNorm
    keras_classes = (keras.layers.BatchNormalization,)
    params = {
        "gamma": "gamma",
        "beta": "beta",
        "mean": "moving_mean",
        "variance": "moving_variance",
    }

    @classmethod
    def layer(cls, kind: BatchNorm, name: str, dtype: str) -> keras.layers.Layer:
        return keras.layers.BatchNormalization(
            epsilon=kind.epsilon, center=kind.center, scale=kind.scale, dtype=dtype, name=name
        )

    @classmethod
    def kind_of(cls, layer: keras.layers.Layer) -> BatchNorm:
        options = _norm_options(layer, synchronized=False, renorm=False)
        return spec_or_refusal(layer, BatchNorm, **options)
