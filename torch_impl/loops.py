"""Recurrent modules for what torch's fused nn.RNN / nn.LSTM / nn.GRU cannot compute.

Two spec layers need an explicit time-step loop: a simple RNN with any Keras-named activation
(`LoopSimpleRNN`; nn.RNN knows only tanh and relu) and a GRU that applies the reset gate before
the recurrent matmul (`LoopGRU`, Keras's reset_after=False). Both name and lay out their
parameters exactly as torch's fused modules do (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`,
`bias_hh_l0`, `_reverse` for the backward direction), so one translator reads every recurrent
module. `recurrent_module` picks the module that computes a spec layer exactly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 - the universal torch spelling
from torch import nn

from shared.recurrent_spec import RecurrentLayerSpec
from torch_impl.activations import torch_activation

# Activations nn.RNN implements itself; any other simple-RNN activation needs the loop.
_FUSED_SIMPLE_ACTIVATIONS = ("tanh", "relu")
# torch's own recurrent modules: the ones pack_padded_sequence runs (see torch_impl.masked)
FUSED_TYPES = (nn.RNN, nn.LSTM, nn.GRU)


class _LoopRecurrent(nn.Module):
    """Shared body of the explicit-loop modules: torch-named parameters and the direction loop.

    Parameters mirror nn.RNN/nn.GRU: `weight_ih_l0` (gates*units, input), `weight_hh_l0`
    (gates*units, units), `bias_ih_l0` and `bias_hh_l0` (gates*units,), plus `_reverse` copies
    for the backward direction. `forward` returns `(output, None)` like the fused modules, with
    output (batch, time, units * directions) and the backward half flipped back in time.
    """

    n_gates = 1

    def __init__(
        self, input_size: int, hidden_size: int, bidirectional: bool, dtype: torch.dtype
    ) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bidirectional = bidirectional
        self.suffixes = ("_l0", "_l0_reverse") if bidirectional else ("_l0",)
        rows = self.n_gates * hidden_size
        bound = hidden_size**-0.5  # torch's own default init range for recurrent modules
        for suffix in self.suffixes:
            shapes = {
                "weight_ih": (rows, input_size),
                "weight_hh": (rows, hidden_size),
                "bias_ih": (rows,),
                "bias_hh": (rows,),
            }
            for name, shape in shapes.items():
                tensor = torch.empty(shape, dtype=dtype).uniform_(-bound, bound)
                self.register_parameter(name + suffix, nn.Parameter(tensor))

    def _step(self, x_part: torch.Tensor, h: torch.Tensor, suffix: str) -> torch.Tensor:
        """One time step: x_part (batch, gates*units) = x_t W^T + b_ih; h (batch, units)."""
        raise NotImplementedError

    def _run(self, inputs: torch.Tensor, suffix: str) -> torch.Tensor:
        """Run one direction over inputs (batch, time, input) in the order given."""
        # (batch, time, gates*units): input projections of every step at once
        x_parts = F.linear(
            inputs, getattr(self, "weight_ih" + suffix), getattr(self, "bias_ih" + suffix)
        )
        h = inputs.new_zeros(inputs.shape[0], self.hidden_size)  # zero initial state
        states = []
        for t in range(inputs.shape[1]):
            h = self._step(x_parts[:, t, :], h, suffix)
            states.append(h)
        return torch.stack(states, dim=1)  # (batch, time, units)

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, None]:
        outputs = [self._run(inputs, "_l0")]
        if self.bidirectional:
            # read the sequence reversed, then flip back so index t means time step t
            outputs.append(self._run(inputs.flip(1), "_l0_reverse").flip(1))
        return torch.cat(outputs, dim=2), None


class LoopSimpleRNN(_LoopRecurrent):
    """A simple RNN with any Keras-named activation: h = f(x W + b + h U + c).

    nn.RNN knows only tanh and relu; this loop covers "linear", "sigmoid" and the rest.
    """

    n_gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        activation: str,
        bidirectional: bool,
        dtype: torch.dtype,
    ) -> None:
        super().__init__(input_size, hidden_size, bidirectional, dtype)
        self.activation_name = activation
        self.activation = torch_activation(activation)

    def _step(self, x_part: torch.Tensor, h: torch.Tensor, suffix: str) -> torch.Tensor:
        recurrent = F.linear(
            h, getattr(self, "weight_hh" + suffix), getattr(self, "bias_hh" + suffix)
        )  # (batch, units)
        return self.activation(x_part + recurrent)

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, activation={self.activation_name}, "
            f"bidirectional={self.bidirectional}"
        )


class LoopGRU(_LoopRecurrent):
    """A GRU with the reset gate applied before the recurrent matmul (Keras reset_after=False).

    r, z = sigmoid(x W + b + h U + c);  n = tanh(x W_n + b_n + (r * h) U_n + c_n);
    h = z * h + (1 - z) * n.  Gate rows are ordered r, z, n as in nn.GRU.
    """

    n_gates = 3

    def _step(self, x_part: torch.Tensor, h: torch.Tensor, suffix: str) -> torch.Tensor:
        units = self.hidden_size
        weight_hh = getattr(self, "weight_hh" + suffix)  # (3*units, units), rows r, z, n
        bias_hh = getattr(self, "bias_hh" + suffix)  # (3*units,)
        x_r, x_z, x_n = x_part.split(units, dim=1)  # each (batch, units)
        # r and z use h itself; n uses the reset state r * h, so it needs its own matmul
        h_r, h_z = F.linear(h, weight_hh[: 2 * units], bias_hh[: 2 * units]).split(units, dim=1)
        r = torch.sigmoid(x_r + h_r)
        z = torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + F.linear(r * h, weight_hh[2 * units :], bias_hh[2 * units :]))
        return z * h + (1 - z) * n

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, reset_after=False, "
            f"bidirectional={self.bidirectional}"
        )


def recurrent_module(
    layer: RecurrentLayerSpec, input_size: int, dtype: torch.dtype, *, force_loop: bool = False
) -> nn.Module:
    """The torch module computing one spec layer, batch first, one or two directions.

    Args:
        layer: the recurrent layer's spec.
        input_size: features each time step feeds it.
        dtype: parameter dtype.
        force_loop: use LoopSimpleRNN even for tanh and relu, where nn.RNN would do (so tests
            can compare the loop with torch's own kernel).

    Returns:
        A module called as `module(x)` -> (output (batch, time, units * directions), ...).
    """
    common = {"bidirectional": layer.bidirectional, "dtype": dtype}
    if layer.kind == "simple":
        if layer.activation in _FUSED_SIMPLE_ACTIVATIONS and not force_loop:
            return nn.RNN(
                input_size, layer.units, nonlinearity=layer.activation, batch_first=True, **common
            )
        return LoopSimpleRNN(input_size, layer.units, layer.activation, **common)
    if layer.kind == "lstm":
        return nn.LSTM(input_size, layer.units, batch_first=True, **common)
    if layer.reset_after:  # reset applied to (h U_n + c_n): exactly nn.GRU
        return nn.GRU(input_size, layer.units, batch_first=True, **common)
    return LoopGRU(input_size, layer.units, **common)
