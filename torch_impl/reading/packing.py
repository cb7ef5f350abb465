"""Readers of the torch way to feed padded batches: a lengths input, packing, unpacking and
the last valid step, all read onto one length mask.

    forward(self, x, lengths)                  a second graph input, "lengths" (batch,)
    pack_padded_sequence(x, lengths[.cpu()],   `Packed`: the recurrent module reading it reads x
      batch_first=..., enforce_sorted=...)       through a length_mask node (pad values ignored)
    pad_packed_sequence(out, batch_first=...,  the module's sequence, zero past each length
      total_length=x.size(1) | T)                (zero_output_for_mask, as torch pads it)
    pad_packed_sequence(out) alone             max(lengths) steps, not T (`Tensor.short`): only
                                                 the last-valid-step gather may read it
    out[torch.arange(B), lengths - 1]          the last valid step of a one-direction recurrent
      (idx = lengths - 1 first; [..., :] too;    module's output: its final state under the mask
      range(len(lengths)) for the arange)
    lengths.clamp(min=1) (torch.clamp,         lengths of 0 read step 0 (length_mask
      clamp_min(1); (lengths - 1).clamp(min=0))  min_length 1); no other bound ports
    Variable(t), lengths.long() / .cpu()       the value itself

A bidirectional output's backward half at lengths - 1 has read one step, not the sequence, so
it is not a final state: that gather is refused, as is every other reading of lengths.
"""

from __future__ import annotations

import dataclasses
import operator
from typing import Any

import torch
from torch import fx, nn

from shared.graph.layers import LengthMask
from shared.graph.model import Ref
from shared.graph.recurrent import Recurrent
from torch_impl.reading import halves, indexing, shaping
from torch_impl.reading.builder import INPUT, LENGTHS, Builder
from torch_impl.reading.traced_values import GrammarError, where
from torch_impl.reading.values import Arange, Group, Lengths, Meta, Packed, Param, Tensor

_FULL = slice(None)
SHORT = (
    "reads pad_packed_sequence's output without total_length, which has max(lengths) steps, "
    "not the input's T: pass total_length=x.size(1)"
)


def _option(call: Any, name: str, position: int, default: Any) -> Any:
    return call.args[position] if len(call.args) > position else call.kwargs.get(name, default)


def pack(call: Any, builder: Builder) -> Packed:
    """pack_padded_sequence(x, lengths, batch_first, enforce_sorted)."""
    value = shaping.first_tensor(call)
    lengths = _option(call, "lengths", 1, None)
    if not isinstance(lengths, Lengths) or lengths.offset:
        raise GrammarError(
            f"pack_padded_sequence with lengths other than the forward's lengths input: "
            f"{where(call.node)}"
        )
    if _option(call, "enforce_sorted", 3, True):
        builder.sorted_lengths = True  # the user's forward runs on batches sorted by length
    return Packed(value, bool(_option(call, "batch_first", 2, False)), min_length=lengths.floor)


def masked_sequence(packed: Packed, module: nn.Module, builder: Builder, node: fx.Node) -> Ref:
    """The graph sequence (batch, time, features) a recurrent module reads from a packed one:
    the user's sequence through a new length_mask node, or an already masked output."""
    if packed.masked:
        return packed.value.ref
    value = packed.value
    wanted = (0, 1, 2) if packed.batch_first else (1, 0, 2)
    if value.perm is None and builder.time_major is None:
        builder.time_major = not packed.batch_first
    if value.ref.node == INPUT and builder.input_kind is None:
        builder.bind_input("floats", module.input_size, node)
    ref = builder.arrange(value, wanted, node)
    mask = LengthMask(packed.min_length)
    return Ref(builder.add(f"{node.name}_mask", mask, [ref, Ref(LENGTHS)], node))


def unpack(call: Any, builder: Builder) -> Group:
    """pad_packed_sequence(out, batch_first, padding_value, total_length) -> (out, lengths)."""
    packed = call.args[0]
    if not isinstance(packed, Packed) or not packed.masked:
        raise GrammarError(
            f"pad_packed_sequence of something other than a recurrent module's packed output: "
            f"{where(call.node)}"
        )
    if _option(call, "padding_value", 2, 0.0) != 0.0:
        raise GrammarError(
            f"pad_packed_sequence with padding_value other than 0 (Keras writes zeros past a "
            f"length): {where(call.node)}"
        )
    total = _option(call, "total_length", 3, None)
    if total is not None:
        _check_total(total, builder, call.node)
    perm = (0, 1, 2) if _option(call, "batch_first", 1, False) else (1, 0, 2)
    lengths = Lengths(floor=packed.min_length)  # the lengths packed: clamped where they were
    return Group((Tensor(packed.value.ref, perm, short=total is None), lengths))


