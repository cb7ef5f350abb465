"""The numpy formula of every node kind: one function each, found by kind class (`FORMULAS`).

Each takes (kind, arrays, values, masks) -> (outputs, output masks): `arrays` the node's
canonical arrays, `values` its inputs (batch first), `masks` their (batch, time) bool masks or
None. The formulas are the module docstrings of `shared.graph.layers`, `shape_ops` and
`recurrent`, written for a reader to check; `shared.graph.recurrence` runs the recurrences.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from shared.activations import activation
from shared.errors import DataError
from shared.graph import layers, shape_ops
from shared.graph.base import axis_index
from shared.graph.recurrence import Cell, run_direction
from shared.graph.recurrent import Recurrent

Mask = np.ndarray | None
Result = tuple[list[np.ndarray], list[Mask]]
Arrays = dict[str, np.ndarray]


def _cell(kind: Recurrent, arrays: Arrays, direction: str, dtype: np.dtype) -> Cell:
    def params(name: str) -> dict[str, np.ndarray]:
        if not kind.use_bias and name in ("b", "c"):
            return {g: np.zeros(kind.units, dtype) for g in kind.gates}
        return {g: arrays[f"{direction}/{name}/{g}"] for g in kind.gates}

    return Cell(
        kind.kind, kind.activation, kind.recurrent_activation, kind.reset_after,
        params("W"), params("U"), params("b"), params("c"),
    )  # fmt: skip


def recurrent(kind: Recurrent, arrays: Arrays, values: list, masks: list) -> Result:
    x, mask = values[0], masks[0]
    batch, per = x.shape[0], kind.states_per_direction
    outputs, states = [], []
    for index, direction in enumerate(kind.directions):
        given = values[1 + index * per : 1 + (index + 1) * per]
        zeros = np.zeros((batch, kind.units), x.dtype)
        initial = (given[0], given[1] if per == 2 else zeros) if given else (zeros, zeros)
        reverse = direction == "backward" or kind.go_backwards
        source = x[:, ::-1] if reverse else x
        source_mask = None if mask is None else (mask[:, ::-1] if reverse else mask)
        run = run_direction(
            _cell(kind, arrays, direction, x.dtype), source, source_mask, initial,
            kind.zero_output_for_mask,
        )  # fmt: skip
        sequence = run.outputs[:, ::-1] if direction == "backward" else run.outputs
        # a final output is the output of the last step read (index -1 in reading order)
        outputs.append(sequence if kind.return_sequences else run.outputs[:, -1])
        states += [run.h, run.c][:per]
    carried = mask if kind.return_sequences else None
    if kind.bidirectional and kind.merge_mode is None:
        merged, merged_masks = outputs, [carried, carried]
    else:
        merged, merged_masks = [_merge_directions(kind.merge_mode, outputs)], [carried]
    if not kind.return_state:
        return merged, merged_masks
    return merged + states, merged_masks + [None] * len(states)


def _merge_directions(mode: str | None, outputs: list[np.ndarray]) -> np.ndarray:
    if len(outputs) == 1:
        return outputs[0]
    forward, backward = outputs
    return {
        "concat": lambda: np.concatenate([forward, backward], axis=-1),
        "sum": lambda: forward + backward,
        "ave": lambda: (forward + backward) / 2,
        "mul": lambda: forward * backward,
    }[mode]()


def embedding(kind: layers.Embedding, arrays: Arrays, values: list, masks: list) -> Result:
    ids = values[0]
    return [arrays["E"][ids]], [ids != 0 if kind.mask_zero else None]


def masking(kind: layers.Masking, arrays: Arrays, values: list, masks: list) -> Result:
    x = values[0]
    mask = np.any(x != np.asarray(kind.mask_value, x.dtype), axis=-1)  # (batch, time)
    return [x * mask[..., None].astype(x.dtype)], [mask]


def length_mask(kind: layers.LengthMask, arrays: Arrays, values: list, masks: list) -> Result:
    x, lengths = values  # (batch, time, F), (batch,)
    if kind.min_length == 0 and np.any(lengths < 1):
        raise DataError(f"lengths {sorted(set(lengths[lengths < 1].tolist()))} below 1")
    lengths = np.maximum(lengths, kind.min_length)  # lengths.clamp(min=1) where min_length 1
    if np.any(lengths > x.shape[1]):
        raise DataError(
            f"lengths {sorted(set(lengths[lengths > x.shape[1]].tolist()))} exceed the "
            f"{x.shape[1]} time steps of the sequence they mask"
        )
    return [x], [np.arange(x.shape[1])[None, :] < lengths[:, None]]


def dense(kind: layers.Dense, arrays: Arrays, values: list, masks: list) -> Result:
    z = values[0] @ arrays["W"] + (arrays["b"] if kind.use_bias else 0)
    return [activation(kind.activation)(z)], [masks[0]]


def activation_node(kind: layers.Activation, arrays: Arrays, values: list, masks: list) -> Result:
    return [activation(kind.activation)(values[0])], [masks[0]]


def identity(kind: Any, arrays: Arrays, values: list, masks: list) -> Result:
    return [values[0]], [masks[0]]  # dropout and noise layers at inference


def _affine(x: np.ndarray, arrays: Arrays) -> np.ndarray:
    return x * arrays.get("gamma", 1) + arrays.get("beta", 0)


def layer_norm(kind: layers.LayerNorm, arrays: Arrays, values: list, masks: list) -> Result:
    x = values[0]
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)  # biased, as both frameworks
    return [_affine((x - mean) / np.sqrt(variance + kind.epsilon), arrays)], [masks[0]]


def batch_norm(kind: layers.BatchNorm, arrays: Arrays, values: list, masks: list) -> Result:
    x = values[0]
    scale = arrays.get("gamma", 1) / np.sqrt(arrays["variance"] + kind.epsilon)
    return [(x - arrays["mean"]) * scale + arrays.get("beta", 0)], [masks[0]]


def global_pool(kind: shape_ops.GlobalPool, arrays: Arrays, values: list, masks: list) -> Result:
    x, mask = values[0], masks[0]
    if kind.op == "max":
        return [x.max(axis=1)], [None]  # Keras's GlobalMaxPooling1D ignores the mask
    if mask is None:
        return [x.mean(axis=1)], [None]
    weights = mask[..., None].astype(x.dtype)  # (batch, time, 1)
    return [(x * weights).sum(axis=1) / weights.sum(axis=1)], [None]


def flatten(kind: shape_ops.Flatten, arrays: Arrays, values: list, masks: list) -> Result:
    return [values[0].reshape(values[0].shape[0], -1)], [None]


def repeat(kind: shape_ops.Repeat, arrays: Arrays, values: list, masks: list) -> Result:
    return [np.repeat(values[0][:, None, :], kind.n, axis=1)], [None]


def step(kind: shape_ops.Step, arrays: Arrays, values: list, masks: list) -> Result:
    return [values[0][:, -1 if kind.which == "last" else 0]], [None]


def merge(kind: shape_ops.Merge, arrays: Arrays, values: list, masks: list) -> Result:
    if kind.op == "concatenate":
        index = axis_index(kind.axis, values[0].ndim - 1, "concatenate") + 1
        return [np.concatenate(values, axis=index)], [_concatenated_mask(values, masks, index)]
    combine = {
        "add": lambda: sum(values[1:], values[0]),
        "subtract": lambda: values[0] - values[1],
        "multiply": lambda: _product(values),
        "average": lambda: sum(values[1:], values[0]) / len(values),
        "maximum": lambda: np.maximum.reduce(values),
        "minimum": lambda: np.minimum.reduce(values),
    }[kind.op]
    return [combine()], [_and_masks(masks)]


def _product(values: list[np.ndarray]) -> np.ndarray:
    result = values[0]
    for value in values[1:]:
        result = result * value
    return result


def _and_masks(masks: list[Mask]) -> Mask:
    present = [mask for mask in masks if mask is not None]
    return np.logical_and.reduce(present) if present else None


def _concatenated_mask(values: list[np.ndarray], masks: list[Mask], axis: int) -> Mask:
    if all(mask is None for mask in masks):
        return None
    filled = [
        np.ones(value.shape[:2], bool) if mask is None else mask
        for value, mask in zip(values, masks, strict=True)
    ]
    # Keras: masks (batch, time) join the values' concatenation along time, else all must keep
    return np.concatenate(filled, axis=1) if axis == 1 else np.logical_and.reduce(filled)


def softmax(kind: shape_ops.Softmax, arrays: Arrays, values: list, masks: list) -> Result:
    x = values[0]
    axis = axis_index(kind.axis, x.ndim - 1, "softmax") + 1
    shifted = np.exp(x - x.max(axis=axis, keepdims=True))  # shifted so exp never overflows
    return [shifted / shifted.sum(axis=axis, keepdims=True)], [masks[0]]


def dot(kind: shape_ops.Dot, arrays: Arrays, values: list, masks: list) -> Result:
    first, second = values
    a = axis_index(kind.axes[0], first.ndim - 1, "dot") + 1
    b = axis_index(kind.axes[1], second.ndim - 1, "dot") + 1
    letters = iter("bcdefghijklmnopqrstuvwxyz")
    left = ["a"] + [next(letters) for _ in range(first.ndim - 1)]
    right = ["a"] + [next(letters) for _ in range(second.ndim - 1)]
    right[b] = left[a]  # the contracted axis shares its letter
    kept = [s for i, s in enumerate(left) if i != a]  # the batch letter, then the rest
    kept += [s for i, s in enumerate(right) if i not in (0, b)]
    result = np.einsum(f"{''.join(left)},{''.join(right)}->{''.join(kept)}", first, second)
    return [result if result.ndim > 1 else result[:, None]], [None]


def _padded(x: np.ndarray, left: int, right: int, fill: float) -> np.ndarray:
    return np.pad(x, ((0, 0), (left, right), (0, 0)), constant_values=fill)


def _same_padding(steps: int, span: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "same": ceil(steps / stride) outputs, the odd padding step on the right."""
    total = max((-(-steps // stride) - 1) * stride + span - steps, 0)
    return total // 2, total - total // 2


def conv1d(kind: shape_ops.Conv1D, arrays: Arrays, values: list, masks: list) -> Result:
    x, span, stride = values[0], kind.span, kind.strides
    left, right = {
        "valid": (0, 0),
        "causal": (span - 1, 0),
        "same": _same_padding(x.shape[1], span, stride),
    }[kind.padding]
    x = _padded(x, left, right, 0.0)
    length = (x.shape[1] - span) // stride + 1
    W = arrays["W"]  # (kernel, in, filters)
    outputs = []
    for t in range(length):  # y[t] = b + sum_k x[t*s + k*d] @ W[k]
        start = t * stride
        taps = [x[:, start + k * kind.dilation_rate] @ W[k] for k in range(kind.kernel_size)]
        outputs.append(sum(taps[1:], taps[0]))
    y = np.stack(outputs, axis=1) + (arrays["b"] if kind.use_bias else 0)
    return [activation(kind.activation)(y)], [None]


def pool1d(kind: shape_ops.Pool1D, arrays: Arrays, values: list, masks: list) -> Result:
    x, size, stride = values[0], kind.pool_size, kind.stride
    left, right = (0, 0) if kind.padding == "valid" else _same_padding(x.shape[1], size, stride)
    real = _padded(np.ones_like(x[:, :, :1]), left, right, 0.0)  # 1 where a step is real
    padded = _padded(x, left, right, -np.inf if kind.op == "max" else 0.0)
    length = (padded.shape[1] - size) // stride + 1
    windows = [slice(t * stride, t * stride + size) for t in range(length)]
    if kind.op == "max":
        pooled = [padded[:, w].max(axis=1) for w in windows]
    else:  # average over the real steps only, as TensorFlow's "same" average pooling
        pooled = [padded[:, w].sum(axis=1) / real[:, w].sum(axis=1) for w in windows]
    return [np.stack(pooled, axis=1).astype(x.dtype)], [None]


def reduce(kind: shape_ops.Reduce, arrays: Arrays, values: list, masks: list) -> Result:
    x = values[0]
    axis = axis_index(kind.axis, x.ndim - 1, "reduce") + 1
    reducer = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min}[kind.op]
    return [reducer(x, axis=axis, keepdims=kind.keepdims)], [None]


def permute(kind: shape_ops.Permute, arrays: Arrays, values: list, masks: list) -> Result:
    return [np.transpose(values[0], (0, *kind.dims))], [None]


FORMULAS: dict[type, Callable[[Any, Arrays, list, list], Result]] = {
    Recurrent: recurrent,
    layers.Embedding: embedding,
    layers.Masking: masking,
    layers.LengthMask: length_mask,
    layers.Dense: dense,
    layers.Activation: activation_node,
    layers.Dropout: identity,
    layers.LayerNorm: layer_norm,
    layers.BatchNorm: batch_norm,
    shape_ops.GlobalPool: global_pool,
    shape_ops.Flatten: flatten,
    shape_ops.Repeat: repeat,
    shape_ops.Step: step,
    shape_ops.Merge: merge,
    shape_ops.Softmax: softmax,
    shape_ops.Dot: dot,
    shape_ops.Conv1D: conv1d,
    shape_ops.Pool1D: pool1d,
    shape_ops.Reduce: reduce,
    shape_ops.Permute: permute,
}
