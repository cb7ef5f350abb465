"""Canonical weights in and out of Keras: exact round trips, folded biases, refusals that change
nothing."""

from __future__ import annotations

import numpy as np
import pytest

import keras_impl
from shared import reference
from shared.errors import WeightFormatError
from shared.spec import DenseSpec
from shared.tolerances import TOLERANCES
from shared.weights import random_weights, zero_recurrent_bias
from tests.specs import KERAS_SIZES, KERAS_STRUCTURES, LAYER_KINDS, make_spec

KINDS = [kw for _, kw in LAYER_KINDS]
KIND_IDS = [name for name, _ in LAYER_KINDS]


def _as_keras_holds_them(spec, seed: int = 0):
    """Random weights with c = 0 wherever Keras keeps one bias (all but GRU reset_after)."""
    weights = random_weights(spec, seed=seed)
    two_biases = all(layer.kind == "gru" and layer.reset_after for layer in spec.layers)
    return weights if two_biases else zero_recurrent_bias(weights)


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("arrangement", KERAS_STRUCTURES)
@pytest.mark.parametrize("layer", KINDS, ids=KIND_IDS)
def test_round_trip_is_bitwise(layer, arrangement, dtype):
    weights = _as_keras_holds_them(make_spec(layer, arrangement, dtype, sizes=KERAS_SIZES), seed=11)
    model = keras_impl.from_canonical(weights)
    back = keras_impl.to_canonical(model)
    assert back.spec == weights.spec
    assert back.bitwise_equal(weights)
    # and a second Keras model built from what came back computes bit-identical outputs
    X = np.random.default_rng(1).uniform(-1, 1, size=(4, 12, 2))
    again = keras_impl.from_canonical(back)
    assert np.array_equal(keras_impl.predict(model, X), keras_impl.predict(again, X))


def test_gru_reset_after_keeps_both_biases():
    weights = random_weights(
        make_spec({"kind": "gru", "reset_after": True}, dtype="float64", sizes=KERAS_SIZES)
    )
    back = keras_impl.to_canonical(keras_impl.from_canonical(weights))
    assert back.bitwise_equal(weights)  # c is real and survives: Keras stores it as bias row 1
    assert any(np.any(c != 0) for c in back.layers[0]["forward"].c.values())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "layer",
    [{"kind": "simple"}, {"kind": "lstm"}, {"kind": "gru", "reset_after": False}],
    ids=["simple", "lstm", "gru-reset-before"],
)
def test_nonzero_recurrent_bias_is_folded_into_b(layer, dtype):
    weights = random_weights(
        make_spec(layer, dtype=dtype, sizes=KERAS_SIZES), seed=5
    )  # c random, not zero
    model = keras_impl.from_canonical(weights)
    X = np.random.default_rng(2).uniform(-1, 1, size=(4, 12, 2))
    # float32: b + c is rounded once more than the reference's separate additions (~6e-8)
    tolerance = TOLERANCES[dtype]
    assert np.max(np.abs(keras_impl.predict(model, X) - reference.predict(weights, X))) <= tolerance
    back = keras_impl.to_canonical(model)
    direction, original = back.layers[0]["forward"], weights.layers[0]["forward"]
    for gate in back.spec.layers[0].gates:
        assert not np.any(direction.c[gate])  # read back as one bias, c = 0 ...
        np.testing.assert_array_equal(direction.b[gate], original.b[gate] + original.c[gate])


def test_swish_and_silu_are_one_architecture():
    spec = make_spec(
        {"kind": "simple", "activation": "swish"}, head=DenseSpec(2, "swish"), sizes=KERAS_SIZES
    )
    model = keras_impl.build_model(spec)
    assert keras_impl.spec_of(model).layers[0].activation == "silu"  # Keras's own name
    keras_impl.set_canonical(model, random_weights(spec))  # alias accepted, no mismatch


def _snapshot(model):
    return keras_impl.to_canonical(model)


def test_weights_of_another_architecture_are_refused_and_nothing_changes():
    model = keras_impl.from_canonical(
        random_weights(make_spec({"kind": "gru"}, "stacked", sizes=KERAS_SIZES))
    )
    before = _snapshot(model)
    other = random_weights(make_spec({"kind": "lstm"}, "stacked", sizes=KERAS_SIZES))
    with pytest.raises(WeightFormatError, match=r"layer 0.*gru.*lstm"):
        keras_impl.set_canonical(model, other)
    assert _snapshot(model).bitwise_equal(before)


def test_weights_of_another_dtype_are_refused():
    model = keras_impl.from_canonical(
        random_weights(make_spec({"kind": "lstm"}, sizes=KERAS_SIZES))
    )
    other = random_weights(make_spec({"kind": "lstm"}, dtype="float64", sizes=KERAS_SIZES))
    with pytest.raises(WeightFormatError, match="dtype: model float32, weights float64"):
        keras_impl.set_canonical(model, other)


def test_a_misshapen_gate_late_in_the_model_changes_nothing():
    spec = make_spec({"kind": "lstm"}, "stacked", sizes=KERAS_SIZES)
    model = keras_impl.from_canonical(random_weights(spec, seed=1))
    before = _snapshot(model)
    bad = random_weights(spec, seed=2)  # differs everywhere, so any partial write would show
    bad.layers[1]["forward"].U["g"] = np.zeros((4, 5), dtype="float32")  # should be (4, 4)
    with pytest.raises(WeightFormatError, match=r"layer 1 \(lstm\) forward U\[g\].*\(4, 4\)"):
        keras_impl.set_canonical(model, bad)
    assert _snapshot(model).bitwise_equal(before)


def test_a_missing_gate_is_named():
    spec = make_spec({"kind": "gru"}, "bidirectional", sizes=KERAS_SIZES)
    model = keras_impl.build_model(spec)
    bad = random_weights(spec)
    del bad.layers[0]["backward"].b["z"]
    with pytest.raises(WeightFormatError, match=r"layer 0 \(gru\) backward b"):
        keras_impl.set_canonical(model, bad)
