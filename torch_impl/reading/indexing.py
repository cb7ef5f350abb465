"""Readers of ops that pick or move axes: indexing, transpose / permute, squeeze, view.

out[:, -1] / out[:, -1, :] / out[-1] (time-major)   the last step: the node's final state
                                                    where that is it, else a step node
h_n[-1], h_n[k], h_n[-2:], h_n.squeeze(0)           final states of a layer and direction
max's [0] / .values                                 the values (the indices are refused)
x.transpose(a, b) / x.permute(...)                  only the layout changes (`Tensor.perm`)
x.squeeze(d), h.unsqueeze(0)                        flatten / reduce; a state row
x.flatten(1) / x.reshape(x.size(0), -1) / view      flatten (a fixed time axis);
                                                    h_n.transpose(0, 1).reshape(b, -1)
                                                    concatenates the rows
"""

from __future__ import annotations

from typing import Any

from shared.graph import shape_ops
from shared.graph.model import Ref
from shared.graph.recurrent import Recurrent
from torch_impl.reading import merges, shaping
from torch_impl.reading.builder import Builder
from torch_impl.reading.traced_values import GrammarError, where
from torch_impl.reading.values import Group, Meta, Param, Rows, Tensor, Zeros, dropped, swap

_FULL = slice(None)


def getitem(call: Any, builder: Builder) -> Any:
    value, index = call.args[:2]
    if isinstance(value, Group) and isinstance(index, int):
        return value.items[index]
    if isinstance(value, Meta) and value.dim is None and isinstance(index, int):
        return Meta(value.of, index)  # x.shape[1] / x.size()[1]
    if isinstance(value, Meta | Param | Zeros):
        return value
    if isinstance(value, Rows) and not value.batch_first:
        return _rows_item(call, value, index)
    if isinstance(value, Tensor):
        return _step(call, builder, value, index)
    raise GrammarError(f"indexing {index!r} of {type(value).__name__}: {where(call.node)}")


def getattribute(call: Any, builder: Builder) -> Any:
    value, name = call.args[:2]
    if isinstance(value, Group) and name == "values":
        return value.items[0]
    if name in ("shape", "device", "dtype", "is_cuda"):
        return Meta(value) if name == "shape" else Meta()
    raise GrammarError(f"attribute {name!r} of {type(value).__name__}: {where(call.node)}")


def _rows_item(call: Any, rows: Rows, index: Any) -> Any:
    row = index[0] if isinstance(index, tuple) and all(i == _FULL for i in index[1:]) else index
    if isinstance(row, int) and -len(rows.refs) <= row < len(rows.refs):
        return Tensor(rows.refs[row], (0, 1))
    if isinstance(row, slice):
        return Rows(rows.refs[row])
    raise GrammarError(f"h_n indexed by {index!r}: {where(call.node)}")


def _step(call: Any, builder: Builder, value: Tensor, index: Any) -> Tensor:
    """out[:, -1] and its spellings: one integer on the time axis, full slices elsewhere."""
    entries = index if isinstance(index, tuple) else (index,)
    picks = [(axis, entry) for axis, entry in enumerate(entries) if entry != _FULL]
    if len(picks) != 1 or picks[0][1] not in (0, -1):
        raise GrammarError(
            f"indexing {index!r} (only the first or last step ports): {where(call.node)}"
        )
    axis, entry = picks[0]
    if shaping.graph_axis(value, axis, builder, call.node) != 1:
        raise GrammarError(f"indexing {index!r} picks no time step: {where(call.node)}")
    perm = dropped(builder.perm(value, call.node), axis)
    state = _final_state(builder, value.ref) if entry == -1 else None
    if state is not None:
        return Tensor(state, perm)
    if None in builder.shape(value.ref, call.node):
        raise GrammarError(
            f"picks one step of a free time axis (Keras's Cropping1D needs its length): "
            f"pass time_steps: {where(call.node)}"
        )
    kind = shape_ops.Step("last" if entry == -1 else "first")
    return Tensor(Ref(builder.add(call.node.name, kind, [value.ref], call.node)), perm)


def _final_state(builder: Builder, ref: Ref) -> Ref | None:
    """The one-direction recurrent node's final h, which is its sequence's last step."""
    node = next((node for node in builder.nodes if node.name == ref.node), None)
    kind = node.kind if node is not None else None
    if isinstance(kind, Recurrent) and ref.output == 0 and not kind.bidirectional:
        return Ref(ref.node, 1)
    return None


