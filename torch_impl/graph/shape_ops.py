"""Torch modules for the graph's axis-moving node kinds (`shared.graph.shape_ops`).

Pooling over time, flatten, repeat, steps, merges, softmax, Keras's Dot, reductions over an
axis, permutes and the convolutional front, each as one `NodeModule` (see
`torch_impl.graph.layers`). Keras's padding rules are computed here exactly, since torch's own
padding arguments are symmetric: "same" pads so that ceil(time / stride) windows fit, the extra
step on the right (TensorFlow's rule); "causal" pads span - 1 steps on the left.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
import torch.nn.functional as F  # noqa: N812 - the universal torch spelling

from shared.graph import shape_ops
from shared.graph.base import Shape, axis_index
from torch_impl.activations import torch_activation
from torch_impl.graph.layers import Masks, NodeModule, Tensors, uniform_parameter


class GlobalPool(NodeModule):
    """(batch, time, F) -> (batch, F): the mean over kept steps, or the max over all steps."""

    def __init__(self, kind: shape_ops.GlobalPool) -> None:
        super().__init__()
        self.op = kind.op

    def forward(self, values: Tensors, masks: Masks) -> tuple[Tensors, Masks]:
        inputs, mask = values[0], masks[0]
        if self.op == "max":  # Keras's GlobalMaxPooling1D ignores masks
            return [inputs.amax(dim=1)], [None]
        if mask is None:
            return [inputs.mean(dim=1)], [None]
        kept = mask[:, :, None].to(inputs.dtype)  # (batch, time, 1)
        return [(inputs * kept).sum(dim=1) / kept.sum(dim=1)], [None]


class Flatten(NodeModule):
    def compute(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.reshape(inputs.shape[0], -1)  # row-major over (time, features)


class Repeat(NodeModule):
    def __init__(self, kind: shape_ops.Repeat) -> None:
        super().__init__()
        self.n = kind.n

    def compute(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs[:, None, :].repeat(1, self.n, 1)  # (batch, n, F)


class Step(NodeModule):
    def __init__(self, kind: shape_ops.Step) -> None:
        super().__init__()
        self.index = -1 if kind.which == "last" else 0

    def compute(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs[:, self.index, :]  # (batch, F)


def _chain(op: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Callable[..., torch.Tensor]:
    """Keras's merges fold left: ((x0 op x1) op x2) ..."""
    return lambda *values: functools.reduce(op, values)


ELEMENTWISE: dict[str, Callable[..., torch.Tensor]] = {
    "add": _chain(torch.add),
    "subtract": torch.sub,
    "multiply": _chain(torch.mul),
    "average": lambda *values: _chain(torch.add)(*values) / len(values),
    "maximum": _chain(torch.maximum),
    "minimum": _chain(torch.minimum),
}


class Merge(NodeModule):
    """Elementwise merges and concatenate; the mask handed on is the AND of the inputs' (an
    unmasked input counts as all kept), or their concatenation when joining along time."""

    def __init__(self, kind: shape_ops.Merge, shapes: list[Shape]) -> None:
        super().__init__()
        self.op = kind.op
        index = axis_index(kind.axis, len(shapes[0]), "merge") if kind.op == "concatenate" else -1
        self.dim = index + 1  # with the batch axis
        self.along_time = kind.op == "concatenate" and index == 0 and len(shapes[0]) >= 2

    def forward(self, values: Tensors, masks: Masks) -> tuple[Tensors, Masks]:
        if self.op == "concatenate":
            output = torch.cat(values, dim=self.dim)
        else:
            output = ELEMENTWISE[self.op](*values)
        return [output], [self._mask(values, masks)]

    def _mask(self, values: Tensors, masks: Masks) -> torch.Tensor | None:
        if all(mask is None for mask in masks):
            return None
        # (batch, time) each, all kept where an input carries none
        full = [
            mask if mask is not None else value.new_ones(value.shape[:2], dtype=torch.bool)
            for value, mask in zip(values, masks, strict=True)
        ]
        if self.along_time:
            return torch.cat(full, dim=1)
        return functools.reduce(torch.logical_and, full)


class Softmax(NodeModule):
    def __init__(self, kind: shape_ops.Softmax, shapes: list[Shape]) -> None:
        super().__init__()
        self.dim = axis_index(kind.axis, len(shapes[0]), "softmax") + 1

    def compute(self, inputs: torch.Tensor) -> torch.Tensor:
        return torch.softmax(inputs, dim=self.dim)


