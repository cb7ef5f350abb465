"""Graph translators of reduce and permute: the torch idioms `out.sum(1)` and `x.transpose(1, 2)`
written in Keras.

Keras has no layer that sums or averages over an axis, so a reduce node is a Keras op
(`keras.ops.sum`, `mean`, `max`, `min`) called in the Functional model: Keras 3 records ops as
operations of the model and serializes them, so the file still loads with safe_mode=True. An op
has no name argument, so the builder names the operation it recorded after the node, which is
what the reader reads back. The op classes are not public: each is found as the class of the
operation its public function records on a symbolic tensor, so a Keras that moves them still
matches. A permute node is Keras's Permute layer; `ops.transpose` keeping the batch axis first
reads as one too.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_impl.graph.translators.common import plain_config
from keras_impl.graph.translators.table import NodeTranslator, register
from keras_impl.translators.common import describe, spec_or_refusal
from shared.errors import ModelFileError
from shared.graph.shape_ops import Permute, Reduce

_REDUCERS = {"sum": ops.sum, "mean": ops.mean, "max": ops.max, "min": ops.min}


def op_class(function: Any, *args: Any, **kwargs: Any) -> type:
    """The Operation class a public `keras.ops` function records when called symbolically."""
    output = function(keras.KerasTensor((None, 2, 2)), *args, **kwargs)
    return type(output._keras_history.operation)


_REDUCE_CLASSES = {op_class(function, axis=1): op for op, function in _REDUCERS.items()}
_TRANSPOSE = op_class(ops.transpose, (0, 2, 1))


def named(tensor: Any, name: str) -> Any:
    """`tensor`, its recording operation renamed `name` (ops take no name argument)."""
    tensor._keras_history.operation.name = name
    return tensor


@register
class ReduceTranslator(NodeTranslator):
    """keras.ops.sum / mean / max / min over one axis, keepdims carried."""

    kind_class = Reduce
    keras_classes = tuple(_REDUCE_CLASSES)

    @classmethod
    def apply(cls, kind: Reduce, name: str, dtype: str, inputs: list[Any]) -> list[Any]:
        reduced = _REDUCERS[kind.op](inputs[0], axis=kind.axis, keepdims=kind.keepdims)
        return [named(reduced, name)]

    @classmethod
    def kind_of(cls, layer: Any) -> Reduce:
        axis = layer.axis
        if isinstance(axis, list | tuple) and len(axis) == 1:
            axis = axis[0]
        if not isinstance(axis, int) or getattr(layer, "initial", None) is not None:
            raise ModelFileError(
                f"{describe(layer)} reduces over axis={layer.axis!r} with "
                f"initial={getattr(layer, 'initial', None)!r}: only one axis and no initial "
                "value are supported"
            )
        op = _REDUCE_CLASSES[type(layer)]
        return spec_or_refusal(layer, Reduce, op=op, axis=axis, keepdims=bool(layer.keepdims))


@register
class PermuteTranslator(NodeTranslator):
    """Permute(dims), and ops.transpose with the batch axis kept first."""

    kind_class = Permute
    keras_classes = (keras.layers.Permute, _TRANSPOSE)

    @classmethod
    def layer(cls, kind: Permute, name: str, dtype: str) -> keras.layers.Layer:
        return keras.layers.Permute(kind.dims, dtype=dtype, name=name)

    @classmethod
    def kind_of(cls, layer: Any) -> Permute:
        if isinstance(layer, keras.layers.Permute):
            return spec_or_refusal(layer, Permute, dims=tuple(plain_config(layer)["dims"]))
        axes = layer.axes
        if axes is None or len(axes) < 2 or axes[0] != 0:
            raise ModelFileError(
                f"{describe(layer)} transposes axes {axes!r}: only a transpose keeping the "
                "batch axis first (a Permute) is supported"
            )
        return spec_or_refusal(layer, Permute, dims=tuple(axes[1:]))