def _check_total(total: Any, builder: Builder, node: fx.Node) -> None:
    """total_length must be the input's time length: x.size(1) (time axis), or T fixed."""
    if isinstance(total, int) and not isinstance(total, bool):
        if builder.time_steps != total:
            raise GrammarError(
                f"pad_packed_sequence(total_length={total}) fixes the time axis: read with "
                f"time_steps={total}: {where(node)}"
            )
        return
    if not (isinstance(total, Meta) and _size_axis(total, builder, node) == 1):
        raise GrammarError(
            f"pad_packed_sequence's total_length is not the input's time length "
            f"(x.size(1) where batch-first): {where(node)}"
        )


def _size_axis(meta: Meta, builder: Builder, node: fx.Node) -> int | None:
    """The graph axis (batch 0, time 1) whose size `meta` is, where known."""
    if isinstance(meta.of, Lengths) and meta.dim in (0, -1):
        return 0
    if isinstance(meta.of, Tensor) and isinstance(meta.dim, int):
        perm = builder.perm(meta.of, node)
        return perm[meta.dim % len(perm)] if -len(perm) <= meta.dim < len(perm) else None
    return None


def arange(call: Any, builder: Builder) -> Any:
    """torch.arange(batch) / range(len(lengths)) is a gather's row index; any other arange a
    made-up tensor."""
    size = call.args[0] if len(call.args) == 1 else None
    if isinstance(size, Meta) and _size_axis(size, builder, call.node) == 0:
        return Arange()
    return Param()


def length(call: Any, builder: Builder) -> Meta:
    """len(t): the size of t's first axis."""
    return Meta(call.args[0], 0)


def integer(call: Any, builder: Builder) -> Lengths:
    """lengths.long() / .int(): the lengths (no tensor of the model is cast to integers)."""
    if not isinstance(call.args[0], Lengths):
        raise GrammarError(f"casts a tensor of the model to integers: {where(call.node)}")
    return call.args[0]


def lengths_arithmetic(fallback: Any) -> Any:
    """`lengths - 1` (and `lengths - k`) stay lengths; other ops go to `fallback`."""

    def read(call: Any, builder: Builder) -> Any:
        first, second = call.args[:2]
        if isinstance(first, Lengths) and isinstance(second, int) and call.node.target in _SUB:
            return dataclasses.replace(first, offset=first.offset + second)
        if isinstance(first, Lengths) or isinstance(second, Lengths):
            raise GrammarError(f"arithmetic on lengths other than lengths - 1: {where(call.node)}")
        return fallback(call, builder)

    return read


_SUB = ("sub", operator.sub, torch.sub)


def clamp(call: Any, builder: Builder) -> Lengths:
    """lengths.clamp(min=1) (torch.clamp, clamp_min, clip): a length-0 sample reads its first
    step; max(lengths - 1, 0) is max(lengths, 1) - 1, so (lengths - 1).clamp(min=0) too."""
    value, node = call.args[0], call.node
    if not isinstance(value, Lengths):
        raise GrammarError(
            f"clamps a tensor of the model (only the lengths' clamp(min=1) ports): {where(node)}"
        )
    single = node.target in ("clamp_min", torch.clamp_min)
    low = _option(call, "min", 1, None)
    high = None if single else _option(call, "max", 2, None)
    if high is not None or isinstance(low, bool) or not isinstance(low, int):
        low = None
    if low is None or low + value.offset != 1:
        raise GrammarError(
            f"clamps lengths other than lengths.clamp(min=1) (or (lengths - 1).clamp(min=0)): "
            f"{where(node)}"
        )
    return dataclasses.replace(value, floor=1)


