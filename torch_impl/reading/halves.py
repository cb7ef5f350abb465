"""Readers of a bidirectional output's two halves at their final steps: the split public code
writes to read both directions' final states from the padded output instead of from h_n.

    out, _ = pad_packed_sequence(packed_out, batch_first=True)      (batch, time, 2H)
    out[range(len(out)), lengths - 1, :H]   the forward half at each sample's last valid step:
                                            the forward direction's final state (packed only:
                                            unpacked, no graph node computes it)
    out[:, 0, H:]                           the backward half at step 0: the backward
                                            direction's final state (it reads back to step 0)
    out[:, -1, :H]                          unpacked: the forward direction's final state
    torch.cat((forward, backward), 1)       both side by side (`merges.cat`)

H must be the module's hidden size and `out` the recurrent module's own concatenated halves;
any other feature slice (of a layer's output, or at another step) is refused in one line.
"""

from __future__ import annotations

from typing import Any

from torch import fx

from shared.graph.model import Ref
from shared.graph.recurrent import Recurrent
from torch_impl.reading.builder import Builder
from torch_impl.reading.traced_values import GrammarError, where
from torch_impl.reading.values import Tensor

_FULL = slice(None)


def _shown(entries: tuple) -> str:
    """An index as the user wrote it: [:, 0, 4:]."""

    def one(entry: Any) -> str:
        if not isinstance(entry, slice):
            return repr(entry)
        parts = ["" if part is None else str(part) for part in (entry.start, entry.stop)]
        return ":".join(parts) + ("" if entry.step is None else f":{entry.step}")

    return "[" + ", ".join(one(entry) for entry in entries) + "]"


def is_half(entries: tuple) -> bool:
    """Whether an index slices some axis other than whole (a feature half)."""
    return any(isinstance(entry, slice) and entry != _FULL for entry in entries)


def _direction(builder: Builder, ref: Ref, half: Any, node: fx.Node) -> tuple[Recurrent, int]:
    """The bidirectional node `ref` is the output of, and which half (0 forward, 1 backward)
    the feature slice `half` takes.

    Raises:
        GrammarError: a slice of anything else, or not exactly one direction's H features.
    """
    found = next((n for n in builder.nodes if n.name == ref.node), None)
    kind = found.kind if found is not None else None
    if not (
        isinstance(kind, Recurrent)
        and kind.bidirectional
        and kind.merge_mode == "concat"
        and ref.output == 0
    ):
        raise GrammarError(
            f"slices features {_shown((half,))} of something other than a bidirectional recurrent "
            f"module's output: {where(node)}"
        )
    units = kind.units
    if isinstance(half, slice) and half.step in (None, 1):
        if half.start in (None, 0) and half.stop == units:
            return kind, 0
        if half.start == units and half.stop in (None, 2 * units):
            return kind, 1
    raise GrammarError(
        f"slices features {_shown((half,))} of a bidirectional output: only [:{units}] "
        f"(forward) and [{units}:] (backward), the hidden size, ports: {where(node)}"
    )


def forward_at_last_valid(builder: Builder, ref: Ref, half: Any, node: fx.Node) -> Ref:
    """out[arange(B), lengths - 1, :H] of a packed bidirectional output: the forward final
    state (the gather's lengths already checked against the packing's)."""
    _, direction = _direction(builder, ref, half, node)
    if direction != 0:
        raise GrammarError(
            f"the backward half at lengths - 1 has read one step, which is no final state "
            f"(out[:, 0, H:] is): {where(node)}"
        )
    if not builder.masked(ref):
        raise GrammarError(
            f"the forward half at lengths - 1 of an unpacked bidirectional output, which no "
            f"graph node computes (pack_padded_sequence first): {where(node)}"
        )
    return Ref(ref.node, 1)


def at_step(call: Any, builder: Builder, value: Tensor, entries: tuple) -> Tensor:
    """out[:, 0, H:] (the backward final state) and, unpacked, out[:, -1, :H] (the forward's)."""
    node = call.node
    perm = builder.perm(value, node)
    if len(entries) != 3 or len(perm) != 3:
        raise GrammarError(
            f"indexing {_shown(entries)} (a slice other than a bidirectional output's half at one "
            f"step): {where(node)}"
        )
    by_axis = {perm[axis]: entry for axis, entry in enumerate(entries)}  # graph axis -> entry
    step, half = by_axis[1], by_axis[2]
    if by_axis[0] != _FULL or step not in (0, -1):
        raise GrammarError(
            f"indexing {_shown(entries)}: a feature half ports at step 0 or -1 of every sample: "
            f"{where(node)}"
        )
    kind, direction = _direction(builder, value.ref, half, node)
    if step == 0 and direction == 1:
        return Tensor(Ref(value.ref.node, 1 + kind.states_per_direction), (0, 1))
    if step == -1 and direction == 0 and not builder.masked(value.ref) and not value.short:
        return Tensor(Ref(value.ref.node, 1), (0, 1))
    which = ("forward", "backward")[direction]
    packed = "packed " if builder.masked(value.ref) else ""
    raise GrammarError(
        f"indexing {_shown(entries)}: the {which} half at step {step} is no final state of a "
        f"{packed}bidirectional output: {where(node)}"
    )
