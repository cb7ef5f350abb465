"""The numpy reference is the oracle, so it is checked independently of any framework.

The tutorial's demo is written out from the formulas by hand; LSTM and GRU are checked against a
scalar-loop float64 computation written here, one unit and one gate at a time, with math's exp
and tanh rather than numpy's vector code. Stacks and bidirectional layers are checked by
composing single-layer runs.
"""

import math

import numpy as np
import pytest

from shared.errors import DataError
from shared.recurrent_spec import RecurrentLayerSpec
from shared.reference import forward, predict
from shared.spec import DenseSpec, ModelSpec
from shared.weights import CanonicalWeights, random_weights

# float64 against float64 with a different summation order: a few ulps of values of size ~1.
F64_TOL = 1e-13


def _spec(kind: str, units: int, features: int = 2, steps: int = 5, **layer) -> ModelSpec:
    return ModelSpec(
        steps,
        features,
        (RecurrentLayerSpec(kind, units, **layer),),
        DenseSpec(1, "linear"),
        "float64",
    )


def test_tutorial_demo_by_hand():
    """SimpleRNN(2, linear) + Dense(1, linear) on x = 1, 2, 3, as the tutorial computes it."""
    spec = ModelSpec(
        3,
        1,
        (RecurrentLayerSpec("simple", 2, activation="linear"),),
        DenseSpec(1, "linear"),
        "float64",
    )
    wx = np.array([[0.3, -0.7]])  # (1, 2)
    wh = np.array([[0.5, 0.1], [-0.2, 0.4]])  # (2, 2)
    bh = np.array([0.05, -0.1])  # (2,)
    wy = np.array([[1.5], [-0.8]])  # (2, 1)
    by = np.array([0.2])
    arrays = {
        "layer0/forward/W/h": wx,
        "layer0/forward/U/h": wh,
        "layer0/forward/b/h": bh,
        "layer0/forward/c/h": np.zeros(2),
        "head/W_y": wy,
        "head/b_y": by,
    }
    weights = CanonicalWeights.from_arrays(spec, arrays)

    # The tutorial's formulas, each term written out: h_t = x_t wx + h_{t-1} wh + bh.
    h1 = np.array([1 * 0.3 + 0.05, 1 * -0.7 - 0.1])
    h2 = np.array(
        [2 * 0.3 + h1[0] * 0.5 + h1[1] * -0.2 + 0.05, 2 * -0.7 + h1[0] * 0.1 + h1[1] * 0.4 - 0.1]
    )
    h3 = np.array(
        [3 * 0.3 + h2[0] * 0.5 + h2[1] * -0.2 + 0.05, 3 * -0.7 + h2[0] * 0.1 + h2[1] * 0.4 - 0.1]
    )
    o3 = h3[0] * 1.5 + h3[1] * -0.8 + 0.2

    trace = forward(weights, np.array([[[1.0], [2.0], [3.0]]]))
    hidden = trace.hidden[0]["forward"][0]  # (time, units)
    np.testing.assert_allclose(hidden[0], h1, rtol=0, atol=F64_TOL)
    np.testing.assert_allclose(hidden[1], h2, rtol=0, atol=F64_TOL)
    np.testing.assert_allclose(hidden[2], h3, rtol=0, atol=F64_TOL)
    np.testing.assert_allclose(trace.outputs[0, 0], o3, rtol=0, atol=F64_TOL)


