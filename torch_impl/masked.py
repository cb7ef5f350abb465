"""Recurrent layers over masked sequences, computing exactly what Keras computes.

Keras skips a masked step: the state (h, and c for LSTM) is carried over it unchanged. What a
layer hands on at a masked step depends on where it sits:

* one direction: the previous output (zeros before the first kept step), i.e. the carried h;
* inside a Bidirectional with return_sequences: zeros, in both halves;
* the final state is the state after the last kept step (forward) and after reading back to
  step 0 (backward, which reads the reversed sequence with the reversed mask).

torch has no mask argument, so this module offers two exact routes:

* packed sequences (`pack_padded_sequence`) for torch's fused modules when every sample's
  padding is trailing: torch then runs each sample over its kept prefix only, and the padded
  output is fixed up to Keras's rule (zeros are right for Bidirectional; one direction carries
  its last output forward);
* an explicit step loop otherwise (masked steps anywhere, and always for the loop modules): the
  module's own weights one step at a time, `torch.where(keep, new, old)` carrying the state.

Both return the same thing, so a test can hold them equal. Cells are found from `CELLS`, a table
keyed by the recurrent module's class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F  # noqa: N812 - the universal torch spelling
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from torch_impl.loops import FUSED_TYPES, LoopGRU, LoopLSTM, LoopSimpleRNN

State = tuple[torch.Tensor, ...]  # (h,) or (h, c), each (batch, units)
_SUFFIXES = {"forward": "_l0", "backward": "_l0_reverse"}


def _weights(module: nn.Module, suffix: str) -> tuple[torch.Tensor, torch.Tensor]:
    return getattr(module, "weight_hh" + suffix), getattr(module, "bias_hh" + suffix)


def _rnn_step(module: nn.RNN, x_part: torch.Tensor, state: State, suffix: str) -> State:
    """nn.RNN: h = f(x W^T + b_ih + h U^T + b_hh), f its nonlinearity (tanh or relu)."""
    act = torch.tanh if module.nonlinearity == "tanh" else torch.relu
    return (act(x_part + F.linear(state[0], *_weights(module, suffix))),)


def _lstm_step(module: nn.LSTM, x_part: torch.Tensor, state: State, suffix: str) -> State:
    """nn.LSTM: gate rows i, f, g, o; C = f C + i g, h = o tanh(C)."""
    h, c = state
    gates = x_part + F.linear(h, *_weights(module, suffix))  # (batch, 4*units)
    i, f, g, o = gates.chunk(4, dim=1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _gru_step(module: nn.GRU, x_part: torch.Tensor, state: State, suffix: str) -> State:
    """nn.GRU: gate rows r, z, n; n = tanh(x W_n + b_n + r (h U_n + c_n)), h = z h + (1-z) n."""
    h = state[0]
    x_r, x_z, x_n = x_part.chunk(3, dim=1)
    h_r, h_z, h_n = F.linear(h, *_weights(module, suffix)).chunk(3, dim=1)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (z * h + (1 - z) * n,)


def _loop_step(
    module: LoopSimpleRNN | LoopGRU | LoopLSTM, x_part: torch.Tensor, state: State, suffix: str
) -> State:
    """The loop modules' own step (their formulas live in torch_impl.loops)."""
    return module.step(x_part, state, suffix)


@dataclass(frozen=True)
class Cell:
    """One time step of a recurrent module class, and how many state tensors it carries."""

    step: Callable[[nn.Module, torch.Tensor, State, str], State]
    states: int = 1


CELLS: dict[type, Cell] = {
    nn.RNN: Cell(_rnn_step),
    nn.LSTM: Cell(_lstm_step, states=2),
    nn.GRU: Cell(_gru_step),
    LoopSimpleRNN: Cell(_loop_step),
    LoopGRU: Cell(_loop_step),
    LoopLSTM: Cell(_loop_step, states=2),
}


def trailing_lengths(mask: torch.Tensor) -> torch.Tensor | None:
    """Per-sample lengths if every sample's kept steps are a non-empty prefix, else None.

    Args:
        mask: (batch, time) bool, True = the step is kept.
    """
    lengths = mask.sum(dim=1)  # (batch,)
    prefix = torch.arange(mask.shape[1], device=mask.device) < lengths[:, None]
    if bool((lengths > 0).all()) and bool((prefix == mask).all()):
        return lengths
    return None


