"""The walkthrough for the gated layers: an LSTM or GRU weight by weight, its states by hand.

What people porting between Keras and torch get wrong is the gated layers: gate orders (Keras
GRU z, r, h; torch r, z, n), one bias or two, and Keras's GRU(reset_after=False), an equation
torch's nn.GRU cannot express. For a tiny model (LSTM or GRU with 2 units, 3 time steps, the
input 1, 2, 3, a linear Dense(1) head) this shows each framework's own arrays, which slice is
which gate (`compare.learn.gate_tables`, checked against the arrays just built), every gate and
state at every step computed by hand with numpy, and what Keras and torch compute beside it.

The hand computations (`lstm_by_hand`, `gru_by_hand`) use numpy only, so the notebook
`gates_by_hand.ipynb` (`rnn-parity notebooks`) carries their source as cells a learner edits.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from compare.frameworks import both
from compare.learn.gate_tables import MappingRow, array_lines, check_mapping, mapping, table_lines
from compare.port.agreement import probe_weights
from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import DenseSpec, ModelSpec
from shared.weights import CanonicalWeights, random_weights

DEMO_STEPS = (1.0, 2.0, 3.0)  # the tutorial's input x_1, x_2, x_3
FORMULAS = {
    "lstm": [
        "i_t = s(x_t W[i] + b[i] + h_{t-1} U[i] + c[i])       input gate",
        "f_t = s(x_t W[f] + b[f] + h_{t-1} U[f] + c[f])       forget gate",
        "g_t = tanh(x_t W[g] + b[g] + h_{t-1} U[g] + c[g])    candidate",
        "o_t = s(x_t W[o] + b[o] + h_{t-1} U[o] + c[o])       output gate",
        "c_t = f_t * c_{t-1} + i_t * g_t                      cell state",
        "h_t = o_t * tanh(c_t)",
    ],
    "gru": [
        "r_t = s(x_t W[r] + b[r] + h_{t-1} U[r] + c[r])       reset gate",
        "z_t = s(x_t W[z] + b[z] + h_{t-1} U[z] + c[z])       update gate",
        "n_t = tanh(x_t W[n] + b[n] + r_t * (h_{t-1} U[n] + c[n]))   reset AFTER the product",
        "h_t = z_t * h_{t-1} + (1 - z_t) * n_t",
    ],
    "gru_reset_before": [
        "r_t = s(x_t W[r] + b[r] + h_{t-1} U[r] + c[r])       reset gate",
        "z_t = s(x_t W[z] + b[z] + h_{t-1} U[z] + c[z])       update gate",
        "n_t = tanh(x_t W[n] + b[n] + (r_t * h_{t-1}) U[n] + c[n])   reset BEFORE the product",
        "h_t = z_t * h_{t-1} + (1 - z_t) * n_t",
    ],
}
BIAS_NOTES = {
    "lstm": "Keras's LSTM has one bias (b + c); the copy to torch puts it in bias_ih_l0 and "
    "zeros in bias_hh_l0 (c = 0); torch -> Keras adds the two.",
    "gru": "Keras's GRU(reset_after=True) has bias (2, 3*units): row 0 is torch's bias_ih_l0 "
    "(b), row 1 its bias_hh_l0 (c), both real: c[n] sits inside r_t * (...), so it does not "
    "fold into b[n].",
    "gru_reset_before": "Keras's GRU(reset_after=False) has one bias (b + c): c[n] sits outside "
    "(r_t * h) U[n], so it folds into b[n]; torch's arrays get c = 0.",
}


def sigmoid(x):
    """The gates' squashing function s(x) = 1 / (1 + e^-x)."""
    return 1 / (1 + np.exp(-x))


