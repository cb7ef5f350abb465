"""Readers of the readout: which of a recurrent module's outputs the head reads.

`out[:, -1]` (`out[-1]` time-major), `h_n[-1]` or `h_n[k]` of the last layer, and
`torch.cat((h_n[-2], h_n[-1]), dim=1)` each become the grammar's readout ("final" or
"last_step"); anything else indexed out of a recurrent output is refused by node. Called by the
graph walk in `torch_impl.reading.traced`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from torch import fx, nn

from shared.grammar import DropoutSpec
from torch_impl.reading.traced_values import GrammarError, Head, Pipe, RecurrentUse, Value, where


def state_rows(pipe: Pipe) -> int:
    """Rows of the last recurrent module's h_n: num_layers * directions."""
    last = pipe.recurrent[-1].module
    return last.num_layers * (2 if last.bidirectional else 1)


def indexed(node: fx.Node, first: Value) -> Value:
    """`first[index]`: a part of a recurrent output, an h_n row, or the last step of `out`."""
    index = node.args[1]
    last = first.pipe.recurrent[-1].module if first.pipe.recurrent else None
    if first.role == "rec" and index in (0, 1):
        if index == 0:
            return Value("tensor", first.pipe)
        return Value("state" if isinstance(last, nn.LSTM) else "h_n", first.pipe)
    if first.role == "state" and index in (0, 1, -1, -2):
        return Value("h_n" if index in (0, -2) else "c_n", first.pipe)
    if first.role == "h_n":
        row = index[0] if isinstance(index, tuple) and _is_full(index[1:]) else index
        rows = state_rows(first.pipe)
        if isinstance(row, int) and -rows <= row < rows:
            layer_direction = divmod(row % rows, 2 if last.bidirectional else 1)
            return Value("row", first.pipe, layer_direction, node.name)
    if first.role == "tensor" and first.pipe.recurrent and first.pipe.readout is None:
        step = _last_step(first.pipe, index)
        if step:
            bidirectional = first.pipe.recurrent[-1].module.bidirectional
            return readout_value(first.pipe, "last_step" if bidirectional else "final", node.name)
    raise GrammarError(f"outside the grammar (indexing {index!r}): {where(node)}")


def _is_full(rest: tuple) -> bool:
    return all(isinstance(s, slice) and s == slice(None) for s in rest)


def _last_step(pipe: Pipe, index: Any) -> bool:
    """Whether `index` picks the last time step of the whole sequence: out[:, -1] / out[-1]."""
    if pipe.time_major:
        return index == -1 or (isinstance(index, tuple) and index[0] == -1 and _is_full(index[1:]))
    return (
        isinstance(index, tuple)
        and len(index) >= 2
        and index[0] == slice(None)
        and index[1] == -1
        and _is_full(index[2:])
    )


def readout_value(pipe: Pipe, readout: str, node_name: str) -> Value:
    """The readout, at node `node_name`; a Dropout on the sequence before it becomes a head layer
    (the same computation at inference: indexing commutes with an elementwise identity)."""
    if pipe.recurrent[-1].dropout_after:
        head = (Head(DropoutSpec(pipe.recurrent[-1].dropout_after), None, node_name),)
        pipe = pipe.add(recurrent=(*pipe.recurrent[:-1], _undropped(pipe.recurrent[-1])))
        return Value("tensor", pipe.add(readout=readout, readout_node=node_name, head=head))
    return Value("tensor", pipe.add(readout=readout, readout_node=node_name))


def _undropped(use: RecurrentUse) -> RecurrentUse:
    return dataclasses.replace(use, dropout_after=0.0)


def cat_readout(node: fx.Node, values: dict[str, Value]) -> Value:
    """torch.cat((h_n[-2], h_n[-1]), dim=1): both directions' final states of the last layer."""
    parts = node.args[0]
    dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)
    if isinstance(parts, tuple | list) and len(parts) == 2 and dim in (1, -1):
        rows = [values[p.name] if isinstance(p, fx.Node) else Value("other") for p in parts]
        if all(r.role == "row" for r in rows) and rows[0].pipe is rows[1].pipe:
            last = rows[0].pipe.recurrent[-1].module
            top = last.num_layers - 1
            if last.bidirectional and [r.row for r in rows] == [(top, 0), (top, 1)]:
                return readout_value(rows[0].pipe, "final", node.name)
    raise GrammarError(
        f"outside the grammar (only torch.cat((h_n[-2], h_n[-1]), dim=1) ports): {where(node)}"
    )


def row_readout(value: Value) -> Value:
    """h_n[k] used as features: the last layer's final state of a one-direction module."""
    last = value.pipe.recurrent[-1].module
    if value.row == (last.num_layers - 1, 0) and not last.bidirectional:
        return readout_value(value.pipe, "final", value.node)
    layer, direction = value.row
    raise GrammarError(
        f"h_n row of layer {layer}, direction {direction} of self.{value.pipe.recurrent[-1].name} "
        f"(node {value.node}) is not the last layer's whole final state (bidirectional: "
        "torch.cat((h_n[-2], h_n[-1]), dim=1) ports)"
    )