def step_states(
    rnn: nn.Module, inputs: torch.Tensor, mask: torch.Tensor, direction: str
) -> torch.Tensor:
    """One direction's hidden states (batch, time, units), carried over masked steps.

    Index t is time step t in both directions (the backward pass runs t = T-1 .. 0).
    """
    suffix = _SUFFIXES[direction]
    cell = CELLS[type(rnn)]
    # (batch, time, gates*units): the input projections of every step at once
    x_parts = F.linear(inputs, getattr(rnn, "weight_ih" + suffix), getattr(rnn, "bias_ih" + suffix))
    zeros = inputs.new_zeros(inputs.shape[0], rnn.hidden_size)
    state: State = (zeros,) * cell.states
    steps = range(inputs.shape[1])
    hidden: list[torch.Tensor] = [zeros] * inputs.shape[1]
    for t in reversed(steps) if direction == "backward" else steps:
        new = cell.step(rnn, x_parts[:, t, :], state, suffix)
        keep = mask[:, t, None]  # (batch, 1): a masked step keeps the old state
        state = tuple(torch.where(keep, n, old) for n, old in zip(new, state, strict=True))
        hidden[t] = state[0]
    return torch.stack(hidden, dim=1)


def step_loop(
    rnn: nn.Module, inputs: torch.Tensor, mask: torch.Tensor, directions: tuple[str, ...]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The step loop: carried states -> (sequence, finals) by Keras's rule."""
    states = [step_states(rnn, inputs, mask, direction) for direction in directions]
    finals = [states[0][:, -1, :]]  # forward: after the last kept step, carried to the end
    if len(directions) == 2:
        finals.append(states[1][:, 0, :])  # backward: after reading back to step 0
        # Bidirectional(return_sequences=True) zeroes masked steps in both halves
        sequence = torch.cat(states, dim=2) * mask[:, :, None].to(inputs.dtype)
    else:
        sequence = states[0]  # one direction: the carried h is the previous output
    return sequence, torch.cat(finals, dim=1)


def _packed(
    rnn: nn.Module, inputs: torch.Tensor, lengths: torch.Tensor, bidirectional: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """torch's packed sequences, for trailing padding: (sequence, finals) by Keras's rule."""
    packed = pack_padded_sequence(inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
    padded, _ = pad_packed_sequence(rnn(packed)[0], batch_first=True, total_length=inputs.shape[1])
    units = rnn.hidden_size
    last = (lengths - 1).to(inputs.device)  # (batch,): each sample's last kept step
    batch = torch.arange(inputs.shape[0], device=inputs.device)
    finals = [padded[batch, last, :units]]
    if bidirectional:
        finals.append(padded[:, 0, units:])  # backward state after reading back to step 0
        return padded, torch.cat(finals, dim=1)  # padded steps are zeros: Keras's rule
    # one direction: a padded step repeats the last kept output
    steps = torch.arange(inputs.shape[1], device=inputs.device)
    index = torch.minimum(steps[None, :], last[:, None])  # (batch, time)
    sequence = padded.gather(1, index[:, :, None].expand(-1, -1, units))
    return sequence, torch.cat(finals, dim=1)


def masked_recurrence(
    rnn: nn.Module,
    inputs: torch.Tensor,
    mask: torch.Tensor,
    bidirectional: bool,
    *,
    packed: bool | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run a recurrent module over masked inputs as Keras does.

    Args:
        rnn: an nn.RNN / nn.LSTM / nn.GRU (one layer) or a loop module.
        inputs: (batch, time, input).
        mask: (batch, time) bool, True = the step is kept.
        bidirectional: whether `rnn` runs both directions.
        packed: None picks packed sequences where they are exact (a fused module and trailing
            padding) and the step loop otherwise; True or False forces a route (tests).

    Returns:
        The sequence the layer hands on (batch, time, units * directions) and the final
        features (batch, units * directions): forward state after the last kept step, then the
        backward state after reading back to step 0.

    Raises:
        ValueError: if packed=True where packed sequences cannot be exact.
    """
    lengths = trailing_lengths(mask) if isinstance(rnn, FUSED_TYPES) else None
    if packed and lengths is None:
        raise ValueError("packed sequences need a fused module and trailing padding only")
    if lengths is not None and packed is not False:
        return _packed(rnn, inputs, lengths, bidirectional)
    directions = ("forward", "backward") if bidirectional else ("forward",)
    return step_loop(rnn, inputs, mask, directions)