def lstm_by_hand(W, U, b, c, inputs):
    """An LSTM, one time step at a time: W, U, b, c map a gate to its canonical array.

    Row vectors as in the tutorial: x_t W[gate] with W[gate] (1, units), h U[gate] with
    U[gate] (units, units). Returns one dict per step: i, f, g, o, c (cell state), h.
    """
    h = np.zeros(U["i"].shape[0], dtype=U["i"].dtype)  # h_0 = 0, (units,)
    cell = np.zeros_like(h)  # c_0 = 0
    steps = []
    for x in inputs:  # x_t: one number (input size 1)
        i = sigmoid(x * W["i"][0] + b["i"] + h @ U["i"] + c["i"])  # input gate
        f = sigmoid(x * W["f"][0] + b["f"] + h @ U["f"] + c["f"])  # forget gate
        g = np.tanh(x * W["g"][0] + b["g"] + h @ U["g"] + c["g"])  # candidate
        o = sigmoid(x * W["o"][0] + b["o"] + h @ U["o"] + c["o"])  # output gate
        cell = f * cell + i * g
        h = o * np.tanh(cell)
        steps.append({"i": i, "f": f, "g": g, "o": o, "c": cell, "h": h})
    return steps


def gru_by_hand(W, U, b, c, inputs, reset_after=True):
    """A GRU, one time step at a time (arguments as `lstm_by_hand`).

    reset_after=True (Keras 3's default, torch's nn.GRU) applies the reset gate to the
    recurrent product h U[n] + c[n]; reset_after=False applies it to h before the product.
    Returns one dict per step: r, z, n, h.
    """
    h = np.zeros(U["r"].shape[0], dtype=U["r"].dtype)  # h_0 = 0, (units,)
    steps = []
    for x in inputs:
        r = sigmoid(x * W["r"][0] + b["r"] + h @ U["r"] + c["r"])  # reset gate
        z = sigmoid(x * W["z"][0] + b["z"] + h @ U["z"] + c["z"])  # update gate
        if reset_after:
            n = np.tanh(x * W["n"][0] + b["n"] + r * (h @ U["n"] + c["n"]))
        else:
            n = np.tanh(x * W["n"][0] + b["n"] + (r * h) @ U["n"] + c["n"])
        h = z * h + (1 - z) * n
        steps.append({"r": r, "z": z, "n": n, "h": h})
    return steps


@dataclass
class GatedResult:
    """Everything the gated walkthrough shows, computed once and rendered separately."""

    kind: str
    reset_after: bool
    seed: int
    inputs: tuple[float, ...]
    weights: CanonicalWeights  # as Keras holds them (one-bias layers: c = 0)
    keras_native: dict[str, np.ndarray]
    torch_native: dict[str, np.ndarray]
    rows: list[MappingRow]
    problems: list[str]  # rows whose slice does not hold its canonical array (none expected)
    steps: list[dict[str, np.ndarray]]  # by hand, one dict per time step
    hand_output: float
    framework_states: dict[str, np.ndarray]  # framework -> (time, units)
    framework_output: dict[str, float]
    nn_gru_states: np.ndarray | None  # reset_after=False only: nn.GRU run on the same arrays

    @property
    def variant(self) -> str:
        return "gru_reset_before" if self.kind == "gru" and not self.reset_after else self.kind


def by_hand(weights: CanonicalWeights, inputs) -> tuple[list[dict[str, np.ndarray]], float]:
    """The hand computation for the weights' single gated layer, and the linear head's output."""
    layer, layer_spec = weights.layers[0]["forward"], weights.spec.layers[0]
    arrays = (layer.W, layer.U, layer.b, layer.c, inputs)
    if layer_spec.kind == "lstm":
        steps = lstm_by_hand(*arrays)
    else:
        steps = gru_by_hand(*arrays, reset_after=layer_spec.reset_after)
    return steps, float((steps[-1]["h"] @ weights.W_y + weights.b_y)[0])


def demo_spec(kind: str, units: int, dtype: str, reset_after: bool, steps: int) -> ModelSpec:
    """The tiny model: one gated layer, input size 1, a linear Dense(1) head."""
    layer = RecurrentLayerSpec(kind, units, reset_after=reset_after)
    return ModelSpec(steps, 1, (layer,), DenseSpec(1, "linear"), dtype)


