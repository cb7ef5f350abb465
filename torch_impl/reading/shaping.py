"""What many readers share: finding their tensor, the axis a torch dim names, elementwise nodes.

A torch dim counts the user's tensor's axes; a graph node counts the graph value's (batch 0).
`graph_axis` turns one into the other through the value's layout (`values.Tensor.perm`);
`last_axis` brings the features to the last axis for the kinds that act there (dense, norms).
"""

from __future__ import annotations

from typing import Any

from torch import fx

from shared.graph import layers as kinds
from shared.graph import shape_ops
from shared.graph.base import NodeKind
from shared.graph.model import Ref
from torch_impl.reading.builder import INPUT, Builder
from torch_impl.reading.traced_values import GrammarError, where
from torch_impl.reading.values import Tensor, dropped, identity_perm

KERAS_LEAKY_SLOPE = 0.2  # Keras's leaky_relu activation has this slope, and no other


def first_tensor(call: Any) -> Tensor:
    value = call.args[0] if call.args else None
    if not isinstance(value, Tensor):
        raise GrammarError(
            f"reads {type(value).__name__}, not a tensor of the model: {where(call.node)}"
        )
    return value


def bind_floats(value: Tensor, features: int, builder: Builder, node: fx.Node) -> None:
    """A layer reading the raw float input on its last axis says how many features it has."""
    if value.ref.node == INPUT and builder.input_kind is None:
        builder.bind_input("floats", features, node)


def graph_axis(value: Tensor, dim: Any, builder: Builder, node: fx.Node) -> int:
    """The graph axis (batch 0) that torch dim `dim` of the user's tensor holds.

    Raises:
        GrammarError: for a dim that is not an integer, or the batch axis.
    """
    perm = builder.perm(value, node)
    if not isinstance(dim, int) or not -len(perm) <= dim < len(perm):
        raise GrammarError(f"needs an integer dim of the tensor's axes, got {dim!r}: {where(node)}")
    axis = perm[dim % len(perm)]
    if axis == 0:
        raise GrammarError(f"acts over the batch axis, which no graph node does: {where(node)}")
    return axis


def last_axis(value: Tensor, builder: Builder, node: fx.Node) -> tuple[Ref, tuple[int, ...] | None]:
    """The value with the graph's features on the torch tensor's last axis, and its layout
    (an undecided input layout stays undecided: features are last in either)."""
    if value.perm is None:
        return value.ref, None
    perm = builder.perm(value, node)
    if perm[-1] == len(perm) - 1:
        return value.ref, perm
    wanted = identity_perm(len(perm))
    return builder.arrange(value, wanted, node), wanted


def elementwise(call: Any, builder: Builder, kind: NodeKind) -> Tensor:
    """A node acting on every element alike: the layout is kept as it is."""
    value = first_tensor(call)
    name = builder.add(call.node.name, kind, [value.ref], call.node)
    return Tensor(Ref(name), value.perm)


def leaky(call: Any, builder: Builder, slope: float) -> Tensor:
    if slope != KERAS_LEAKY_SLOPE:
        raise GrammarError(
            f"leaky_relu with negative_slope={slope}: Keras's leaky_relu has slope "
            f"{KERAS_LEAKY_SLOPE} only: {where(call.node)}"
        )
    return elementwise(call, builder, kinds.Activation("leaky_relu"))


def softmax_over(call: Any, builder: Builder, dim: Any) -> Tensor:
    value = first_tensor(call)
    if dim is None:
        raise GrammarError(f"softmax without an explicit dim: {where(call.node)}")
    kind = shape_ops.Softmax(graph_axis(value, dim, builder, call.node))
    return elementwise(call, builder, kind)


def flatten(value: Tensor, builder: Builder, node: fx.Node) -> Tensor:
    """All but the batch axis into one, in the user's tensor's order (a fixed time axis)."""
    if builder.time_steps is None and None in builder.shape(value.ref, node):
        raise GrammarError(
            f"flattens the time axis, which needs a fixed length: pass time_steps: {where(node)}"
        )
    wanted = identity_perm(builder.rank(value, node))
    ref = builder.arrange(value, wanted, node)
    return Tensor(Ref(builder.add(node.name, shape_ops.Flatten(), [ref], node)), (0, 1))


def reduced(value: Tensor, kind: NodeKind, dim: int, builder: Builder, node: fx.Node) -> Tensor:
    """A node that removes torch axis `dim` (or keeps it as size 1 with keepdims)."""
    perm = builder.perm(value, node)
    name = builder.add(node.name, kind, [value.ref], node)
    keep = getattr(kind, "keepdims", False)
    return Tensor(Ref(name), perm if keep else dropped(perm, dim % len(perm)))
