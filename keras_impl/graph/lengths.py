"""A lengths input as a Keras mask, in plain Keras ops: how a length_mask node is built and read.

Keras has no layer that turns lengths into a mask, and a Lambda would not load with
safe_mode=True, so the builder writes the mask with ops Keras 3 records and serializes:

    steps = ops.cumsum(ops.ones_like(x[:, :, 0], dtype="int32"), axis=1)   # (batch, time) 1..T
    mask  = ops.less_equal(steps, ops.expand_dims(lengths, 1))             # t < lengths[b]

(with `lengths = ops.maximum(lengths, 1)` first where the node's min_length is 1, torch's
lengths.clamp(min=1)) and passes `mask=` to each layer reading the node's value. This works on
a free time axis, where `ops.shape(x)[1]` is unknown when the model is built. The last op is
named after the node, so the reader (`read_length_mask`) gives the node its name back; the reader
accepts exactly this pattern and nothing else as a hand-passed mask.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_impl.graph.translators.tensor_ops import named, op_class
from shared.errors import ModelFileError

_TENSOR = keras.KerasTensor((None, 2, 2))
_GET_ITEM = type(_TENSOR[:, :, 0]._keras_history.operation)
_ONES_LIKE = op_class(ops.ones_like, dtype="int32")
_CUMSUM = op_class(ops.cumsum, axis=1)
_EXPAND = type(ops.expand_dims(keras.KerasTensor((None,)), 1)._keras_history.operation)
_LESS_EQUAL = op_class(ops.less_equal, 1)
_MAXIMUM = op_class(ops.maximum, 1)


def length_mask(sequence: Any, lengths: Any, name: str, min_length: int = 0) -> Any:
    """The (batch, time) bool mask t < max(lengths[b], min_length) of `sequence`
    (batch, time, F), its last op named `name`."""
    steps = ops.cumsum(ops.ones_like(sequence[:, :, 0], dtype="int32"), axis=1)
    if min_length:
        lengths = ops.maximum(lengths, min_length)  # (batch,)
    return named(ops.less_equal(steps, ops.expand_dims(lengths, 1)), name)


def _clamped(lengths: Any, name: str) -> tuple[Any, int]:
    """(the lengths tensor, min_length): through `ops.maximum(lengths, 1)` where it is that.

    Raises:
        ModelFileError: a length mask `name` of lengths clamped to another bound.
    """
    maximum = _made_by(lengths, _MAXIMUM)
    if maximum is None:
        return lengths, 0
    bound = _argument(maximum, 1)
    if isinstance(bound, bool) or bound != 1:
        raise ModelFileError(
            f"length mask {name!r} clamps the lengths with maximum(lengths, {bound!r}): only "
            "maximum(lengths, 1) (torch's lengths.clamp(min=1)) is read as a length_mask"
        )
    return _argument(maximum), 1


def _made_by(tensor: Any, cls: type) -> Any | None:
    """The operation that made `tensor` if it is a `cls`, else None."""
    history = getattr(tensor, "_keras_history", None)
    operation = history.operation if history else None
    return operation if type(operation) is cls else None


def _argument(operation: Any, index: int = 0) -> Any:
    node = operation._inbound_nodes[0]
    args = node.arguments.args
    return args[index] if len(args) > index else None


def read_length_mask(mask: Any) -> tuple[str, Any, Any, int] | None:
    """(node name, sequence tensor, lengths tensor, min_length) if `mask` was made by
    `length_mask`, else None.

    Raises:
        ModelFileError: the pattern with the lengths clamped to a bound other than 1.
    """
    less = _made_by(mask, _LESS_EQUAL)
    if less is None:
        return None
    cumsum = _made_by(_argument(less, 0), _CUMSUM)
    expand = _made_by(_argument(less, 1), _EXPAND)
    if cumsum is None or expand is None or cumsum.axis != 1 or expand.axis != 1:
        return None
    ones = _made_by(_argument(cumsum), _ONES_LIKE)
    item = _made_by(_argument(ones), _GET_ITEM) if ones is not None else None
    lengths, min_length = _clamped(_argument(expand), less.name)
    if item is None or getattr(lengths, "ndim", None) != 1:
        return None
    key = item._inbound_nodes[0].arguments.args[1]
    if not (isinstance(key, list | tuple) and len(key) == 3 and key[2] == 0):  # list once loaded
        return None
    return less.name, _argument(item), lengths, min_length
