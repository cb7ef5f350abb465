"""Graph translators of the kinds that move axes: pooling, flatten, repeat, the one-step readout,
merges, softmax, dot, conv1d and pool1d. Only conv1d holds weights (its kernel is already the
canonical (kernel, in, filters)).

The step node is two Keras layers, Cropping1D then Flatten (built-in layers only, so the file
loads with safe_mode=True): `name_crop` keeps one step, `name` flattens it. The reader fuses the
pair back (`keras_impl.graph.reading`); a Cropping1D anywhere else is refused.
"""

from __future__ import annotations

import math
from typing import Any

import keras

from keras_impl.graph.translators.common import plain_config, single
from keras_impl.graph.translators.table import NodeTranslator, register
from keras_impl.translators.common import activation_name, describe, spec_or_refusal
from keras_impl.translators.readout import crop_mask_warning_silenced
from shared.errors import ModelFileError
from shared.graph.shape_ops import (
    Conv1D,
    Dot,
    Flatten,
    GlobalPool,
    Merge,
    Pool1D,
    Repeat,
    Softmax,
    Step,
)

_GLOBAL_POOLS = {
    "average": keras.layers.GlobalAveragePooling1D,
    "max": keras.layers.GlobalMaxPooling1D,
}
_POOLS = {"average": keras.layers.AveragePooling1D, "max": keras.layers.MaxPooling1D}
_MERGES = {
    "add": keras.layers.Add,
    "subtract": keras.layers.Subtract,
    "multiply": keras.layers.Multiply,
    "average": keras.layers.Average,
    "maximum": keras.layers.Maximum,
    "minimum": keras.layers.Minimum,
    "concatenate": keras.layers.Concatenate,
}


def _op_of(table: dict[str, type], layer: keras.layers.Layer) -> str:
    return next(op for op, cls in table.items() if cls is type(layer))


@register
class GlobalPoolTranslator(NodeTranslator):
    kind_class = GlobalPool
    takes_mask = True  # GlobalAveragePooling1D; GlobalMaxPooling1D has no mask= (refused)
    keras_classes = tuple(_GLOBAL_POOLS.values())

    @classmethod
    def layer(cls, kind: GlobalPool, name: str, dtype: str) -> keras.layers.Layer:
        return _GLOBAL_POOLS[kind.op](dtype=dtype, name=name)

    @classmethod
    def kind_of(cls, layer: keras.layers.Layer) -> GlobalPool:
        plain_config(layer, data_format="channels_last", keepdims=False)
        return GlobalPool(op=_op_of(_GLOBAL_POOLS, layer))


@register
class FlattenTranslator(NodeTranslator):
    """Flatten, and Reshape to one axis (the same row-major flattening)."""

    kind_class = Flatten
    keras_classes = (keras.layers.Flatten, keras.layers.Reshape)

    @classmethod
    def layer(cls, kind: Flatten, name: str, dtype: str) -> keras.layers.Layer:
        return keras.layers.Flatten(dtype=dtype, name=name)

    @classmethod
    def kind_of(cls, layer: keras.layers.Layer) -> Flatten:
        if type(layer) is keras.layers.Flatten:
            plain_config(layer, data_format="channels_last")
            return Flatten()
        target = tuple(layer.target_shape)
        size = math.prod(layer.input.shape[1:]) if None not in layer.input.shape[1:] else None
        if target not in ((-1,), (size,)):
            raise ModelFileError(
                f"{describe(layer)} reshapes to {target}: only a Reshape to one axis "
                "(a flatten) is supported"
            )
        return Flatten()


@register
class StepTranslator(NodeTranslator):
    """Cropping1D keeping one step, then Flatten: the last (or first) step."""

    kind_class = Step
    keras_classes = (keras.layers.Cropping1D,)

    @classmethod
    def apply(cls, kind: Step, name: str, dtype: str, inputs: list[Any]) -> list[Any]:
        steps = inputs[0].shape[1]
        if steps is None:
            raise ModelFileError(
                f"node {name!r}: Keras's Cropping1D needs a known time axis to keep one step"
            )
        cropping = (steps - 1, 0) if kind.which == "last" else (0, steps - 1)
        crop = keras.layers.Cropping1D(cropping, dtype=dtype, name=f"{name}_crop")
        with crop_mask_warning_silenced():
            return [keras.layers.Flatten(dtype=dtype, name=name)(crop(inputs[0]))]

    @classmethod
    def kind_of(cls, layer: keras.layers.Layer) -> Step:
        """The step a Cropping1D keeps; the reader checks that a flatten follows."""
        plain_config(layer)
        steps = layer.input.shape[1]
        kept = {(steps - 1, 0): "last", (0, steps - 1): "first"} if steps else {}
        which = kept.get(tuple(layer.cropping))
        if which is None:
            raise ModelFileError(
                f"{describe(layer)} crops {tuple(layer.cropping)} of {steps} steps: only a "
                "crop keeping the last or first step of a known time axis, then Flatten, "
                "is supported"
            )
        return Step(which=which)


