"""What the graph reader knows of each value of a traced forward, and where a value lives.

The chain walk (`torch_impl.reading.traced`) folds a forward into one pipe; a graph has many
values at once (branches, residuals, states handed on), so each fx node here becomes one
small value:

    Tensor   a graph value as the user's tensor holds it: `perm[i]` is the graph axis held on
             torch axis i (batch 0; `None`: the input's own layout, not yet decided)
    Rows     h_n or c_n, (rows, batch, units) in torch: one graph value (a final state) per row,
             in torch's order (layer 0 forward, layer 0 backward, layer 1 forward, ...)
    Group    a tuple a call returns (a recurrent module's (out, h_n), max's (values, indices))
    Zeros    a tensor of zeros however built (torch.zeros(..., x.size(0), ...), .to(x), ...)
    Meta     sizes, devices, dtypes, numbers: what shapes the computation, never computed on
             (`x.size(1)` remembers its tensor and dim, so total_length=x.size(1) reads as T)
    Lengths  the forward's lengths input (batch,), clamped and less an offset (`lengths - 1`)
    Packed   pack_padded_sequence's result, or a recurrent module's packed output (`masked`)
    Arange   torch.arange(batch): the row index of a gather
    Param    a tensor of the module's own (nn.Parameter, buffer): refused where a state needs zeros
    Unread   a value no reader produces (max's indices): refused where it is used
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.graph.model import Ref


@dataclass(frozen=True)
class Tensor:
    ref: Ref
    perm: tuple[int, ...] | None = None
    short: bool = False  # pad_packed_sequence without total_length: max(lengths) steps, not T


@dataclass(frozen=True)
class Rows:
    refs: tuple[Ref, ...]
    batch_first: bool = False  # after h_n.transpose(0, 1): (batch, rows, units)


@dataclass(frozen=True)
class Group:
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Zeros:
    pass


@dataclass(frozen=True)
class Meta:
    of: Any = None  # the value whose size this is, where known
    dim: int | None = None


@dataclass(frozen=True)
class Lengths:
    """max(lengths, floor) - offset: `lengths - 1` is offset 1, `lengths.clamp(min=1)` floor 1
    (and `(lengths - 1).clamp(min=0)` both: max(lengths - 1, 0) = max(lengths, 1) - 1)."""

    offset: int = 0
    floor: int = 0


@dataclass(frozen=True)
class Packed:
    value: Tensor  # pack_padded_sequence: the user's sequence; masked: the graph's (0, 1, 2)
    batch_first: bool = False
    masked: bool = False
    min_length: int = 0  # packed with lengths.clamp(min=1)


@dataclass(frozen=True)
class Arange:
    pass


@dataclass(frozen=True)
class Param:
    pass


@dataclass(frozen=True)
class Unread:
    what: str


def identity_perm(rank: int) -> tuple[int, ...]:
    return tuple(range(rank))


def swap(perm: tuple[int, ...], first: int, second: int) -> tuple[int, ...]:
    """`perm` after torch's transpose(first, second)."""
    moved = list(perm)
    moved[first], moved[second] = moved[second], moved[first]
    return tuple(moved)


def dropped(perm: tuple[int, ...], axis: int) -> tuple[int, ...]:
    """`perm` without torch axis `axis` (reduced or picked), graph axes renumbered."""
    gone = perm[axis]
    return tuple(p - (p > gone) for i, p in enumerate(perm) if i != axis)
