"""The numpy forward pass over canonical weights: the oracle every framework is tested against.

It is the tutorial's hand computation, h_t = f(x_t W + b + h_{t-1} U + c) and o = g(h_T W_y + b_y),
generalised to LSTM, GRU (both reset_after variants), stacks and bidirectional layers. Written
for clarity, one time step at a time, so a reader can check it against the formulas:

    simple:  h = f(x W_h + b_h + h U_h + c_h)
    lstm:    i, f, o = sigmoid(x W + b + h U + c)   g = tanh(x W_g + b_g + h U_g + c_g)
             C = f * C + i * g                      h = o * tanh(C)
    gru:     r, z = sigmoid(x W + b + h U + c)
             reset_after=True:  n = tanh(x W_n + b_n + r * (h U_n + c_n))   (Keras 3, nn.GRU)
             reset_after=False: n = tanh(x W_n + b_n + (r * h) U_n + c_n)   (Keras's other GRU)
             h = z * h + (1 - z) * n

Initial states are zero. A backward direction reads the sequence reversed; its hidden states are
flipped back so that index t always means time step t. Bidirectional outputs are concatenated
[forward, backward] along features, as Keras's default merge_mode="concat" does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shared.activations import activation
from shared.errors import DataError
from shared.spec import RecurrentLayerSpec
from shared.weights import CanonicalWeights, DirectionWeights


@dataclass
class ForwardTrace:
    """Everything the forward pass computed.

    outputs: (batch, head units), or (batch, time, head units) if the last layer returns sequences.
    hidden[k][direction]: (batch, time, units), layer k's hidden state after each time step.
    cell[k][direction]: (batch, time, units), the LSTM cell state (empty dict for other kinds).
    """

    outputs: np.ndarray
    hidden: list[dict[str, np.ndarray]]
    cell: list[dict[str, np.ndarray]]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return activation("sigmoid")(x)


def _affine(x: np.ndarray, h: np.ndarray, weights: DirectionWeights, gate: str) -> np.ndarray:
    # (batch, in) @ (in, units) + (units,) + (batch, units) @ (units, units) + (units,)
    return x @ weights.W[gate] + weights.b[gate] + h @ weights.U[gate] + weights.c[gate]


def _run_direction(
    layer: RecurrentLayerSpec, weights: DirectionWeights, inputs: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    """Run one direction over inputs (batch, time, in) in the order given.

    Returns:
        hidden states (batch, time, units) and, for LSTM, cell states (batch, time, units).
    """
    batch, steps, _ = inputs.shape
    act = activation(layer.activation)
    h = np.zeros((batch, layer.units), dtype=inputs.dtype)
    cell = np.zeros_like(h)
    hidden_states, cell_states = [], []
    for t in range(steps):
        x = inputs[:, t, :]  # (batch, in)
        if layer.kind == "simple":
            h = act(_affine(x, h, weights, "h"))
        elif layer.kind == "lstm":
            i = _sigmoid(_affine(x, h, weights, "i"))
            f = _sigmoid(_affine(x, h, weights, "f"))
            g = act(_affine(x, h, weights, "g"))
            o = _sigmoid(_affine(x, h, weights, "o"))
            cell = f * cell + i * g
            h = o * act(cell)
            cell_states.append(cell)
        else:  # gru
            r = _sigmoid(_affine(x, h, weights, "r"))
            z = _sigmoid(_affine(x, h, weights, "z"))
            input_part = x @ weights.W["n"] + weights.b["n"]
            if layer.reset_after:
                n = act(input_part + r * (h @ weights.U["n"] + weights.c["n"]))
            else:
                n = act(input_part + (r * h) @ weights.U["n"] + weights.c["n"])
            h = z * h + (1 - z) * n
        hidden_states.append(h)
    cells = np.stack(cell_states, axis=1) if cell_states else None
    return np.stack(hidden_states, axis=1), cells


def forward(weights: CanonicalWeights, inputs: np.ndarray) -> ForwardTrace:
    """Run the whole model on `inputs` and keep every hidden state.

    Args:
        weights: canonical weights (validated here) holding their model spec.
        inputs: (batch, time, features); cast to the spec's dtype.

    Returns:
        A ForwardTrace with outputs and every layer's hidden (and LSTM cell) states.

    Raises:
        DataError: if inputs are not 3-D with the spec's number of features, or not finite.
    """
    spec = weights.validate().spec
    inputs = np.asarray(inputs)
    if inputs.ndim != 3 or inputs.shape[2] != spec.features or inputs.shape[1] < 1:
        raise DataError(f"inputs must be shaped (batch, time, {spec.features}), got {inputs.shape}")
    sequence = inputs.astype(spec.dtype)
    if not np.all(np.isfinite(sequence)):
        raise DataError("inputs hold NaN or infinite values")
    hidden: list[dict[str, np.ndarray]] = []
    cell: list[dict[str, np.ndarray]] = []
    for layer, directions in zip(spec.layers, weights.layers, strict=True):
        layer_hidden, layer_cell = {}, {}
        for direction in layer.directions:
            source = sequence if direction == "forward" else sequence[:, ::-1, :]
            states, cells = _run_direction(layer, directions[direction], source)
            if direction == "backward":  # flip back so index t means time step t
                states = states[:, ::-1, :]
                cells = cells[:, ::-1, :] if cells is not None else None
            layer_hidden[direction] = states
            if cells is not None:
                layer_cell[direction] = cells
        hidden.append(layer_hidden)
        cell.append(layer_cell)
        # (batch, time, units * directions): the sequence the next layer reads
        sequence = np.concatenate([layer_hidden[d] for d in layer.directions], axis=2)
    last = spec.layers[-1]
    if last.return_sequences:
        features = sequence  # (batch, time, output_size)
    else:
        # forward: state after the last step; backward: state after reading back to step 0
        finals = [hidden[-1]["forward"][:, -1, :]]
        if last.bidirectional:
            finals.append(hidden[-1]["backward"][:, 0, :])
        features = np.concatenate(finals, axis=1)  # (batch, output_size)
    outputs = activation(spec.head.activation)(features @ weights.W_y + weights.b_y)
    return ForwardTrace(outputs=outputs, hidden=hidden, cell=cell)


def predict(weights: CanonicalWeights, inputs: np.ndarray) -> np.ndarray:
    """The model's outputs only: (batch, head units) or (batch, time, head units)."""
    return forward(weights, inputs).outputs