@register
class RepeatTranslator(NodeTranslator):
    kind_class = Repeat
    keras_classes = (keras.layers.RepeatVector,)

    @classmethod
    def layer(cls, kind: Repeat, name: str, dtype: str) -> keras.layers.Layer:
        return keras.layers.RepeatVector(kind.n, dtype=dtype, name=name)

    @classmethod
    def kind_of(cls, layer: keras.layers.Layer) -> Repeat:
        return spec_or_refusal(layer, Repeat, n=plain_config(layer)["n"])


@register
class MergeTranslator(NodeTranslator):
    kind_class = Merge
    keras_classes = tuple(_MERGES.values())

    @classmethod
    def layer(cls, kind: Merge, name: str, dtype: str) -> keras.layers.Layer:
        options = {"axis": kind.axis} if kind.op == "concatenate" else {}
        return _MERGES[kind.op](**options, dtype=dtype, name=name)

    @classmethod
    def apply(cls, kind: Merge, name: str, dtype: str, inputs: list[Any]) -> list[Any]:
        return [cls.layer(kind, name, dtype)(inputs)]

    @classmethod
    def kind_of(cls, layer: keras.layers.Layer) -> Merge:
        op = _op_of(_MERGES, layer)
        config = plain_config(layer)
        return spec_or_refusal(layer, Merge, op=op, axis=config.get("axis", -1))


@register
class SoftmaxTranslator(NodeTranslator):
    kind_class = Softmax
    keras_classes = (keras.layers.Softmax,)

    @classmethod
    def layer(cls, kind: Softmax, name: str, dtype: str) -> keras.layers.Layer:
        return keras.layers.Softmax(axis=kind.axis, dtype=dtype, name=name)

    @classmethod
    def kind_of(cls, layer: keras.layers.Layer) -> Softmax:
        axis = single(plain_config(layer)["axis"])
        if not isinstance(axis, int):
            raise ModelFileError(f"{describe(layer)} has axis={axis!r}: only one axis is supported")
        return spec_or_refusal(layer, Softmax, axis=axis)


@register
class DotTranslator(NodeTranslator):
    kind_class = Dot
    keras_classes = (keras.layers.Dot,)

    @classmethod
    def layer(cls, kind: Dot, name: str, dtype: str) -> keras.layers.Layer:
        return keras.layers.Dot(axes=list(kind.axes), dtype=dtype, name=name)

    @classmethod
    def apply(cls, kind: Dot, name: str, dtype: str, inputs: list[Any]) -> list[Any]:
        return [cls.layer(kind, name, dtype)(inputs)]

    @classmethod
    def kind_of(cls, layer: keras.layers.Layer) -> Dot:
        axes = plain_config(layer, normalize=False)["axes"]
        pair = tuple(axes) if isinstance(axes, list | tuple) else (axes, axes)
        return spec_or_refusal(layer, Dot, axes=pair)


@register
class Conv1DTranslator(NodeTranslator):
    kind_class = Conv1D
    keras_classes = (keras.layers.Conv1D,)
    params = {"W": "kernel", "b": "bias"}  # (kernel, in, filters), (filters,)

    @classmethod
    def layer(cls, kind: Conv1D, name: str, dtype: str) -> keras.layers.Layer:
        return keras.layers.Conv1D(
            kind.filters,
            kind.kernel_size,
            strides=kind.strides,
            padding=kind.padding,
            dilation_rate=kind.dilation_rate,
            activation=kind.activation,
            use_bias=kind.use_bias,
            dtype=dtype,
            name=name,
        )

    @classmethod
    def kind_of(cls, layer: keras.layers.Layer) -> Conv1D:
        config = plain_config(layer, groups=1, data_format="channels_last")
        return spec_or_refusal(
            layer,
            Conv1D,
            filters=config["filters"],
            kernel_size=single(config["kernel_size"]),
            strides=single(config["strides"]),
            padding=config["padding"],
            dilation_rate=single(config["dilation_rate"]),
            activation=activation_name(config["activation"], "activation", layer),
            use_bias=bool(config["use_bias"]),
        )


@register
class Pool1DTranslator(NodeTranslator):
    """MaxPooling1D / AveragePooling1D; strides equal to pool_size read back as None."""

    kind_class = Pool1D
    keras_classes = tuple(_POOLS.values())

    @classmethod
    def layer(cls, kind: Pool1D, name: str, dtype: str) -> keras.layers.Layer:
        return _POOLS[kind.op](
            kind.pool_size, strides=kind.strides, padding=kind.padding, dtype=dtype, name=name
        )

    @classmethod
    def kind_of(cls, layer: keras.layers.Layer) -> Pool1D:
        config = plain_config(layer, data_format="channels_last")
        size, strides = single(config["pool_size"]), single(config["strides"])
        return spec_or_refusal(
            layer,
            Pool1D,
            op=_op_of(_POOLS, layer),
            pool_size=size,
            strides=None if strides in (None, size) else strides,
            padding=config["padding"],
        )