def compute_gated(
    kind: str,
    reset_after: bool = True,
    units: int = 2,
    dtype: str = "float64",
    seed: int = 0,
    inputs: tuple[float, ...] = DEMO_STEPS,
) -> GatedResult:
    """Set random weights in Keras, copy them to torch, compute everything the page shows.

    Random (uniform +-0.5), not Keras's initialisers: those start every bias at 0 (the LSTM's
    forget bias at 1), and a zero bias cannot reveal a swapped bias slice.
    """
    keras_side, torch_side = both()
    spec = demo_spec(kind, units, dtype, reset_after, len(inputs))
    keras_model = keras_side.from_canonical(random_weights(spec, seed))
    weights = keras_side.to_canonical(keras_model)  # one-bias layers: b + c, c = 0
    torch_model = torch_side.from_canonical(weights)
    keras_native = keras_side.native_weights(keras_model)
    torch_native = torch_side.native_weights(torch_model)
    rows = mapping(kind, units, reset_after)
    steps, hand_output = by_hand(weights, inputs)
    x = np.array(inputs, dtype=dtype).reshape(1, len(inputs), 1)  # (batch, time, features)
    probe = probe_weights(weights, 0)  # outputs = the hidden-state sequence
    states = {
        name: impl.predict(impl.from_canonical(probe), x)[0]
        for name, impl in (("keras", keras_side), ("torch", torch_side))
    }
    outputs = {
        "keras": float(keras_side.predict(keras_model, x)[0, 0]),
        "torch": float(torch_side.predict(torch_model, x)[0, 0]),
    }
    nn_gru_states = None
    if kind == "gru" and not reset_after:  # the same arrays in torch's own nn.GRU
        as_nn_gru = dataclasses.replace(probe.spec.layers[0], reset_after=True)
        nn_spec = dataclasses.replace(probe.spec, layers=(as_nn_gru,))
        nn_model = torch_side.from_canonical(dataclasses.replace(probe, spec=nn_spec))
        nn_gru_states = torch_side.predict(nn_model, x)[0]
    problems = check_mapping(rows, keras_native, torch_native, weights)
    return GatedResult(
        kind, reset_after, seed, tuple(inputs), weights, keras_native, torch_native, rows,
        problems, steps, hand_output, states, outputs, nn_gru_states,
    )  # fmt: skip


def _vector(array: np.ndarray) -> str:
    return np.array2string(np.asarray(array), precision=8, separator=", ")


def _title(result: GatedResult) -> str:
    units = result.weights.spec.layers[0].units
    name = {"lstm": f"LSTM({units})", "gru": f"GRU({units}, reset_after={result.reset_after})"}
    return (
        f"The gated walkthrough: {name[result.kind]} + Dense(1, linear), input "
        f"({len(result.inputs)}, 1), {result.weights.spec.dtype}"
    )


def table_text(result: GatedResult) -> str:
    """Each framework's arrays and the slice -> gate table, as terminal text."""
    units = result.weights.spec.layers[0].units
    gates = {"lstm": ("i, f, c, o", "i, f, g, o"), "gru": ("z, r, h", "r, z, n")}[result.kind]
    lines = [
        f"Keras's own weights (gates side by side in columns, order {gates[0]}; kernels "
        "(inputs, gates*units), used as x @ kernel):",
    ]
    for name, array in result.keras_native.items():
        lines += array_lines(name, array)
    lines += [
        "",
        f"torch's own weights (gates stacked in rows, order {gates[1]}; weight_ih "
        "(gates*units, inputs), used as x @ weight_ih.T):",
    ]
    for name, array in result.torch_native.items():
        lines += array_lines(name, array)
    lines += [
        "",
        f"Which slice is which gate (canonical W[gate] (inputs, {units}), U[gate] ({units}, "
        f"{units}), b[gate] and c[gate] ({units},)):",
        *table_lines(result.rows, units),
        "  " + BIAS_NOTES[result.variant],
    ]
    if result.problems:
        lines += ["  MISMATCH between the table and the arrays:", *result.problems]
    else:
        lines.append("  Checked just now: every slice holds its canonical array exactly.")
    return "\n".join(lines)


