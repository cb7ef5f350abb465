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

Around the stack, the rest of the grammar (`shared.grammar`):

    Embedding:  x_t = E[id_t]           mask_t = id_t != 0 (only with mask_zero)
    Masking:    x_t = x_t * mask_t      mask_t = any(x_t != mask_value)
    readout:    final: the last layer's final states; sequence: every step; last_step: step T-1
    Dense:      act(x W + b)            Dropout: x (the identity at inference)
    LayerNorm:  (x - mean(x)) / sqrt(var(x) + eps) * gamma + beta    over the feature axis
    BatchNorm:  (x - mean) / sqrt(variance + eps) * gamma + beta     moving statistics

Masking follows Keras exactly (measured on Keras 3.15): a masked step leaves the state (h, and C
for LSTM) as it was; a unidirectional layer outputs its previous output there (zeros before the
first kept step), while inside a Bidirectional layer that returns sequences masked steps output
zeros (Keras sets zero_output_for_mask there). The backward direction reads the reversed
sequence with the reversed mask, so every final state is the state after the last kept step it
read. The head acts on every step of a sequence, masked or not: the mask changes no value there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shared.activations import activation
from shared.grammar import (
    BatchNormSpec,
    DenseSpec,
    DropoutSpec,
    EmbeddingSpec,
    LayerNormSpec,
    MaskingSpec,
)
from shared.graph.recurrence import Cell
from shared.inputs import model_inputs
from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import ModelSpec
from shared.weights import CanonicalWeights, DirectionWeights


@dataclass
class ForwardTrace:
    """Everything the forward pass computed.

    outputs: (batch, head units), or (batch, time, head units) for readout "sequence".
    hidden[k][direction]: (batch, time, units), layer k's state after each time step (carried
        over masked steps).
    cell[k][direction]: (batch, time, units), the LSTM cell state (empty dict for other kinds).
    sequences[k]: (batch, time, units * directions), the sequence layer k hands on, as Keras's
        layer returns it with return_sequences=True (previous output or zeros at masked steps).
    mask: (batch, time) bool, True where a step is kept; None when the front masks nothing.
    """

    outputs: np.ndarray
    hidden: list[dict[str, np.ndarray]]
    cell: list[dict[str, np.ndarray]]
    sequences: list[np.ndarray] = field(default_factory=list)
    mask: np.ndarray | None = None


