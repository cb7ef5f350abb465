"""The graph's recurrent node in torch: torch's fused modules where exact, the step loop elsewhere.

nn.RNN / nn.LSTM / nn.GRU compute a node exactly when its activations are theirs (tanh and
sigmoid; nn.RNN also relu) and a GRU resets after the recurrent matmul. Where a mask reaches the
node they still do if every mask of the graph comes from a lengths input (`prefix_masks`: each
sample keeps a prefix, its padding trailing, and the node does not read backwards): the node
then runs on packed sequences, torch's own route for padded batches, in eager mode; an exported
program runs the same module by the exact step loop, since packing sizes are data. Every other
node runs the exact step loop over the loop modules of `torch_impl.loops` (the cells of
`torch_impl.masked.CELLS`), which also takes initial states and masks. Either way the parameters
are torch's own (`weight_ih_l0`, ...), read by `torch_impl.translators`.

What the node hands on (Keras 3's rules, see `shared.graph.recurrent`): at a masked step the
state is kept and the returned sequence repeats the previous output (zeros before the first
kept step) or writes zeros with zero_output_for_mask. `go_backwards` reads the sequence reversed
and returns it in that order; a Bidirectional's backward half is flipped back to time order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812 - the universal torch spelling
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from shared.graph.recurrent import Recurrent
from torch_impl.graph.layers import Masks, NodeModule, Tensors
from torch_impl.loops import FUSED_TYPES, LoopGRU, LoopLSTM, LoopSimpleRNN
from torch_impl.masked import CELLS

State = tuple[torch.Tensor, ...]  # (h,) or (h, c), each (batch, units)
Run = tuple[torch.Tensor, torch.Tensor, State]  # (sequence, last output, final state)
_SUFFIXES = {"forward": "_l0", "backward": "_l0_reverse"}
_NATIVE: dict[str, type[nn.Module]] = {"simple": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
_LOOPS: dict[str, Callable[[Recurrent, int, torch.dtype], nn.Module]] = {
    "simple": lambda kind, features, dtype: LoopSimpleRNN(
        features, kind.units, kind.activation, kind.bidirectional, dtype, bias=kind.use_bias
    ),
    "lstm": lambda kind, features, dtype: LoopLSTM(
        features,
        kind.units,
        kind.bidirectional,
        dtype,
        bias=kind.use_bias,
        activation=kind.activation,
        recurrent_activation=kind.recurrent_activation,
    ),
    "gru": lambda kind, features, dtype: LoopGRU(
        features,
        kind.units,
        kind.bidirectional,
        dtype,
        bias=kind.use_bias,
        reset_after=kind.reset_after,
        activation=kind.activation,
        recurrent_activation=kind.recurrent_activation,
    ),
}
MERGES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "concat": lambda forward, backward: torch.cat([forward, backward], dim=-1),
    "sum": torch.add,
    "ave": lambda forward, backward: (forward + backward) / 2,
    "mul": torch.mul,
}


def native_fits(kind: Recurrent) -> bool:
    """Whether torch's fused module computes the node's step exactly (masks aside)."""
    if kind.kind == "simple":
        return kind.activation in ("tanh", "relu")
    standard = (kind.activation, kind.recurrent_activation) == ("tanh", "sigmoid")
    return standard and (kind.kind == "lstm" or kind.reset_after)


def recurrent_module(kind: Recurrent, features: int, dtype: torch.dtype, loop: bool) -> nn.Module:
    """nn.RNN / nn.LSTM / nn.GRU (batch first), or the loop module when `loop` or not exact."""
    if loop or not native_fits(kind):
        return _LOOPS[kind.kind](kind, features, dtype)
    options = {"nonlinearity": kind.activation} if kind.kind == "simple" else {}
    return _NATIVE[kind.kind](
        features,
        kind.units,
        batch_first=True,
        bias=kind.use_bias,
        bidirectional=kind.bidirectional,
        dtype=dtype,
        **options,
    )


def run_direction(
    rnn: nn.Module,
    inputs: torch.Tensor,
    mask: torch.Tensor | None,
    initial: State | None,
    direction: str,
    reverse: bool,
    zero_output: bool,
) -> Run:
    """One direction's step loop, Keras's rules at masked steps.

    Args:
        rnn: a module with a cell in `torch_impl.masked.CELLS`.
        inputs: (batch, time, features); `reverse` reads them last step first.
        mask: (batch, time) bool, True = kept, or None.
        initial: the initial state, or None for zeros.
        direction: "forward" or "backward", which of the module's parameters run.
        zero_output: write zeros (not the previous output) at masked steps.

    Returns:
        The outputs (batch, time, units) in reading order, the last of them and the final state.
    """
    suffix, cell = _SUFFIXES[direction], CELLS[type(rnn)]
    if reverse:
        inputs = inputs.flip(1)
        mask = None if mask is None else mask.flip(1)
    weight_ih, bias_ih = getattr(rnn, "weight_ih" + suffix), getattr(rnn, "bias_ih" + suffix)
    x_parts = F.linear(inputs, weight_ih, bias_ih)  # (batch, time, gates*units), all at once
    zeros = inputs.new_zeros(inputs.shape[0], rnn.hidden_size)  # (batch, units)
    state: State = initial if initial is not None else (zeros,) * cell.states
    output, outputs = zeros, []
    for t in range(inputs.shape[1]):
        new = cell.step(rnn, x_parts[:, t, :], state, suffix)
        if mask is None:
            state, output = new, new[0]
        else:
            keep = mask[:, t, None]  # (batch, 1): a masked step keeps the state
            state = tuple(torch.where(keep, n, old) for n, old in zip(new, state, strict=True))
            output = torch.where(keep, new[0], zeros if zero_output else output)
        outputs.append(output)
    return torch.stack(outputs, dim=1), output, state


class GraphRecurrent(NodeModule):
    """One recurrent node; its torch module is `.rnn` (see the module docstring)."""

    def __init__(
        self,
        kind: Recurrent,
        features: int,
        masked: bool,
        dtype: torch.dtype,
        loop: bool,
        prefix_masks: bool = False,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.packed = masked and prefix_masks and not loop and not kind.go_backwards
        self.rnn = recurrent_module(kind, features, dtype, loop or (masked and not self.packed))
        self.native = isinstance(self.rnn, FUSED_TYPES)
        # torch.export unrolls every recurrence step by step, torch's fused modules too
        self.dynamic_time = False

    def forward(self, values: Tensors, masks: Masks) -> tuple[Tensors, Masks]:
        inputs, initial = values[0], values[1:]  # (batch, time, features), states (batch, units)
        if not self.native or (masks[0] is not None and torch.compiler.is_exporting()):
            runs = self._loop(inputs, initial, masks)
        elif masks[0] is not None:
            runs = self._packed(inputs, initial, masks[0])
        else:
            runs = self._native(inputs, initial)
        return self._assemble(runs, masks[0])

    def _initial(self, initial: Tensors, index: int) -> State | None:
        """Direction `index`'s initial state (h[, c]) from the node's state inputs."""
        per = self.kind.states_per_direction
        return tuple(initial[index * per : (index + 1) * per]) if initial else None

    def _run_native(self, read: Any, initial: Tensors) -> tuple[Any, State]:
        """The fused module on `read` (a tensor or packed sequence) from the initial states."""
        if not initial:
            out, final = self.rnn(read)
        else:
            starts = [self._initial(initial, index) for index in range(len(self.kind.directions))]
            # torch wants each state as (directions, batch, units)
            stacked = tuple(torch.stack(parts) for parts in zip(*starts, strict=True))
            out, final = self.rnn(read, stacked if self.kind.kind == "lstm" else stacked[0])
        return out, final if self.kind.kind == "lstm" else (final,)

    def _split(self, out: torch.Tensor, finals: State) -> list[Run]:
        """(sequence, last output, final state) per direction from torch's stacked results."""
        units, runs = self.kind.units, []
        for index in range(len(self.kind.directions)):
            state = tuple(part[index] for part in finals)  # each (batch, units)
            runs.append((out[..., index * units : (index + 1) * units], state[0], state))
        return runs

    def _native(self, inputs: torch.Tensor, initial: Tensors) -> list[Run]:
        read = inputs.flip(1) if self.kind.go_backwards else inputs
        out, finals = self._run_native(read, initial)  # out (batch, time, directions * units)
        return self._split(out, finals)

    def _packed(self, inputs: torch.Tensor, initial: Tensors, mask: torch.Tensor) -> list[Run]:
        """Packed sequences over each sample's kept prefix; past it torch pads zeros, which is
        Keras's zero_output_for_mask, else the last kept output is carried on, as Keras does."""
        lengths = mask.sum(dim=1)  # (batch,): a prefix mask keeps the first lengths[b] steps
        packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, finals = self._run_native(packed, initial)
        padded, _ = pad_packed_sequence(out, batch_first=True, total_length=inputs.shape[1])
        if not self.kind.zero_output_for_mask:  # one direction: step t shows min(t, length - 1)
            steps = torch.arange(inputs.shape[1], device=inputs.device)
            index = torch.minimum(steps[None, :], (lengths - 1)[:, None])  # (batch, time)
            padded = padded.gather(1, index[:, :, None].expand(-1, -1, padded.shape[2]))
        return self._split(padded, finals)

    def _loop(self, inputs: torch.Tensor, initial: Tensors, masks: Masks) -> list[Run]:
        kind, runs = self.kind, []
        for index, direction in enumerate(kind.directions):
            backward = direction == "backward"
            sequence, last, state = run_direction(
                self.rnn,
                inputs,
                masks[0],
                self._initial(initial, index),
                direction,
                backward or kind.go_backwards,
                kind.zero_output_for_mask,
            )
            runs.append((sequence.flip(1) if backward else sequence, last, state))
        return runs

    def _assemble(self, runs: list[Run], mask: torch.Tensor | None) -> tuple[Tensors, Masks]:
        """[output(s), states...] in Keras's order, the input's mask on returned sequences."""
        kind = self.kind
        outputs = [sequence if kind.return_sequences else last for sequence, last, _ in runs]
        if kind.bidirectional and kind.merge_mode is not None:
            outputs = [MERGES[kind.merge_mode](*outputs)]
        masks: Masks = [mask if kind.return_sequences else None] * len(outputs)
        if kind.return_state:
            states = [part for _, _, state in runs for part in state]
            outputs, masks = outputs + states, masks + [None] * len(states)
        return outputs, masks