def steps_text(
    steps: list[dict[str, np.ndarray]], output: float, kind_variant: str, inputs=DEMO_STEPS
) -> str:
    """The hand computation's formulas, then every gate and state at every step."""
    initial = "h_0 = 0, c_0 = 0" if kind_variant == "lstm" else "h_0 = 0"
    given = ", ".join(f"{x:g}" for x in inputs)
    lines = [f"By hand with numpy, for x = {given} ({initial}; s = sigmoid):"]
    lines += [f"  {formula}" for formula in FORMULAS[kind_variant]]
    for step, values in enumerate(steps, start=1):
        lines += [f"  {name}_{step} = {_vector(value)}" for name, value in values.items()]
    lines.append(f"  o{len(steps)} = h_{len(steps)} W_y + b_y = {output:.8f}")
    return "\n".join(lines)


def comparison_text(result: GatedResult, steps: list[dict[str, np.ndarray]], output: float) -> str:
    """What Keras and torch compute for h_t and the output, and how far each is from `steps`."""
    last = len(steps)
    lines = ["What each framework computes (h_t at every step), and its difference from the hand:"]
    for framework in ("keras", "torch"):
        for t, values in enumerate(steps, start=1):
            state = result.framework_states[framework][t - 1]
            gap = float(np.max(np.abs(state.astype(np.float64) - values["h"])))
            lines.append(f"  {framework:<6} h_{t} = {_vector(state)}  diff {gap:.2e}")
        value = result.framework_output[framework]
        lines.append(f"  {framework:<6} o{last} = {value:.8f}  diff {abs(value - output):.2e}")
    gap = abs(result.framework_output["keras"] - result.framework_output["torch"])
    lines.append(f"  keras vs torch o{last} diff: {gap:.2e}")
    return "\n".join(lines)


def reset_before_text(result: GatedResult) -> str:
    """Why nn.GRU cannot run Keras's GRU(reset_after=False), measured on these weights."""
    hand = np.stack([values["h"] for values in result.steps])  # (time, units)
    gap = float(np.max(np.abs(result.nn_gru_states.astype(np.float64) - hand)))
    return "\n".join(
        [
            "Why torch's nn.GRU cannot run this layer:",
            "  nn.GRU always computes n_t = tanh(x_t W[n] + b[n] + r_t * (h_{t-1} U[n] + c[n])):",
            "  the reset gate scales the product. Here it scales h_{t-1} before it:",
            "  (r_t * h) U[n] = h diag(r_t) U[n], nn.GRU's r_t * (h U[n]) = h U[n] diag(r_t),",
            "  and r_t changes every step, so no choice of nn.GRU's arrays gives these states.",
            f"  Measured: nn.GRU loaded with these very arrays gives h_1..h_{len(hand)} off by "
            f"up to {gap:.2e}.",
            "  What rnn-parity does: torch_impl runs it with LoopGRU, an explicit loop with "
            "nn.GRU's parameter",
            "  names and shapes (the arrays above) and the reset-before formula: exact, as the "
            "differences above show.",
        ]
    )


def render_gated(result: GatedResult) -> str:
    """The whole gated walkthrough as terminal text."""
    parts = [
        _title(result),
        f"Random weights (uniform +-0.5, seed {result.seed}) set in Keras, copied to torch "
        "through the canonical format.",
        "",
        table_text(result),
        "",
        steps_text(result.steps, result.hand_output, result.variant, result.inputs),
        "",
        comparison_text(result, result.steps, result.hand_output),
    ]
    if result.nn_gru_states is not None:
        parts += ["", reset_before_text(result)]
    return "\n".join(parts)