def _step(
    layer: RecurrentLayerSpec,
    weights: DirectionWeights,
    x: np.ndarray,
    h: np.ndarray,
    cell: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """One time step of one direction: x (batch, in), h and cell (batch, units) -> new h, cell.

    The cell's formulas live once, in `shared.graph.recurrence` (gates use sigmoid here).
    """
    step = Cell(layer.kind, layer.activation, "sigmoid", layer.reset_after, *_params(weights))
    return step.step(x, h, cell)


def _params(weights: DirectionWeights) -> tuple[dict[str, np.ndarray], ...]:
    return weights.W, weights.U, weights.b, weights.c


def _run_direction(
    layer: RecurrentLayerSpec,
    weights: DirectionWeights,
    inputs: np.ndarray,
    mask: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Run one direction over inputs (batch, time, in) in the order given.

    A step where mask (batch, time) is False keeps the previous h and cell, sample by sample.

    Returns:
        hidden states (batch, time, units) and, for LSTM, cell states (batch, time, units).
    """
    batch, steps, _ = inputs.shape
    h = np.zeros((batch, layer.units), dtype=inputs.dtype)
    cell = np.zeros_like(h)
    hidden_states, cell_states = [], []
    for t in range(steps):
        new_h, new_cell = _step(layer, weights, inputs[:, t, :], h, cell)
        if mask is None:
            h, cell = new_h, new_cell
        else:
            keep = mask[:, t : t + 1]  # (batch, 1)
            h, cell = np.where(keep, new_h, h), np.where(keep, new_cell, cell)
        hidden_states.append(h)
        cell_states.append(cell)
    cells = np.stack(cell_states, axis=1) if layer.kind == "lstm" else None
    return np.stack(hidden_states, axis=1), cells


def _front(weights: CanonicalWeights, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """The first recurrent layer's input (batch, time, in) and the mask (batch, time) or None."""
    spec = weights.spec
    sequence = model_inputs(spec, inputs)  # token ids (batch, time) with an Embedding front
    if isinstance(spec.front, EmbeddingSpec):
        mask = sequence != 0 if spec.front.mask_zero else None
        return weights.front["E"][sequence], mask  # (batch, time, dim)
    if isinstance(spec.front, MaskingSpec):
        value = np.asarray(spec.front.mask_value, dtype=spec.dtype)
        mask = np.any(sequence != value, axis=2)  # (batch, time)
        return sequence * mask[:, :, None].astype(spec.dtype), mask
    return sequence, None


def _recurrent_layer(
    layer: RecurrentLayerSpec,
    directions: dict[str, DirectionWeights],
    sequence: np.ndarray,
    mask: np.ndarray | None,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """One layer, both directions: (hidden, cell, the output sequence it hands on)."""
    layer_hidden, layer_cell = {}, {}
    for direction in layer.directions:
        backward = direction == "backward"
        source = sequence[:, ::-1, :] if backward else sequence
        source_mask = None if mask is None else (mask[:, ::-1] if backward else mask)
        states, cells = _run_direction(layer, directions[direction], source, source_mask)
        if backward:  # flip back so index t means time step t
            states = states[:, ::-1, :]
            cells = cells[:, ::-1, :] if cells is not None else None
        layer_hidden[direction] = states
        if cells is not None:
            layer_cell[direction] = cells
    # (batch, time, units * directions): the sequence the next layer reads
    output = np.concatenate([layer_hidden[d] for d in layer.directions], axis=2)
    if mask is not None and layer.bidirectional:
        output = output * mask[:, :, None].astype(output.dtype)  # Keras zeroes masked steps here
    return layer_hidden, layer_cell, output


def _readout(spec: ModelSpec, hidden: dict[str, np.ndarray], sequence: np.ndarray) -> np.ndarray:
    """What the head reads: (batch, F), or (batch, time, F) for readout "sequence"."""
    if spec.readout == "sequence":
        return sequence
    if spec.readout == "last_step":
        return sequence[:, -1, :]  # torch's out[:, -1]: the backward half has read one step
    # final: forward state after the last step; backward state after reading back to step 0
    finals = [hidden["forward"][:, -1, :]]
    if spec.layers[-1].bidirectional:
        finals.append(hidden["backward"][:, 0, :])
    return np.concatenate(finals, axis=-1)


def _dense(layer: DenseSpec, arrays: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    return activation(layer.activation)(x @ arrays["W"] + arrays["b"])


def _dropout(layer: DropoutSpec, arrays: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    return x  # the identity at inference


def _layer_norm(layer: LayerNormSpec, arrays: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)  # biased, as both frameworks
    return (x - mean) / np.sqrt(variance + layer.epsilon) * arrays["gamma"] + arrays["beta"]


def _batch_norm(layer: BatchNormSpec, arrays: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    scale = arrays["gamma"] / np.sqrt(arrays["variance"] + layer.epsilon)
    return (x - arrays["mean"]) * scale + arrays["beta"]


# Head layer kind -> its forward pass; a new kind of the grammar adds one function here.
HEAD_FORWARD: dict[type, Callable[[Any, dict[str, np.ndarray], np.ndarray], np.ndarray]] = {
    DenseSpec: _dense,
    DropoutSpec: _dropout,
    LayerNormSpec: _layer_norm,
    BatchNormSpec: _batch_norm,
}


def forward(weights: CanonicalWeights, inputs: np.ndarray) -> ForwardTrace:
    """Run the whole model on `inputs` and keep every hidden state.

    Args:
        weights: canonical weights (validated here) holding their model spec.
        inputs: (batch, time, features), cast to the spec's dtype; token ids (batch, time)
            with an Embedding front.

    Returns:
        A ForwardTrace with outputs and every layer's hidden (and LSTM cell) states.

    Raises:
        DataError: if inputs are not shaped as the spec says, not finite, or (token ids) not
            whole numbers in [0, vocab).
    """
    spec = weights.validate().spec
    sequence, mask = _front(weights, inputs)
    hidden: list[dict[str, np.ndarray]] = []
    cell: list[dict[str, np.ndarray]] = []
    sequences: list[np.ndarray] = []
    for layer, directions in zip(spec.layers, weights.layers, strict=True):
        layer_hidden, layer_cell, sequence = _recurrent_layer(layer, directions, sequence, mask)
        hidden.append(layer_hidden)
        cell.append(layer_cell)
        sequences.append(sequence)
    features = _readout(spec, hidden[-1], sequence)
    for layer, arrays in zip(spec.head_layers, weights.head_layers, strict=True):
        features = HEAD_FORWARD[type(layer)](layer, arrays, features)
    outputs = activation(spec.head.activation)(features @ weights.W_y + weights.b_y)
    return ForwardTrace(outputs, hidden, cell, sequences, mask)


def predict(weights: CanonicalWeights, inputs: np.ndarray) -> np.ndarray:
    """The model's outputs only: (batch, head units) or (batch, time, head units)."""
    return forward(weights, inputs).outputs
