"""Recurrent modules for what torch's fused nn.RNN / nn.LSTM / nn.GRU cannot compute.

Some layers need an explicit time-step loop: a simple RNN with any Keras-named activation
(`LoopSimpleRNN`; nn.RNN knows only tanh and relu), a GRU that applies the reset gate before
the recurrent matmul (`LoopGRU`, Keras's reset_after=False) or has other activations, and an
LSTM with activations other than tanh and sigmoid (`LoopLSTM`, model graphs). All name and lay
out their parameters exactly as torch's fused modules do (`weight_ih_l0`, `weight_hh_l0`,
`bias_ih_l0`, `bias_hh_l0`, `_reverse` for the backward direction), so one translator reads every
recurrent module. `recurrent_module` picks the module that computes a spec layer exactly.
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
    n_states = 1  # (h,); LSTM carries (h, c)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bidirectional: bool,
        dtype: torch.dtype,
        *,
        bias: bool = True,
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
                if name.startswith("bias") and not bias:  # Keras use_bias=False: no bias at all
                    self.register_parameter(name + suffix, None)
                    continue
                tensor = torch.empty(shape, dtype=dtype).uniform_(-bound, bound)
                self.register_parameter(name + suffix, nn.Parameter(tensor))

    def _step(self, x_part: torch.Tensor, h: torch.Tensor, suffix: str) -> torch.Tensor:
        """One time step: x_part (batch, gates*units) = x_t W^T + b_ih; h (batch, units)."""
        raise NotImplementedError

    def step(
        self, x_part: torch.Tensor, state: tuple[torch.Tensor, ...], suffix: str
    ) -> tuple[torch.Tensor, ...]:
        """One time step on the whole state tuple ((h,) here; LoopLSTM's is (h, c))."""
        return (self._step(x_part, state[0], suffix),)

    def _run(self, inputs: torch.Tensor, suffix: str) -> torch.Tensor:
        """Run one direction over inputs (batch, time, input) in the order given."""
        # (batch, time, gates*units): input projections of every step at once
        x_parts = F.linear(
            inputs, getattr(self, "weight_ih" + suffix), getattr(self, "bias_ih" + suffix)
        )
        zeros = inputs.new_zeros(inputs.shape[0], self.hidden_size)  # zero initial state
        state, states = (zeros,) * self.n_states, []
        for t in range(inputs.shape[1]):
            state = self.step(x_parts[:, t, :], state, suffix)
            states.append(state[0])
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
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(input_size, hidden_size, bidirectional, dtype, bias=bias)
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
    """A GRU whose step nn.GRU cannot run: Keras's reset_after=False, or other activations.

    r, z = ra(x W + b + h U + c);  h = z * h + (1 - z) * n, with (ra the recurrent activation,
    a the activation, sigmoid and tanh by default)
        reset_after=False (Keras 2's default):  n = a(x W_n + b_n + (r * h) U_n + c_n)
        reset_after=True (nn.GRU's formula):    n = a(x W_n + b_n + r * (h U_n + c_n))
    Gate rows are ordered r, z, n as in nn.GRU.
    """

    n_gates = 3

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bidirectional: bool,
        dtype: torch.dtype,
        *,
        bias: bool = True,
        reset_after: bool = False,
        activation: str = "tanh",
        recurrent_activation: str = "sigmoid",
    ) -> None:
        super().__init__(input_size, hidden_size, bidirectional, dtype, bias=bias)
        self.reset_after = reset_after
        self.activation_names = (activation, recurrent_activation)
        self.activation = torch_activation(activation)
        self.recurrent_activation = torch_activation(recurrent_activation)

    def _step(self, x_part: torch.Tensor, h: torch.Tensor, suffix: str) -> torch.Tensor:
        units = self.hidden_size
        weight_hh = getattr(self, "weight_hh" + suffix)  # (3*units, units), rows r, z, n
        bias_hh = getattr(self, "bias_hh" + suffix)  # (3*units,) or None
        bias_rz, bias_n = (None, None) if bias_hh is None else bias_hh.split(2 * units)
        x_r, x_z, x_n = x_part.split(units, dim=1)  # each (batch, units)
        h_r, h_z = F.linear(h, weight_hh[: 2 * units], bias_rz).split(units, dim=1)
        r = self.recurrent_activation(x_r + h_r)
        z = self.recurrent_activation(x_z + h_z)
        if self.reset_after:
            n = self.activation(x_n + r * F.linear(h, weight_hh[2 * units :], bias_n))
        else:  # n uses the reset state r * h, so it needs its own matmul
            n = self.activation(x_n + F.linear(r * h, weight_hh[2 * units :], bias_n))
        return z * h + (1 - z) * n

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, reset_after={self.reset_after}, "
            f"activations={self.activation_names}, bidirectional={self.bidirectional}"
        )


class LoopLSTM(_LoopRecurrent):
    """An LSTM with any Keras-named activation a and recurrent activation ra (nn.LSTM: tanh,
    sigmoid only). Gate rows i, f, g, o as in nn.LSTM:

    i, f, o = ra(x W + b + h U + c);  g = a(x W_g + b_g + h U_g + c_g);
    C = f * C + i * g;  h = o * a(C)
    """

    n_gates = 4
    n_states = 2

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bidirectional: bool,
        dtype: torch.dtype,
        *,
        bias: bool = True,
        activation: str = "tanh",
        recurrent_activation: str = "sigmoid",
    ) -> None:
        super().__init__(input_size, hidden_size, bidirectional, dtype, bias=bias)
        self.activation_names = (activation, recurrent_activation)
        self.activation = torch_activation(activation)
        self.recurrent_activation = torch_activation(recurrent_activation)

    def step(
        self, x_part: torch.Tensor, state: tuple[torch.Tensor, ...], suffix: str
    ) -> tuple[torch.Tensor, ...]:
        h, c = state  # each (batch, units)
        recurrent = F.linear(
            h, getattr(self, "weight_hh" + suffix), getattr(self, "bias_hh" + suffix)
        )
        i, f, g, o = (x_part + recurrent).chunk(4, dim=1)
        ra = self.recurrent_activation
        c = ra(f) * c + ra(i) * self.activation(g)
        return ra(o) * self.activation(c), c

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, activations={self.activation_names}, "
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
