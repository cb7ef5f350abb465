"""Node kinds that move axes: pooling over time, flatten, repeat, steps, merges, attention parts
and the convolutional front.

    global_pool   (time, F) -> (F,): op "average" (masked steps excluded, Keras's
                  GlobalAveragePooling1D) or "max" (Keras's GlobalMaxPooling1D ignores masks)
    flatten       (d1, d2, ...) -> (d1 * d2 * ...,) in row-major order (time must be known)
    repeat        (F,) -> (n, F): RepeatVector(n)
    step          (time, F) -> (F,): the "last" or "first" step (Cropping1D + Flatten in Keras)
    merge         add, subtract (two inputs), multiply, average, maximum, minimum: elementwise
                  on shapes of one rank, an axis of size 1 broadcast against the others as
                  Keras's merge layers broadcast it (attention's (time, F) * (time, 1));
                  concatenate along `axis` (Keras numbering, batch axis 0)
    softmax       exp(x) / sum(exp(x)) along `axis` (a mask reaching it is refused: Keras 3
                  fails on a (batch, time) mask against (batch, time, 1) scores)
    dot           Keras's Dot(axes): a batched contraction of one axis of each input
    reduce        sum, mean, max or min over one axis (`keepdims` keeps it as size 1): torch's
                  out.sum(1), out.mean(1), out.max(1)[0]; Keras's ops.sum etc. (masks ignored,
                  as both frameworks' ops ignore them)
    permute       reorders the per-sample axes (Keras's Permute, torch's permute/transpose
                  past the batch axis), e.g. (2, 1): (time, features) -> (features, time)
    conv1d        (time, in) -> (time', filters), padding valid|same|causal, strides, dilation:
                  y[t] = act(b + sum_k x[t*s + k*d] @ W[k])            W (kernel, in, filters), b
    pool1d        max or average over windows of `pool_size` steps (padding valid|same)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from shared.activations import ACTIVATIONS
from shared.errors import SpecError
from shared.graph.base import NodeKind, Shape, axis_index, need_rank, register
from shared.validation import check_bool, check_choice, check_int

MERGE_OPS = ("add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate")


@register
@dataclass(frozen=True)
class GlobalPool(NodeKind):
    type: ClassVar[str] = "global_pool"
    op: str = "average"

    def __post_init__(self) -> None:
        check_choice(self.op, "op", ("average", "max"), "global_pool: ")

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        need_rank(inputs[0], (2,), f"global {self.op} pooling")
        return [(inputs[0][1],)]


@register
@dataclass(frozen=True)
class Flatten(NodeKind):
    type: ClassVar[str] = "flatten"

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        if any(size is None for size in inputs[0]):
            raise SpecError(f"flatten needs every axis known, got shape {inputs[0]}")
        return [(math.prod(inputs[0]),)]  # type: ignore[arg-type]


@register
@dataclass(frozen=True)
class Repeat(NodeKind):
    type: ClassVar[str] = "repeat"
    n: int = 1

    def __post_init__(self) -> None:
        check_int(self.n, "n", 1, "repeat: ")

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        need_rank(inputs[0], (1,), "repeat (RepeatVector)")
        return [(self.n, inputs[0][0])]


@register
@dataclass(frozen=True)
class Step(NodeKind):
    type: ClassVar[str] = "step"
    which: str = "last"

    def __post_init__(self) -> None:
        check_choice(self.which, "which", ("last", "first"), "step: ")

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        need_rank(inputs[0], (2,), f"the {self.which} step")
        return [(inputs[0][1],)]


@register
@dataclass(frozen=True)
class Merge(NodeKind):
    type: ClassVar[str] = "merge"
    arity: ClassVar[int | None] = None
    op: str = "add"
    axis: int = -1  # concatenate only

    def __post_init__(self) -> None:
        check_choice(self.op, "op", MERGE_OPS, "merge: ")
        if not isinstance(self.axis, int) or isinstance(self.axis, bool):
            raise SpecError(f"merge: axis must be an integer, got {self.axis!r}")

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        if len(inputs) < 2 or (self.op == "subtract" and len(inputs) != 2):
            wanted = "exactly two" if self.op == "subtract" else "two or more"
            raise SpecError(f"merge {self.op} takes {wanted} inputs, got {len(inputs)}")
        if self.op != "concatenate":
            return [_broadcast(inputs, self.op)]
        rank = len(inputs[0])
        index = axis_index(self.axis, rank, "merge concatenate")
        for shape in inputs[1:]:
            others = [size for i, size in enumerate(shape) if i != index]
            if len(shape) != rank or others != [s for i, s in enumerate(inputs[0]) if i != index]:
                raise SpecError(
                    f"merge concatenate on axis {self.axis}: shapes {inputs} do not fit"
                )
        sizes = [shape[index] for shape in inputs]
        total = None if None in sizes else sum(sizes)  # type: ignore[arg-type]
        return [(*inputs[0][:index], total, *inputs[0][index + 1 :])]

    def mask_out(self, inputs: list[Shape], masked: list[bool]) -> list[bool]:
        self.output_shapes(inputs)
        return [any(masked)]


def _broadcast(inputs: list[Shape], op: str) -> Shape:
    """The elementwise result shape: one rank; per axis equal sizes, or size 1 against any."""
    if len({len(shape) for shape in inputs}) != 1:
        raise SpecError(f"merge {op} needs inputs of one rank, got {inputs}")
    axes = []
    for sizes in zip(*inputs, strict=True):
        wide = {size for size in sizes if size != 1}
        if len(wide) > 1:
            raise SpecError(f"merge {op} needs equal sizes or 1 on each axis, got {inputs}")
        axes.append(wide.pop() if wide else 1)
    return tuple(axes)


@register
@dataclass(frozen=True)
class Softmax(NodeKind):
    type: ClassVar[str] = "softmax"
    carries_mask: ClassVar[bool] = True
    axis: int = -1

    def __post_init__(self) -> None:
        if not isinstance(self.axis, int) or isinstance(self.axis, bool):
            raise SpecError(f"softmax: axis must be an integer, got {self.axis!r}")

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        axis_index(self.axis, len(inputs[0]), "softmax")
        return [inputs[0]]

    def mask_out(self, inputs: list[Shape], masked: list[bool]) -> list[bool]:
        if masked[0]:
            raise SpecError(
                "softmax: its input carries a mask, which Keras 3 applies only where the mask "
                "broadcasts to the scores (it fails on (batch, time, 1) scores); put the mask "
                "out of its way (e.g. pool first) or drop it"
            )
        return [False]


@register
@dataclass(frozen=True)
class Dot(NodeKind):
    """Keras's Dot: contract axis axes[0] of the first input with axes[1] of the second."""

    type: ClassVar[str] = "dot"
    arity: ClassVar[int | None] = 2
    axes: tuple[int, int] = (-1, -1)

    def __post_init__(self) -> None:
        if (
            not isinstance(self.axes, tuple)
            or len(self.axes) != 2
            or not all(isinstance(a, int) and not isinstance(a, bool) for a in self.axes)
        ):
            raise SpecError(f"dot: axes must be two integers, got {self.axes!r}")

    def contracted(self, inputs: list[Shape]) -> tuple[int, int]:
        """Per-sample indices of the contracted axis of each input."""
        return (
            axis_index(self.axes[0], len(inputs[0]), "dot"),
            axis_index(self.axes[1], len(inputs[1]), "dot"),
        )

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        if len(inputs) != 2:
            raise SpecError(f"dot takes two inputs, got {len(inputs)}")
        first, second = self.contracted(inputs)
        if inputs[0][first] != inputs[1][second]:
            raise SpecError(
                f"dot on axes {self.axes}: sizes {inputs[0][first]} and {inputs[1][second]} differ"
            )
        rest = [s for i, s in enumerate(inputs[0]) if i != first]
        rest += [s for i, s in enumerate(inputs[1]) if i != second]
        return [tuple(rest) if rest else (1,)]