class Dot(NodeModule):
    """Keras's Dot: per sample, contract axis a of x with axis b of y; the rest of x's axes,
    then the rest of y's, remain ((batch, 1) when nothing remains)."""

    def __init__(self, kind: shape_ops.Dot, shapes: list[Shape]) -> None:
        super().__init__()
        first, second = kind.contracted(shapes)
        self.dims = (first + 1, second + 1)  # with the batch axis

    def compute(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        batch = x.shape[0]
        x = x.movedim(self.dims[0], -1)  # (batch, *rest_x, k)
        y = y.movedim(self.dims[1], 1)  # (batch, k, *rest_y)
        rest = (*x.shape[1:-1], *y.shape[2:])
        # (batch, prod(rest_x), k) @ (batch, k, prod(rest_y))
        product = torch.bmm(x.reshape(batch, -1, x.shape[-1]), y.reshape(batch, y.shape[1], -1))
        return product.reshape(batch, *rest) if rest else product.reshape(batch, 1)


class Reduce(NodeModule):
    """sum, mean, max or min over one per-sample axis (the batch axis is never reduced)."""

    def __init__(self, kind: shape_ops.Reduce, shapes: list[Shape]) -> None:
        super().__init__()
        self.op, self.keepdims = kind.op, kind.keepdims
        self.dim = axis_index(kind.axis, len(shapes[0]), "reduce") + 1  # with the batch axis

    def compute(self, inputs: torch.Tensor) -> torch.Tensor:
        reducer = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax, "min": torch.amin}
        return reducer[self.op](inputs, dim=self.dim, keepdim=self.keepdims)


class Permute(NodeModule):
    """Keras's Permute(dims): the per-sample axes reordered, the batch axis kept first."""

    def __init__(self, kind: shape_ops.Permute) -> None:
        super().__init__()
        self.order = (0, *kind.dims)

    def compute(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs.permute(self.order)


def keras_padding(steps: int, span: int, stride: int, padding: str) -> tuple[int, int]:
    """(left, right) steps of padding Keras applies for "valid", "same" or "causal"."""
    if padding == "causal":
        return span - 1, 0
    if padding == "valid":
        return 0, 0
    windows = -(-steps // stride)  # ceil(steps / stride)
    total = max((windows - 1) * stride + span - steps, 0)
    return total // 2, total - total // 2


class Conv1d(NodeModule):
    """y[t] = act(b + sum_k x[t*s + k*d] @ W[k]) with Keras padding; weight (filters, in, kernel)
    as nn.Conv1d's."""

    def __init__(self, kind: shape_ops.Conv1D, features: int, dtype: torch.dtype) -> None:
        super().__init__()
        self.kind = kind
        bound = (features * kind.kernel_size) ** -0.5
        self.weight = uniform_parameter((kind.filters, features, kind.kernel_size), dtype, bound)
        self.bias = uniform_parameter((kind.filters,), dtype, bound) if kind.use_bias else None
        self.activation = torch_activation(kind.activation)
        # "same" with strides pads by the length of the input: torch.export would fix it
        self.dynamic_time = not (kind.padding == "same" and kind.strides > 1)

    def compute(self, inputs: torch.Tensor) -> torch.Tensor:
        kind = self.kind
        pads = keras_padding(inputs.shape[1], kind.span, kind.strides, kind.padding)
        moved = F.pad(inputs.transpose(1, 2), pads)  # (batch, in, left + time + right)
        out = F.conv1d(
            moved, self.weight, self.bias, stride=kind.strides, dilation=kind.dilation_rate
        )
        return self.activation(out.transpose(1, 2))  # (batch, time', filters)


class Pool1d(NodeModule):
    """Max or average over windows; "same" pads so the windows cover ceil(time / stride) steps,
    and an average then counts only the real steps of its window (as Keras does)."""

    def __init__(self, kind: shape_ops.Pool1D) -> None:
        super().__init__()
        self.kind = kind
        self.dynamic_time = kind.padding == "valid" or kind.stride == 1

    def compute(self, inputs: torch.Tensor) -> torch.Tensor:
        kind = self.kind
        size, stride = kind.pool_size, kind.stride
        pads = keras_padding(inputs.shape[1], size, stride, kind.padding)
        moved = inputs.transpose(1, 2)  # (batch, F, time)
        if kind.op == "max":
            padded = F.pad(moved, pads, value=float("-inf"))
            return F.max_pool1d(padded, size, stride).transpose(1, 2)
        sums = F.avg_pool1d(F.pad(moved, pads), size, stride)
        real = F.pad(torch.ones_like(moved[:1, :1]), pads)  # (1, 1, padded time): 1 = real step
        counts = F.avg_pool1d(real, size, stride)  # the share of real steps per window
        return (sums / counts).transpose(1, 2)
