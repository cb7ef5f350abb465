"""The tutorial's first part, across frameworks: one tiny RNN, its weights, its states by hand.

The tutorial builds SimpleRNN(2, linear) + Dense(1, linear) on input shape (3, 1), reads its
weights, and computes h1, h2, h3 and the output o3 for the input 1, 2, 3 from the formulas

    h_t = x_t W + b + h_{t-1} U + c        o3 = h3 W_y + b_y      (h_0 = 0, linear activations)

Here the model is built in Keras, copied to torch through the canonical format, and each
framework's own weight arrays are shown beside the canonical ones, then the hand computation
beside what Keras and torch compute, with their differences. `--side-by-side` writes the
learner's page of the tutorial's two programs (`compare.learn.tutorial_page`); with `--engine`,
`render_side_by_side` writes the engine's page instead: each step with the impls' Keras code and
its Lightning twin, taken from their source at run time so it cannot go stale. `--kind lstm|gru`
(with `--reset-before` for Keras's other GRU) shows a gated layer instead (`compare.learn.gates`).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np

from compare.frameworks import both
from compare.learn.gate_tables import array_lines
from compare.port.agreement import probe_weights
from shared.weights import CanonicalWeights

DEMO_INPUT = np.array([[[1.0], [2.0], [3.0]]])  # (batch 1, time 3, features 1)


@dataclass
class WalkthroughResult:
    """Everything the walkthrough shows, computed once and rendered separately."""

    dtype: str
    keras_native: dict[str, np.ndarray]
    torch_native: dict[str, np.ndarray]
    weights: CanonicalWeights
    hand_states: list[np.ndarray]  # h1, h2, h3, each (units,)
    hand_output: float
    framework_states: dict[str, np.ndarray]  # framework -> (time, units)
    framework_output: dict[str, float]


def hand_computation(
    weights: CanonicalWeights, inputs: list[float]
) -> tuple[list[np.ndarray], float]:
    """The tutorial's formulas, one step at a time, for a single-layer linear simple RNN.

    Returns:
        The hidden states h_1..h_T (each (units,)) and the output o_T (a float).
    """
    layer = weights.layers[0]["forward"]
    h = np.zeros(weights.spec.layers[0].units, dtype=weights.spec.dtype)  # h_0 = 0
    states = []
    for x in inputs:
        h = x * layer.W["h"][0] + layer.b["h"] + h @ layer.U["h"] + layer.c["h"]
        states.append(h)
    output = float((h @ weights.W_y + weights.b_y)[0])
    return states, output


def compute(dtype: str = "float32", seed: int = 0, units: int = 2) -> WalkthroughResult:
    """Build the demo in Keras (seeded), copy it to torch, compute everything the page shows."""
    keras_side, torch_side = both()
    from shared.recurrent_spec import RecurrentLayerSpec
    from shared.spec import DenseSpec, ModelSpec

    spec = ModelSpec(
        3,
        1,
        (RecurrentLayerSpec("simple", units, activation="linear"),),
        DenseSpec(1, "linear"),
        dtype,
    )
    keras_model = keras_side.build_model(spec, seed=seed)
    weights = keras_side.to_canonical(keras_model)
    torch_model = torch_side.from_canonical(weights)
    hand_states, hand_output = hand_computation(weights, [1.0, 2.0, 3.0])
    probe = probe_weights(weights, 0)  # outputs = the hidden-state sequence
    inputs = DEMO_INPUT.astype(dtype)
    states = {
        name: impl.predict(impl.from_canonical(probe), inputs)[0]
        for name, impl in (("keras", keras_side), ("torch", torch_side))
    }
    outputs = {
        "keras": float(keras_side.predict(keras_model, inputs)[0, 0]),
        "torch": float(torch_side.predict(torch_model, inputs)[0, 0]),
    }
    return WalkthroughResult(
        dtype,
        keras_side.native_weights(keras_model),
        torch_side.native_weights(torch_model),
        weights,
        hand_states,
        hand_output,
        states,
        outputs,
    )


def render(result: WalkthroughResult) -> str:
    """The walkthrough as terminal text."""
    lines = [
        f"The tutorial's demo: SimpleRNN({result.weights.spec.layers[0].units}, linear) + "
        "Dense(1, linear), input (3, 1), "
        f"{result.dtype}",
        "Built in Keras, copied to torch through the canonical format.",
        "",
        "Keras's own weights (kernels are (inputs, units): used as x @ kernel):",
    ]
    for name, array in result.keras_native.items():
        lines += array_lines(name, array)
    lines += [
        "",
        "torch's own weights (weight_ih is (units, inputs): used as x @ weight.T; "
        "two biases, bias_hh is 0 after a copy from Keras):",
    ]
    for name, array in result.torch_native.items():
        lines += array_lines(name, array)
    lines += ["", "Canonical weights (row-vector layout, one name per gate):"]
    for name, array in result.weights.to_arrays().items():
        lines += array_lines(name, array)
    lines += [
        "",
        "By hand, for x = 1, 2, 3 (h_0 = 0):",
        "  h_t = x_t W + b + h_{t-1} U + c        o3 = h3 W_y + b_y",
    ]
    for step, state in enumerate(result.hand_states, start=1):
        lines.append(f"  h{step} = {np.array2string(state, precision=8, separator=', ')}")
    lines.append(f"  o3 = {result.hand_output:.8f}")
    lines += ["", "What each framework computes, and how far it is from the hand computation:"]
    for framework in ("keras", "torch"):
        states = result.framework_states[framework]
        gap = max(
            float(np.max(np.abs(states[t].astype(np.float64) - result.hand_states[t])))
            for t in range(len(result.hand_states))
        )
        output = result.framework_output[framework]
        lines.append(
            f"  {framework:<6} h1..h3 max abs diff {gap:.2e};  o3 = {output:.8f}  "
            f"(diff {abs(output - result.hand_output):.2e})"
        )
    lines.append(
        f"  keras vs torch o3 diff: "
        f"{abs(result.framework_output['keras'] - result.framework_output['torch']):.2e}"
    )
    return "\n".join(lines)


# One line per step on the real difference between the two frameworks' code.
SIDE_BY_SIDE_STEPS = [
    (
        "Model",
        "build_model",
        "Keras has one bias per gate and gate order z, r, h for GRU; torch has bias_ih + "
        "bias_hh and r, z, n, and its nn.RNN knows only tanh and relu, so other activations "
        "need a loop.",
    ),
    (
        "Training",
        "fit",
        "Keras's fit is one call; Lightning needs a LightningModule, a DataModule and a Trainer, "
        "and Adam's epsilon sits on sqrt(v) in Keras but on the bias-corrected sqrt(v) in torch.",
    ),
    (
        "Prediction",
        "predict",
        "Keras calls the model on the numpy array (training=False) and converts the result; "
        "torch needs eval mode and no_grad around the call and a numpy -> tensor -> numpy "
        "round trip.",
    ),
    (
        "Weights",
        "to_canonical",
        "Keras kernels are (inputs, gates*units); torch's weight_ih is (gates*units, inputs): a "
        "transpose plus, for GRU, a gate reorder.",
    ),
]


def render_side_by_side() -> str:
    """Markdown: each tutorial step with the Keras code and its Lightning twin side by side."""
    keras_side, torch_side = both()
    from shared import data, windows

    parts = [
        "# The tutorial in Keras and in PyTorch Lightning, side by side",
        "",
        "Generated by `rnn-parity walkthrough --side-by-side` from the project's own source, "
        "so it always shows the code that runs.",
        "",
        "## Data preparation (shared by both)",
        "",
        "Both frameworks read the very same arrays: scaling, split and windows live once in "
        "`shared/`.",
        "",
        "```python",
        inspect.getsource(data.get_train_test).rstrip(),
        "",
        inspect.getsource(windows.get_XY).rstrip(),
        "```",
        "",
    ]
    for title, function, note in SIDE_BY_SIDE_STEPS:
        keras_source = inspect.getsource(getattr(keras_side, function)).rstrip()
        torch_source = inspect.getsource(getattr(torch_side, function)).rstrip()
        parts += [
            f"## {title}: `{function}`",
            "",
            f"**The real difference:** {note}",
            "",
            "<table><tr><th>Keras (keras_impl)</th><th>PyTorch Lightning (torch_impl)</th>"
            "</tr><tr><td>",
            "",
            "```python",
            keras_source,
            "```",
            "",
            "</td><td>",
            "",
            "```python",
            torch_source,
            "```",
            "",
            "</td></tr></table>",
            "",
        ]
    return "\n".join(parts)
