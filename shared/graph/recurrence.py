"""The recurrent node in numpy: one step of each cell, one direction over time, a whole node.

    simple:  h = f(x W_h + b_h + h U_h + c_h)
    lstm:    i, f, o = s(x W + b + h U + c)     g = f(x W_g + b_g + h U_g + c_g)
             C = f * C + i * g                  h = o * f(C)
    gru:     r, z = s(x W + b + h U + c)
             reset_after=True:  n = f(x W_n + b_n + r * (h U_n + c_n))   (Keras 3, nn.GRU)
             reset_after=False: n = f(x W_n + b_n + (r * h) U_n + c_n)   (Keras's other GRU)
             h = z * h + (1 - z) * n
    f: activation, s: recurrent_activation; b and c are zero with use_bias=False.

Masked steps follow Keras's TensorFlow backend (measured on Keras 3.15): the states keep their
values; the output at a masked step is the previous step's output (zeros before the first
output), or zeros with zero_output_for_mask; the final output is the output of the last step
read, so it is zero there when the last step read is masked under zero_output_for_mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shared.activations import activation


@dataclass(frozen=True)
class Cell:
    """What one direction's step needs: the kind, its activations and its per-gate arrays."""

    kind: str
    activation: str
    recurrent_activation: str
    reset_after: bool
    W: dict[str, np.ndarray]
    U: dict[str, np.ndarray]
    b: dict[str, np.ndarray]  # zeros where the layer has no bias
    c: dict[str, np.ndarray]

    def affine(self, x: np.ndarray, h: np.ndarray, gate: str) -> np.ndarray:
        # (batch, in) @ (in, units) + (units,) + (batch, units) @ (units, units) + (units,)
        return x @ self.W[gate] + self.b[gate] + h @ self.U[gate] + self.c[gate]

    def step(self, x: np.ndarray, h: np.ndarray, cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x (batch, in), h and cell (batch, units) -> the new h and cell (cell: LSTM only)."""
        act, gate = activation(self.activation), activation(self.recurrent_activation)
        if self.kind == "simple":
            return act(self.affine(x, h, "h")), cell
        if self.kind == "lstm":
            i, f = gate(self.affine(x, h, "i")), gate(self.affine(x, h, "f"))
            g, o = act(self.affine(x, h, "g")), gate(self.affine(x, h, "o"))
            cell = f * cell + i * g
            return o * act(cell), cell
        r, z = gate(self.affine(x, h, "r")), gate(self.affine(x, h, "z"))
        input_part = x @ self.W["n"] + self.b["n"]
        if self.reset_after:
            n = act(input_part + r * (h @ self.U["n"] + self.c["n"]))
        else:
            n = act(input_part + (r * h) @ self.U["n"] + self.c["n"])
        return z * h + (1 - z) * n, cell


@dataclass
class DirectionRun:
    """One direction's run, in the order it read the steps.

    outputs (batch, time, units): what Keras returns per step (masking rules applied);
    hidden, cells (batch, time, units): the states after each step; h, c: the final states.
    """

    outputs: np.ndarray
    hidden: np.ndarray
    cells: np.ndarray
    h: np.ndarray
    c: np.ndarray


def run_direction(
    cell: Cell,
    inputs: np.ndarray,
    mask: np.ndarray | None,
    initial: tuple[np.ndarray, np.ndarray],
    zero_output_for_mask: bool = False,
) -> DirectionRun:
    """Run `cell` over inputs (batch, time, in) in the order given, from initial (h, c).

    A step where mask (batch, time) is False keeps the states, sample by sample.
    """
    h, state = initial
    previous = np.zeros_like(h)
    outputs, hidden, cells = [], [], []
    for t in range(inputs.shape[1]):
        new_h, new_state = cell.step(inputs[:, t, :], h, state)
        if mask is None:
            h, state, output = new_h, new_state, new_h
        else:
            keep = mask[:, t : t + 1]  # (batch, 1)
            h, state = np.where(keep, new_h, h), np.where(keep, new_state, state)
            fallback = np.zeros_like(new_h) if zero_output_for_mask else previous
            output = np.where(keep, new_h, fallback)
        previous = output
        outputs.append(output)
        hidden.append(h)
        cells.append(state)
    return DirectionRun(
        np.stack(outputs, axis=1), np.stack(hidden, axis=1), np.stack(cells, axis=1), h, state
    )
