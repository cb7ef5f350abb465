"""Translators of the head layers: Dense (and TimeDistributed(Dense)), Dropout, the normalisations.

Their canonical arrays are Keras's own variables, so each translator only maps names:
Dense W = kernel (in, units), b = bias; LayerNormalization gamma, beta; BatchNormalization
gamma, beta, mean = moving_mean, variance = moving_variance. Epsilons are read from and written
to the layer's config, never assumed (Keras's default 1e-3 is not torch's 1e-5).
"""

from __future__ import annotations

from typing import Any

import keras

from keras_impl.translators.common import (
    activation_name,
    check_plain,
    describe,
    inner_dense,
    spec_or_refusal,
)
from keras_impl.translators.table import DROPOUT, Translator, register
from shared.errors import ModelFileError
from shared.grammar import BatchNormSpec, DenseSpec, DropoutSpec, LayerNormSpec


@register
class DenseTranslator(Translator):
    """keras.layers.Dense(units, activation): x @ kernel + bias, then the activation."""

    spec_class = DenseSpec
    keras_classes = (keras.layers.Dense,)
    params = {"W": "kernel", "b": "bias"}

    @classmethod
    def build(cls, spec: DenseSpec, name: str, dtype: str) -> keras.layers.Layer:
        return keras.layers.Dense(spec.units, activation=spec.activation, dtype=dtype, name=name)

    @classmethod
    def spec_of(cls, layer: keras.layers.Layer) -> DenseSpec:
        config = layer.get_config()
        check_plain(layer, config)
        if config.get("quantization_config"):
            raise ModelFileError(f"{describe(layer)} is quantized, which is outside the grammar")
        activation = activation_name(config["activation"], "activation", layer)
        return spec_or_refusal(layer, DenseSpec, units=config["units"], activation=activation)


@register
class TimeDistributedDenseTranslator(Translator):
    """TimeDistributed(Dense) computes Dense on every step, as Dense on a sequence does.

    Read as a DenseSpec (with the inner Dense's variables); `build` writes plain Dense.
    """

    keras_classes = (keras.layers.TimeDistributed,)
    params = DenseTranslator.params

    @classmethod
    def holder(cls, layer: keras.layers.Layer) -> keras.layers.Layer:
        return layer.layer

    @classmethod
    def spec_of(cls, layer: keras.layers.Layer) -> DenseSpec:
        check_plain(layer)
        return DenseTranslator.spec_of(inner_dense(layer))


@register
class DropoutTranslator(Translator):
    """keras.layers.Dropout(rate): recorded, the identity at inference."""

    spec_class = DropoutSpec
    keras_classes = (keras.layers.Dropout,)
    role = DROPOUT

    @classmethod
    def build(cls, spec: DropoutSpec, name: str, dtype: str) -> keras.layers.Layer:
        return keras.layers.Dropout(spec.rate, dtype=dtype, name=name)

    @classmethod
    def spec_of(cls, layer: keras.layers.Layer) -> DropoutSpec:
        config = layer.get_config()
        if config.get("noise_shape") is not None:
            raise ModelFileError(
                f"{describe(layer)} has noise_shape={config['noise_shape']}: the grammar's "
                "Dropout drops each value independently"
            )
        return spec_or_refusal(layer, DropoutSpec, rate=float(config["rate"]))


def _check_last_axis(layer: keras.layers.Layer, axis: Any) -> None:
    """Normalisation must run over the last (feature) axis, written -1 or as its index."""
    axes = list(axis) if isinstance(axis, list | tuple) else [axis]
    last = len(layer.output.shape) - 1
    if len(axes) != 1 or axes[0] not in (-1, last):
        raise ModelFileError(
            f"{describe(layer)} normalises over axis={axis}: the grammar normalises over the "
            "last (feature) axis only"
        )


def _check_norm(layer: keras.layers.Layer, config: dict[str, Any], off: tuple[str, ...]) -> None:
    check_plain(layer, config)
    _check_last_axis(layer, config["axis"])
    for key in ("center", "scale"):
        if not config.get(key, True):
            raise ModelFileError(
                f"{describe(layer)} has {key}=False: the grammar's normalisation has both "
                "gamma and beta"
            )
    for key in off:
        if config.get(key):
            raise ModelFileError(
                f"{describe(layer)} has {key}={config[key]!r}, which is outside the grammar"
            )


@register
class LayerNormTranslator(Translator):
    """keras.layers.LayerNormalization(epsilon) over the last axis, gamma and beta."""

    spec_class = LayerNormSpec
    keras_classes = (keras.layers.LayerNormalization,)
    params = {"gamma": "gamma", "beta": "beta"}

    @classmethod
    def build(cls, spec: LayerNormSpec, name: str, dtype: str) -> keras.layers.Layer:
        return keras.layers.LayerNormalization(epsilon=spec.epsilon, dtype=dtype, name=name)

    @classmethod
    def spec_of(cls, layer: keras.layers.Layer) -> LayerNormSpec:
        config = layer.get_config()
        _check_norm(layer, config, off=("rms_scaling",))
        return spec_or_refusal(layer, LayerNormSpec, epsilon=float(config["epsilon"]))


@register
class BatchNormTranslator(Translator):
    """keras.layers.BatchNormalization(epsilon) over the last axis, at inference statistics."""

    spec_class = BatchNormSpec
    keras_classes = (keras.layers.BatchNormalization,)
    params = {
        "gamma": "gamma",
        "beta": "beta",
        "mean": "moving_mean",
        "variance": "moving_variance",
    }

    @classmethod
    def build(cls, spec: BatchNormSpec, name: str, dtype: str) -> keras.layers.Layer:
        return keras.layers.BatchNormalization(epsilon=spec.epsilon, dtype=dtype, name=name)

    @classmethod
    def spec_of(cls, layer: keras.layers.Layer) -> BatchNormSpec:
        config = layer.get_config()
        _check_norm(layer, config, off=("synchronized", "renorm"))
        return spec_or_refusal(layer, BatchNormSpec, epsilon=float(config["epsilon"]))