def getitem(call: Any, builder: Builder) -> Any:
    """A gather by lengths, or the plain indexing readers (never on a short sequence)."""
    value, index = call.args[:2]
    entries = index if isinstance(index, tuple) else (index,)
    if any(isinstance(entry, Lengths | Arange) for entry in entries):
        return _last_valid(call, builder, value, entries)
    if isinstance(value, Tensor) and halves.is_half(entries):  # out[:, 0, H:]: even if short
        return halves.at_step(call, builder, value, entries)
    if isinstance(value, Tensor) and value.short:
        raise GrammarError(f"indexing {index!r} {SHORT}: {where(call.node)}")
    if isinstance(value, Lengths):
        raise GrammarError(f"indexes the lengths: {where(call.node)}")
    return indexing.getitem(call, builder)


def _last_valid(call: Any, builder: Builder, value: Any, entries: tuple) -> Tensor:
    """out[arange(B), lengths - 1] (either axis order, a trailing `:` allowed; a trailing
    `:H` is a bidirectional output's forward half, `halves`)."""
    node = call.node
    while entries and entries[-1] == _FULL:
        entries = entries[:-1]
    half = entries[2] if len(entries) == 3 and halves.is_half(entries[2:]) else None
    entries = entries[:2] if half is not None else entries
    picks = {type(entry): axis for axis, entry in enumerate(entries)}
    lengths = next((entry for entry in entries if isinstance(entry, Lengths)), None)
    if not isinstance(value, Tensor) or len(entries) != 2 or set(picks) != {Arange, Lengths}:
        raise GrammarError(
            f"a gather by lengths other than out[torch.arange(B), lengths - 1]: {where(node)}"
        )
    if lengths is None or lengths.offset != 1:
        raise GrammarError(
            f"gathers step lengths - {lengths.offset if lengths else '?'} "
            f"(only lengths - 1, the last valid step, ports): {where(node)}"
        )
    perm = builder.perm(value, node)
    if len(perm) != 3 or perm[picks[Arange]] != 0 or perm[picks[Lengths]] != 1:
        raise GrammarError(
            f"the gather's arange is not on the batch axis or lengths - 1 not on "
            f"the time axis: {where(node)}"
        )
    if half is not None:
        _same_floor(builder, lengths.floor, node)
        return Tensor(halves.forward_at_last_valid(builder, value.ref, half, node), (0, 1))
    return Tensor(_final_under_mask(builder, value.ref, node, lengths.floor), (0, 1))


def _same_floor(builder: Builder, floor: int, node: fx.Node) -> None:
    """A gather of a packed output must clamp its lengths as the packing did: a length 0
    reads step 0 under a clamped mask, but step -1 (the last) in torch's unclamped gather."""
    floors = {n.kind.min_length for n in builder.nodes if isinstance(n.kind, LengthMask)}
    if floors != {floor}:
        raise GrammarError(
            f"gathers at lengths - 1 with the lengths clamped otherwise than where they were "
            f"packed: {where(node)}"
        )


def _final_under_mask(builder: Builder, ref: Ref, node: fx.Node, floor: int = 0) -> Ref:
    """The last valid step of a one-direction recurrent node's sequence: its final state where
    a length mask reaches it, else the final state of the same layer (same weights and initial
    states) reading its input through a length mask: step lengths - 1 of a forward recurrence
    reads only the steps before it, so the steps past it cannot change it."""
    found = next((n for n in builder.nodes if n.name == ref.node), None)
    kind = found.kind if found is not None else None
    if not isinstance(kind, Recurrent) or ref.output != 0 or kind.go_backwards:
        raise GrammarError(
            f"out[torch.arange(B), lengths - 1] ports on a recurrent module's output only: "
            f"{where(node)}"
        )
    if kind.bidirectional:
        raise GrammarError(
            f"out[torch.arange(B), lengths - 1] of a bidirectional output: its backward half at "
            f"lengths - 1 has read one step, which no graph node computes (read h_n instead): "
            f"{where(node)}"
        )
    if builder.masked(ref):
        _same_floor(builder, floor, node)
        return Ref(ref.node, 1)  # the recurrent node returns its states
    source, *initial = found.inputs
    mask = builder.add(f"{node.name}_mask", LengthMask(floor), [source, Ref(LENGTHS)], node)
    last = dataclasses.replace(kind, return_sequences=False, return_state=False)
    arrays = builder.arrays[found.name]
    return Ref(builder.add(f"{node.name}_last", last, [Ref(mask), *initial], node, arrays))
