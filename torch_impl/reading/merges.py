"""Readers of ops that combine or reduce values: residual `+`, `*`, torch.cat, torch.bmm,
mean / sum / max / min over an axis.

    a + b, a - b, a * b       merge add / subtract / multiply (a size-1 axis broadcasts:
                              attention's (time, 1) * (time, units))
    torch.cat(xs, dim)        merge concatenate on the axis `dim` names
    torch.bmm(a, b)           dot (a batched contraction: a's axis 2 with b's axis 1)
    x.mean(dim=1)             global_pool average over time (reduce mean elsewhere, and on a
                              padded packed sequence: torch averages its zeros too)
    x.max(dim=1)[0]           global_pool max over time (reduce max elsewhere)
    x.sum(1), x.min(1)[0]     reduce sum / min
Arithmetic on sizes (`x.size(0) * 2`) stays a size.
"""

from __future__ import annotations

from typing import Any

from shared.graph import shape_ops
from shared.graph.model import Ref
from torch_impl.reading import shaping
from torch_impl.reading.builder import Builder
from torch_impl.reading.traced_values import GrammarError, where
from torch_impl.reading.values import Group, Meta, Rows, Tensor, Unread, identity_perm

_OPS = {"add": "add", "sub": "subtract", "mul": "multiply", "maximum": "maximum"}


def _is_size(value: Any) -> bool:
    return isinstance(value, Meta | int | float)


def merged(call: Any, builder: Builder, op: str, values: list[Any], axis: int = -1) -> Tensor:
    """One merge node of `values`, each brought to the first's layout."""
    if not all(isinstance(value, Tensor) for value in values):
        kinds = ", ".join(type(value).__name__ for value in values)
        raise GrammarError(
            f"{op} of {kinds}: only tensors of the model merge "
            f"(no constants or parameters): {where(call.node)}"
        )
    first = values[0]
    perm = builder.perm(first, call.node)
    refs = [first.ref]
    for value in values[1:]:
        if builder.rank(value, call.node) != len(perm):
            raise GrammarError(f"{op} of tensors of different ranks: {where(call.node)}")
        refs.append(builder.arrange(value, perm, call.node))
    kind = shape_ops.Merge(op, axis)
    return Tensor(Ref(builder.add(call.node.name, kind, refs, call.node)), perm)


def arithmetic(op: str) -> Any:
    """The reader of a binary op (`operator.add`, `torch.mul`, `Tensor.add`, ...)."""

    def read(call: Any, builder: Builder) -> Any:
        values = list(call.args[:2])
        if all(_is_size(value) for value in values):
            return Meta()
        return merged(call, builder, _OPS[op], values)

    return read


def cat(call: Any, builder: Builder) -> Tensor:
    parts = list(call.args[0])
    dim = call.args[1] if len(call.args) > 1 else call.kwargs.get("dim", 0)
    if not parts or not isinstance(parts[0], Tensor):
        raise GrammarError(f"torch.cat of something other than tensors: {where(call.node)}")
    axis = shaping.graph_axis(parts[0], dim, builder, call.node)
    return merged(call, builder, "concatenate", parts, axis)


def bmm(call: Any, builder: Builder) -> Tensor:
    first, second = call.args[:2]
    if not (isinstance(first, Tensor) and isinstance(second, Tensor)):
        raise GrammarError(f"a product of something other than tensors: {where(call.node)}")
    if builder.rank(first, call.node) != 3 or builder.rank(second, call.node) != 3:
        raise GrammarError(f"only batched products of rank 3 tensors port: {where(call.node)}")
    axes = (
        shaping.graph_axis(first, 2, builder, call.node),
        shaping.graph_axis(second, 1, builder, call.node),
    )
    if builder.perm(first, call.node)[0] != 0 or builder.perm(second, call.node)[0] != 0:
        raise GrammarError(f"a batched product off the batch axis: {where(call.node)}")
    kind = shape_ops.Dot(axes)
    name = builder.add(call.node.name, kind, [first.ref, second.ref], call.node)
    return Tensor(Ref(name), identity_perm(3))


def _dim(call: Any) -> Any:
    return call.args[1] if len(call.args) > 1 else call.kwargs.get("dim")


def reduction(op: str) -> Any:
    """The reader of x.mean(dim) / torch.sum(x, dim) / x.max(dim) / ... over one axis."""

    def read(call: Any, builder: Builder) -> Any:
        value, dim = call.args[0], _dim(call)
        if op in ("max", "min") and isinstance(dim, Tensor):  # torch.max(a, b): elementwise
            return merged(call, builder, "maximum" if op == "max" else "minimum", [value, dim])
        if isinstance(value, Rows):
            return _rows_reduced(call, builder, op, value, dim)
        value = shaping.first_tensor(call)
        axis = shaping.graph_axis(value, dim, builder, call.node)
        keep = bool(call.kwargs.get("keepdim", call.args[2] if len(call.args) > 2 else False))
        # a masked sequence (padded by pad_packed_sequence) averages its zeros too, as torch does
        masked = builder.masked(value.ref)
        pooled = op in ("mean", "max") and not keep and axis == 1 and not masked
        if pooled and builder.rank(value, call.node) == 3:
            kind: Any = shape_ops.GlobalPool("average" if op == "mean" else "max")
        else:
            kind = shape_ops.Reduce(op, axis, keep)
        result = shaping.reduced(value, kind, dim, builder, call.node)
        return Group((result, Unread("indices"))) if op in ("max", "min") else result

    return read


def _rows_reduced(call: Any, builder: Builder, op: str, rows: Rows, dim: Any) -> Any:
    """h_n.sum(0) / h_n[-2:].mean(0): the rows merged."""
    if dim != 0 or rows.batch_first or op not in ("sum", "mean"):
        raise GrammarError(f"only sum(0) and mean(0) of h_n rows port: {where(call.node)}")
    values = [Tensor(ref, (0, 1)) for ref in rows.refs]
    if len(values) == 1:
        return values[0]
    return merged(call, builder, "add" if op == "sum" else "average", values)