def _sig(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def _gate(weights, gate: str, x: list[float], h: list[float], j: int, with_c: bool = True):
    """Scalar pre-activation of unit j of one gate: sum_i x_i W_ij + b_j + sum_k h_k U_kj + c_j."""
    direction = weights.layers[0]["forward"]
    total = sum(x[i] * direction.W[gate][i, j] for i in range(len(x))) + direction.b[gate][j]
    total += sum(h[k] * direction.U[gate][k, j] for k in range(len(h)))
    return total + (direction.c[gate][j] if with_c else 0.0)


def _scalar_lstm(weights, sample: np.ndarray) -> list[float]:
    units = weights.spec.layers[0].units
    h, cell = [0.0] * units, [0.0] * units
    for x in sample.tolist():
        i = [_sig(_gate(weights, "i", x, h, j)) for j in range(units)]
        f = [_sig(_gate(weights, "f", x, h, j)) for j in range(units)]
        g = [math.tanh(_gate(weights, "g", x, h, j)) for j in range(units)]
        o = [_sig(_gate(weights, "o", x, h, j)) for j in range(units)]
        cell = [f[j] * cell[j] + i[j] * g[j] for j in range(units)]
        h = [o[j] * math.tanh(cell[j]) for j in range(units)]
    return h


def _scalar_gru(weights, sample: np.ndarray, reset_after: bool) -> list[float]:
    direction = weights.layers[0]["forward"]
    units = weights.spec.layers[0].units
    h = [0.0] * units
    for x in sample.tolist():
        r = [_sig(_gate(weights, "r", x, h, j)) for j in range(units)]
        z = [_sig(_gate(weights, "z", x, h, j)) for j in range(units)]
        n = []
        for j in range(units):
            input_part = sum(x[i] * direction.W["n"][i, j] for i in range(len(x)))
            input_part += direction.b["n"][j]
            if reset_after:  # reset applied to (h U_n + c_n)
                recurrent = sum(h[k] * direction.U["n"][k, j] for k in range(units))
                recurrent = r[j] * (recurrent + direction.c["n"][j])
            else:  # reset applied to h before U_n
                recurrent = sum(r[k] * h[k] * direction.U["n"][k, j] for k in range(units))
                recurrent += direction.c["n"][j]
            n.append(math.tanh(input_part + recurrent))
        h = [z[j] * h[j] + (1 - z[j]) * n[j] for j in range(units)]
    return h


@pytest.mark.parametrize("kind,reset_after", [("lstm", True), ("gru", True), ("gru", False)])
def test_lstm_and_gru_against_scalar_loops(kind, reset_after):
    spec = _spec(kind, units=3, features=2, steps=6, reset_after=reset_after)
    weights = random_weights(spec, seed=7, scale=0.8)
    inputs = np.random.default_rng(1).normal(size=(4, 6, 2))
    trace = forward(weights, inputs)
    for b in range(inputs.shape[0]):
        if kind == "lstm":
            expected = _scalar_lstm(weights, inputs[b])
        else:
            expected = _scalar_gru(weights, inputs[b], reset_after)
        np.testing.assert_allclose(
            trace.hidden[0]["forward"][b, -1], expected, rtol=0, atol=F64_TOL
        )


def test_gru_variants_differ():
    """reset_after True and False must not silently compute the same thing (test sensitivity)."""
    weights_after = random_weights(_spec("gru", 3, reset_after=True), seed=3)
    arrays = weights_after.to_arrays()
    weights_before = CanonicalWeights.from_arrays(_spec("gru", 3, reset_after=False), arrays)
    inputs = np.random.default_rng(0).normal(size=(3, 5, 2))
    gap = np.max(np.abs(predict(weights_after, inputs) - predict(weights_before, inputs)))
    assert gap > 1e-3


def test_bidirectional_is_forward_plus_reversed_backward():
    spec = ModelSpec(
        5,
        2,
        (RecurrentLayerSpec("lstm", 3, return_sequences=True, bidirectional=True),),
        DenseSpec(1),
        "float64",
    )
    weights = random_weights(spec, seed=11)
    inputs = np.random.default_rng(2).normal(size=(2, 5, 2))
    trace = forward(weights, inputs)

    single = _spec("lstm", 3, steps=5, return_sequences=True)
    arrays = weights.to_arrays()
    backward_only = {
        k.replace("backward", "forward"): v for k, v in arrays.items() if "/backward/" in k
    }
    backward_only["head/W_y"] = arrays["head/W_y"][3:]
    backward_only["head/b_y"] = arrays["head/b_y"]
    backward_weights = CanonicalWeights.from_arrays(single, backward_only)
    reversed_run = forward(backward_weights, inputs[:, ::-1, :]).hidden[0]["forward"]
    np.testing.assert_array_equal(trace.hidden[0]["backward"], reversed_run[:, ::-1, :])
    # Outputs are the head over concat([forward_t, backward_t]) at every step.
    features = np.concatenate([trace.hidden[0]["forward"], trace.hidden[0]["backward"]], axis=2)
    np.testing.assert_allclose(
        trace.outputs, features @ arrays["head/W_y"] + arrays["head/b_y"], rtol=0, atol=F64_TOL
    )


def test_bidirectional_last_output_uses_backward_state_at_step_zero():
    spec = ModelSpec(
        4, 1, (RecurrentLayerSpec("simple", 2, bidirectional=True),), DenseSpec(1), "float64"
    )
    weights = random_weights(spec, seed=5)
    trace = forward(weights, np.random.default_rng(3).normal(size=(3, 4, 1)))
    features = np.concatenate(
        [trace.hidden[0]["forward"][:, -1], trace.hidden[0]["backward"][:, 0]], axis=1
    )
    np.testing.assert_allclose(trace.outputs, features @ weights.W_y + weights.b_y, atol=F64_TOL)


def test_stack_feeds_each_layer_the_previous_sequence():
    spec = ModelSpec(
        5,
        2,
        (
            RecurrentLayerSpec("gru", 3, return_sequences=True),
            RecurrentLayerSpec("simple", 2, activation="relu"),
        ),
        DenseSpec(2, "sigmoid"),
        "float64",
    )
    weights = random_weights(spec, seed=9)
    inputs = np.random.default_rng(4).normal(size=(3, 5, 2))
    trace = forward(weights, inputs)
    arrays = weights.to_arrays()
    second = ModelSpec(
        5,
        3,
        (RecurrentLayerSpec("simple", 2, activation="relu"),),
        DenseSpec(2, "sigmoid"),
        "float64",
    )
    second_arrays = {
        k.replace("layer1", "layer0"): v
        for k, v in arrays.items()
        if k.startswith(("layer1", "head"))
    }
    second_weights = CanonicalWeights.from_arrays(second, second_arrays)
    np.testing.assert_array_equal(
        predict(second_weights, trace.hidden[0]["forward"]), trace.outputs
    )


def test_float32_stays_float32():
    spec = ModelSpec(4, 1, (RecurrentLayerSpec("simple", 2),), DenseSpec(1), "float32")
    out = predict(random_weights(spec), np.ones((2, 4, 1)))
    assert out.dtype == np.float32 and out.shape == (2, 1)


@pytest.mark.parametrize("bad", [np.ones((2, 4)), np.ones((2, 4, 3)), np.full((1, 4, 1), np.nan)])
def test_bad_inputs_are_named(bad):
    spec = ModelSpec(4, 1, (RecurrentLayerSpec("simple", 2),), DenseSpec(1), "float64")
    with pytest.raises(DataError, match="^X (must be shaped|holds NaN)"):
        forward(random_weights(spec), bad)
