"""Keras forward passes against the numpy reference, and Keras activations against shared's table.

Weights are random and non-constant (`random_weights`), recurrent-side biases included, so a
swapped gate, a transposed matrix or a dropped bias shows up as a large difference.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
from scipy.special import erfc

import keras_impl
from shared import reference
from shared.activations import ACTIVATIONS
from shared.tolerances import TOLERANCES
from shared.weights import random_weights, zero_recurrent_bias
from tests.specs import KERAS_SIZES, KERAS_STRUCTURES, LAYER_KINDS, make_spec

# Max abs output difference from the reference. float32: each output passes through 12 steps
# of sums of a few products, each rounded at ~6e-8 relative, in a different order than numpy;
# with outputs up to ~2, the worst seen over all cases and 3 seeds is 2.4e-7, so 1e-6 leaves
# room without hiding a wrong gate (~1e-1). float64: the same rounding at ~1.1e-16 relative;
# worst seen 8.9e-16.


def _inputs(spec, seed: int = 0) -> np.ndarray:
    # (batch, time, features) in [-1, 1]: keeps relu and linear recurrences of order 1
    return np.random.default_rng(seed).uniform(-1, 1, size=(5, spec.time_steps, spec.features))


def _weights_as_keras_holds_them(spec, seed: int):
    """Random weights; one-bias layers get c = 0, since Keras cannot hold c separately."""
    weights = random_weights(spec, seed=seed)
    if all(layer.kind == "gru" and layer.reset_after for layer in spec.layers):
        return weights
    return zero_recurrent_bias(weights)


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("arrangement", KERAS_STRUCTURES)
@pytest.mark.parametrize("layer", [kw for _, kw in LAYER_KINDS], ids=[n for n, _ in LAYER_KINDS])
def test_outputs_match_reference(layer, arrangement, dtype):
    spec = make_spec(layer, arrangement, dtype, sizes=KERAS_SIZES)
    weights = random_weights(spec, seed=7)  # real c everywhere; one-bias layers fold b + c
    model = keras_impl.from_canonical(weights)
    X = _inputs(spec)
    got, expected = keras_impl.predict(model, X), reference.predict(weights, X)
    assert got.dtype == np.dtype(dtype)
    assert got.shape == expected.shape == (5, *spec.output_shape)
    assert np.max(np.abs(got - expected)) <= TOLERANCES[dtype]


def test_a_keras_initialised_tutorial_model_matches_reference():
    # Keras's own initial weights (glorot, orthogonal, zero biases), read out by to_canonical
    model = keras_impl.create_rnn(3, 1, (12, 1), ["tanh", "tanh"])
    weights = keras_impl.to_canonical(model)
    X = _inputs(weights.spec)
    got, expected = keras_impl.predict(model, X), reference.predict(weights, X)
    assert np.max(np.abs(got - expected)) <= TOLERANCES["float32"]


def test_predict_rejects_misshapen_inputs():
    from shared.errors import DataError

    model = keras_impl.create_rnn(3, 1, (12, 1), ["tanh", "tanh"])
    with pytest.raises(DataError, match=r"X must be shaped \(samples, time, 1\)"):
        keras_impl.predict(model, np.zeros((4, 12, 2)))
    with pytest.raises(DataError, match="the model's 12 time steps"):
        keras_impl.predict(model, np.zeros((4, 10, 1)))
    with pytest.raises(DataError, match="NaN"):
        keras_impl.predict(model, np.full((4, 12, 1), np.nan))


def _keras_activation(name: str, x: np.ndarray) -> np.ndarray:
    return keras.ops.convert_to_numpy(keras.activations.get(name)(keras.ops.convert_to_tensor(x)))


# Dense sampling of [-12, 12] plus tails; float64 so only each library's own rounding shows.
_GRID = np.concatenate([np.linspace(-12, 12, 4801), [-40.0, -25.0, 25.0, 40.0]])
# TensorFlow writes these constants as Python floats that pass through float32 even when the
# tensor is float64 (tf.nn.leaky_relu's alpha attribute is a 32-bit float; tf.nn.gelu uses
# cast(0.7071067811865476, dtype)), so in float64 Keras differs from the exact math by ~1e-8.
_FLOAT32_CONSTANTS = {
    "leaky_relu": lambda x: np.where(x >= 0, x, np.float64(np.float32(0.2)) * x),
    "gelu": lambda x: 0.5 * x * erfc(-x * np.float64(np.float32(0.7071067811865476))),
}


@pytest.mark.parametrize("name", sorted(set(ACTIVATIONS) - set(_FLOAT32_CONSTANTS)))
def test_numpy_activation_table_equals_keras(name):
    got = ACTIVATIONS[name](_GRID)
    assert got.dtype == np.float64
    # rtol 1e-13: the same formula in another library differs by a few ulps (exp, expm1, log1p
    # implementations); a wrong constant or slope differs by far more (>= 1e-3). atol 1e-15
    # only covers tails that underflow towards 0 (e.g. softplus(-40) ~ 4e-18).
    np.testing.assert_allclose(got, _keras_activation(name, _GRID), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", sorted(_FLOAT32_CONSTANTS))
def test_keras_float64_rounds_these_constants_through_float32(name):
    keras_values = _keras_activation(name, _GRID)
    # Keras is exactly the formula with the float32-rounded constant (erfc: a few ulps) ...
    np.testing.assert_allclose(
        keras_values, _FLOAT32_CONSTANTS[name](_GRID), rtol=1e-14, atol=1e-15
    )
    # ... and so within the constant's float32 rounding (~1.5e-8 relative) of the exact table:
    # leaky_relu by that relative amount; gelu by at most 5e-9 absolute (the constant sits
    # inside erfc, so relative gaps grow in the vanishing left tail while absolute ones shrink).
    bound = {"leaky_relu": {"rtol": 3e-8, "atol": 0.0}, "gelu": {"rtol": 0.0, "atol": 1e-8}}
    np.testing.assert_allclose(ACTIVATIONS[name](_GRID), keras_values, **bound[name])


def test_swapping_gru_gates_would_be_caught():
    """The forward test is sensitive to the r/z reorder: without it outputs move by > 1e-3."""
    spec = make_spec({"kind": "gru"}, "single", "float64", sizes=KERAS_SIZES)
    weights = random_weights(spec, seed=3)
    swapped = random_weights(spec, seed=3)
    direction = swapped.layers[0]["forward"]
    for param in "WUbc":
        arrays = direction.param(param)
        arrays["r"], arrays["z"] = arrays["z"], arrays["r"]
    X = _inputs(spec)
    model = keras_impl.from_canonical(weights)
    got = keras_impl.predict(model, X)
    assert np.max(np.abs(got - reference.predict(weights, X))) <= TOLERANCES["float64"]
    assert np.max(np.abs(got - reference.predict(swapped, X))) > 1e-3


def test_keras_kernel_blocks_are_in_keras_gate_order():
    """Keras's GRU kernel holds z, r, h column blocks; LSTM's i, f, c, o (documented layout)."""
    for kind, order in (("gru", ("z", "r", "n")), ("lstm", ("i", "f", "g", "o"))):
        spec = make_spec({"kind": kind}, "single", "float64", units=3, sizes=KERAS_SIZES)
        weights = _weights_as_keras_holds_them(spec, seed=1)
        cell = keras_impl.from_canonical(weights).get_layer("rnn_0").cell
        kernel = keras.ops.convert_to_numpy(cell.kernel)  # (features, gates * units)
        for block, gate in enumerate(order):
            assert np.array_equal(
                kernel[:, 3 * block : 3 * block + 3], weights.layers[0]["forward"].W[gate]
            )