def _window_length(steps: int | None, size: int, stride: int, padding: str) -> int | None:
    """Output steps of a window of `size` steps moved by `stride` (Keras's formula)."""
    if steps is None:
        return None
    if padding == "valid":
        length = (steps - size) // stride + 1
        if length < 1:
            raise SpecError(f"a window of {size} steps does not fit {steps} steps")
        return length
    return -(-steps // stride)  # same and causal: ceil(steps / stride)


@register
@dataclass(frozen=True)
class Conv1D(NodeKind):
    type: ClassVar[str] = "conv1d"
    filters: int = 1
    kernel_size: int = 1
    strides: int = 1
    padding: str = "valid"
    dilation_rate: int = 1
    activation: str = "linear"
    use_bias: bool = True

    def __post_init__(self) -> None:
        for name in ("filters", "kernel_size", "strides", "dilation_rate"):
            check_int(getattr(self, name), name, 1, "conv1d: ")
        check_choice(self.padding, "padding", ("valid", "same", "causal"), "conv1d: ")
        check_choice(self.activation, "activation", tuple(ACTIVATIONS), "conv1d: ")
        check_bool(self.use_bias, "use_bias", "conv1d: ")
        if self.strides > 1 and self.dilation_rate > 1:
            raise SpecError("conv1d: strides > 1 with dilation_rate > 1 is refused by Keras too")

    @property
    def span(self) -> int:
        """Steps one output reads: (kernel_size - 1) * dilation_rate + 1."""
        return (self.kernel_size - 1) * self.dilation_rate + 1

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        need_rank(inputs[0], (2,), "conv1d")
        steps = _window_length(inputs[0][0], self.span, self.strides, self.padding)
        return [(steps, self.filters)]

    def weight_shapes(self, inputs: list[Shape]) -> dict[str, tuple[int, ...]]:
        features = inputs[0][1]
        if features is None:
            raise SpecError("conv1d needs a known feature axis")
        shapes = {"W": (self.kernel_size, features, self.filters)}
        return shapes | ({"b": (self.filters,)} if self.use_bias else {})


@register
@dataclass(frozen=True)
class Pool1D(NodeKind):
    type: ClassVar[str] = "pool1d"
    op: str = "max"
    pool_size: int = 2
    strides: int | None = None  # None: pool_size, as Keras
    padding: str = "valid"

    def __post_init__(self) -> None:
        check_choice(self.op, "op", ("max", "average"), "pool1d: ")
        check_int(self.pool_size, "pool_size", 1, "pool1d: ")
        if self.strides is not None:
            check_int(self.strides, "strides", 1, "pool1d: ")
        check_choice(self.padding, "padding", ("valid", "same"), "pool1d: ")

    @property
    def stride(self) -> int:
        return self.pool_size if self.strides is None else self.strides

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        need_rank(inputs[0], (2,), f"{self.op} pooling 1d")
        steps = _window_length(inputs[0][0], self.pool_size, self.stride, self.padding)
        return [(steps, inputs[0][1])]


@register
@dataclass(frozen=True)
class Reduce(NodeKind):
    type: ClassVar[str] = "reduce"
    op: str = "sum"
    axis: int = 1
    keepdims: bool = False

    def __post_init__(self) -> None:
        check_choice(self.op, "op", ("sum", "mean", "max", "min"), "reduce: ")
        if not isinstance(self.axis, int) or isinstance(self.axis, bool):
            raise SpecError(f"reduce: axis must be an integer, got {self.axis!r}")
        check_bool(self.keepdims, "keepdims", "reduce: ")

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        index = axis_index(self.axis, len(inputs[0]), f"reduce {self.op}")
        if self.keepdims:
            return [(*inputs[0][:index], 1, *inputs[0][index + 1 :])]
        rest = inputs[0][:index] + inputs[0][index + 1 :]
        if not rest:
            raise SpecError(f"reduce {self.op} would leave no per-sample axis: keep it")
        return [rest]


@register
@dataclass(frozen=True)
class Permute(NodeKind):
    """Keras's Permute(dims): dims name the per-sample axes 1..rank in their new order."""

    type: ClassVar[str] = "permute"
    dims: tuple[int, ...] = (2, 1)

    def __post_init__(self) -> None:
        if not isinstance(self.dims, tuple) or sorted(self.dims) != list(
            range(1, len(self.dims) + 1)
        ):
            raise SpecError(f"permute: dims must order 1..rank, got {self.dims!r}")

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        if len(self.dims) != len(inputs[0]):
            raise SpecError(f"permute {self.dims} needs {len(self.dims)} per-sample axes")
        return [tuple(inputs[0][dim - 1] for dim in self.dims)]