def transpose(call: Any, builder: Builder) -> Any:
    value, dims = call.args[0], tuple(call.args[1:])
    if call.node.target == "permute" and len(dims) == 1 and isinstance(dims[0], tuple | list):
        dims = tuple(dims[0])
    if isinstance(value, Rows) and dims in ((0, 1), (1, 0), (1, 0, 2)):
        return Rows(value.refs, not value.batch_first)
    if not isinstance(value, Tensor):
        raise GrammarError(f"moves axes of {type(value).__name__}: {where(call.node)}")
    perm = builder.perm(value, call.node)
    if call.node.target in ("permute",) and sorted(dims) == list(range(len(perm))):
        return Tensor(value.ref, tuple(perm[d] for d in dims))
    if len(dims) == 2 and all(isinstance(d, int) for d in dims):
        return Tensor(value.ref, swap(perm, dims[0] % len(perm), dims[1] % len(perm)))
    raise GrammarError(f"moves axes {dims!r}: {where(call.node)}")


def squeeze(call: Any, builder: Builder) -> Any:
    value = call.args[0]
    dim = call.args[1] if len(call.args) > 1 else call.kwargs.get("dim")
    if isinstance(value, Rows) and len(value.refs) == 1 and dim in (None, 0):
        return Tensor(value.refs[0], (0, 1))
    value = shaping.first_tensor(call)
    if dim is None:  # x.squeeze(): the idiom `fc(out[:, -1]).squeeze()` of many forecasters
        dim = _only_unit_dim(value, builder, call.node)
        if dim is None:
            return value  # no axis of size 1 but the batch: torch returns the tensor as it is
    axis = shaping.graph_axis(value, dim, builder, call.node)
    if builder.rank(value, call.node) == 2:
        raise GrammarError(
            "squeeze leaves only the batch axis, a (batch,) value, and every value of a model "
            "graph keeps a per-sample axis: return the (batch, 1) tensor and squeeze outside "
            f"the model: {where(call.node)}"
        )
    shape = builder.shape(value.ref, call.node)
    if shape[axis - 1] != 1:
        raise GrammarError(f"squeezes an axis of size {shape[axis - 1]}: {where(call.node)}")
    if len(shape) == 2 and None not in shape:
        return shaping.flatten(value, builder, call.node)
    kind = shape_ops.Reduce("sum", axis)
    return shaping.reduced(value, kind, dim, builder, call.node)


def _only_unit_dim(value: Tensor, builder: Builder, node: Any) -> int | None:
    """The torch dim `x.squeeze()` removes, or None where it removes none.

    torch drops every axis of size 1, the batch axis too at batch 1: the port keeps the batch
    axis at every batch size (the same values; a (1,) where torch gives a 0-d tensor).

    Raises:
        GrammarError: where it would drop more than one axis, or where a free time axis makes
            what it drops depend on the length.
    """
    perm = builder.perm(value, node)
    shape = builder.shape(value.ref, node)  # graph axes 1.. (the batch's is not known)
    if None in shape:
        raise GrammarError(
            f"squeeze() without a dim over a free time axis (what it drops depends on the "
            f"length): name the axis, squeeze(d): {where(node)}"
        )
    units = [dim for dim, axis in enumerate(perm) if axis != 0 and shape[axis - 1] == 1]
    if len(units) > 1:
        raise GrammarError(
            f"squeeze() without a dim drops {len(units)} axes of size 1 (dims {units}); name "
            f"the one meant, squeeze(d): {where(node)}"
        )
    return units[0] if units else None


def unsqueeze(call: Any, builder: Builder) -> Rows:
    value = shaping.first_tensor(call)
    dim = call.args[1] if len(call.args) > 1 else call.kwargs.get("dim")
    if dim == 0 and builder.rank(value, call.node) == 2:
        return Rows((value.ref,))  # h.unsqueeze(0): an initial state of one row
    raise GrammarError(
        f"unsqueeze({dim!r}) (only a state's unsqueeze(0) ports): {where(call.node)}"
    )


def view(call: Any, builder: Builder) -> Any:
    """reshape(x.size(0), -1) / view(batch, -1): everything but the batch into one axis."""
    sizes = call.args[1:]
    sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], tuple | list) else sizes
    if len(sizes) != 2 or not isinstance(sizes[0], Meta) or sizes[1] != -1:
        raise GrammarError(f"reshape to {sizes!r} (only (batch, -1) ports): {where(call.node)}")
    return _flat(call, builder, call.args[0])


def flatten(call: Any, builder: Builder) -> Any:
    start = call.args[1] if len(call.args) > 1 else call.kwargs.get("start_dim", 0)
    end = call.args[2] if len(call.args) > 2 else call.kwargs.get("end_dim", -1)
    if (start, end) != (1, -1):
        raise GrammarError(f"flatten({start}, {end}) (only flatten(1) ports): {where(call.node)}")
    return _flat(call, builder, call.args[0])


def _flat(call: Any, builder: Builder, value: Any) -> Tensor:
    if isinstance(value, Rows) and value.batch_first:
        rows = [Tensor(ref, (0, 1)) for ref in value.refs]
        return rows[0] if len(rows) == 1 else merges.merged(call, builder, "concatenate", rows)
    if not isinstance(value, Tensor):
        raise GrammarError(f"flattens {type(value).__name__}: {where(call.node)}")
    return shaping.flatten(value, builder, call.node)
