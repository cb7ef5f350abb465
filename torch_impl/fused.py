"""A hand-fused forward of a one-layer simple RNN with a dense head, for torch.compile to fuse.

Why: compiled on the CPU, the model's own forward (nn.RNN, nn.Linear) leaves its small matrix
products to aten's mm, one call per time step in the backward pass (inductor decomposes only
some tiny CPU matmuls; a (1, 3) x (3, 3) product is not one of them: torch/_inductor/
decomposition.py). Written as broadcast multiply-and-sum, every product becomes pointwise and
reduction code inductor fuses into a few C++ loops, forward and backward alike.

It computes the same step as nn.RNN and the head, from the model's own parameters:

    h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),   y = head_act(h_T W^T + b)

summed in another order (float rounding only). Only that architecture is fused; any other
spec is refused naming what does not fit.
"""

from __future__ import annotations

import torch

from torch_impl.activations import torch_activation
from torch_impl.model import RNNModel


def check_fusable(model: RNNModel) -> None:
    """Refuse, naming the part, any model the fused forward does not compute.

    Raises:
        ValueError: for a front, several or non-simple layers, bidirectional or dropout
            layers, a readout other than the final state, or head layers before the Dense.
    """
    spec = model.spec
    layer = spec.layers[0] if len(spec.layers) == 1 else None
    problems = {
        "a front layer": spec.front is not None,
        f"{len(spec.layers)} recurrent layers (one simple layer needed)": layer is None,
        "head layers before the Dense head": bool(spec.head_layers),
        f"readout {spec.readout!r} (only 'final')": spec.readout != "final",
    }
    if layer is not None:
        problems[f"a {layer.kind} layer (only simple)"] = layer.kind != "simple"
        problems["a bidirectional layer"] = layer.bidirectional
        problems["dropout in the recurrent layer"] = bool(
            layer.dropout or layer.recurrent_dropout or layer.output_dropout
        )
        problems["return_sequences"] = layer.return_sequences
    found = [name for name, bad in problems.items() if bad]
    if found:
        raise ValueError(
            f"the fused cell computes one simple RNN layer and a Dense head; got {', '.join(found)}"
        )


def _linear(inputs: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """inputs (..., in) x weight^T (in, out) as a broadcast product and sum: (..., out)."""
    return (inputs.unsqueeze(-1) * weight.T).sum(-2)


def fused_forward(model: RNNModel, inputs: torch.Tensor) -> torch.Tensor:
    """The model's output (batch, head units) for inputs (batch, time, features); see above."""
    rnn = model.net.recurrent[0].rnn
    activation = torch_activation(model.spec.layers[0].activation)
    x_part = _linear(inputs, rnn.weight_ih_l0) + rnn.bias_ih_l0  # (batch, time, units)
    h = torch.zeros_like(x_part[:, 0])  # (batch, units)
    for t in range(inputs.shape[1]):  # unrolled when traced: the window is fixed
        h = activation(x_part[:, t] + _linear(h, rnn.weight_hh_l0) + rnn.bias_hh_l0)
    head = model.net.head
    return model.net.head_activation(_linear(h, head.weight) + head.bias)
