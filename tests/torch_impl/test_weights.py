"""Canonical weights go into and out of torch models unchanged, and misfits are refused whole."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shared.errors import WeightFormatError
from shared.spec import ModelSpec
from shared.weights import CanonicalWeights, DirectionWeights, random_weights
from tests.specs import LAYER_KINDS, TORCH_SIZES, make_spec
from torch_impl import (
    build_model,
    from_canonical,
    native_weights,
    predict,
    set_canonical,
    to_canonical,
)


def _state(model) -> dict[str, np.ndarray]:
    return {name: t.detach().numpy().copy() for name, t in model.state_dict().items()}


def _same_state(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return set(a) == set(b) and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layer", [kw for _, kw in LAYER_KINDS], ids=[n for n, _ in LAYER_KINDS])
def test_round_trip_is_bitwise(layer, dtype, inputs):
    spec = make_spec(layer, "stacked-bidirectional", dtype, sizes=TORCH_SIZES)
    weights = random_weights(spec, seed=21)  # nonzero c everywhere
    assert any(np.any(a != 0) for name, a in weights.to_arrays().items() if "/c/" in name)
    model = from_canonical(weights)
    back = to_canonical(model)
    assert back.bitwise_equal(weights)
    again = from_canonical(back)
    assert np.array_equal(predict(model, inputs), predict(again, inputs))


def test_layout_is_torch_rows_transposed():
    """W[gate] is the gate's block of weight_ih rows, transposed; c is bias_hh's block."""
    spec = make_spec({"kind": "lstm"}, "bidirectional", "float64", sizes=TORCH_SIZES)
    weights = random_weights(spec, seed=22)
    native = native_weights(from_canonical(weights))
    units = spec.layers[0].units
    backward = weights.layers[0]["backward"]
    for position, gate in enumerate("ifgo"):
        rows = slice(position * units, (position + 1) * units)
        prefix = "net.recurrent.0.rnn."
        assert np.array_equal(native[prefix + "weight_ih_l0_reverse"][rows], backward.W[gate].T)
        assert np.array_equal(native[prefix + "weight_hh_l0_reverse"][rows], backward.U[gate].T)
        assert np.array_equal(native[prefix + "bias_ih_l0_reverse"][rows], backward.b[gate])
        assert np.array_equal(native[prefix + "bias_hh_l0_reverse"][rows], backward.c[gate])
    assert np.array_equal(native["net.head.weight"], weights.W_y.T)


def test_to_canonical_returns_copies():
    spec = make_spec({"kind": "gru"}, "single", "float64", sizes=TORCH_SIZES)
    model = from_canonical(random_weights(spec, seed=23))
    weights = to_canonical(model)
    before = weights.to_arrays()["layer0/forward/U/z"].copy()
    with torch.no_grad():
        model.net.recurrent[0].rnn.weight_hh_l0.add_(1.0)
    assert np.array_equal(weights.to_arrays()["layer0/forward/U/z"], before)


def _misfit(weights: CanonicalWeights, name: str, array: np.ndarray) -> CanonicalWeights:
    """A copy of `weights` with one array replaced, built without validation."""
    index, direction, param, gate = name.split("/")
    layer = int(index.removeprefix("layer"))
    layers = [dict(directions) for directions in weights.layers]
    source = layers[layer][direction]
    params = {p: dict(source.param(p)) for p in ("W", "U", "b", "c")}
    params[param][gate] = array
    layers[layer][direction] = DirectionWeights(**params)
    return CanonicalWeights(weights.spec, layers, weights.W_y, weights.b_y)


def test_misfit_shape_names_layer_direction_gate_and_shape_and_changes_nothing():
    spec = make_spec({"kind": "gru"}, "stacked-bidirectional", "float64", sizes=TORCH_SIZES)
    model = from_canonical(random_weights(spec, seed=24))
    before = _state(model)
    other = random_weights(spec, seed=25)
    bad = _misfit(other, "layer1/backward/U/z", np.zeros((5, 4)))
    with pytest.raises(WeightFormatError) as error:
        set_canonical(model, bad)
    message = str(error.value)
    for word in ("layer 1", "backward", "U", "[z]", "(5, 5)", "(5, 4)"):
        assert word in message, (word, message)
    assert _same_state(before, _state(model))


def test_misfit_late_head_leaves_earlier_layers_untouched():
    """Everything is validated before the first copy: a bad head must not half-load layers."""
    spec = make_spec({"kind": "lstm"}, "stacked", "float64", sizes=TORCH_SIZES)
    model = from_canonical(random_weights(spec, seed=26))
    before = _state(model)
    other = random_weights(spec, seed=27)
    bad = CanonicalWeights(spec, other.layers, other.W_y[:, :1], other.b_y)
    with pytest.raises(WeightFormatError, match="head W_y"):
        set_canonical(model, bad)
    assert _same_state(before, _state(model))


def test_weights_of_another_spec_are_refused():
    spec = make_spec(
        {"kind": "simple", "activation": "tanh"}, "single", "float64", sizes=TORCH_SIZES
    )
    model = from_canonical(random_weights(spec, seed=28))
    before = _state(model)
    # same shapes, different computation: the activation differs
    relu_spec = make_spec(
        {"kind": "simple", "activation": "relu"}, "single", "float64", sizes=TORCH_SIZES
    )
    with pytest.raises(WeightFormatError, match="layer 0"):
        set_canonical(model, random_weights(relu_spec, seed=29))
    # wrong dtype: named with its layer and gate
    float32_spec = make_spec(
        {"kind": "simple", "activation": "tanh"}, "single", "float32", sizes=TORCH_SIZES
    )
    with pytest.raises(WeightFormatError, match=r"layer 0 \(simple\) forward W\[h\].*dtype"):
        set_canonical(model, random_weights(float32_spec, seed=30))
    # other units: the first misfit array is named with its expected shape
    wide = ModelSpec.from_dict(
        {**spec.to_dict(), "layers": [{**spec.to_dict()["layers"][0], "units": 7}]}
    )
    with pytest.raises(WeightFormatError, match=r"expected shape \(3, 5\), got \(3, 7\)"):
        set_canonical(model, random_weights(wide, seed=31))
    assert _same_state(before, _state(model))


def test_build_model_rejects_a_non_spec():
    with pytest.raises(TypeError):
        build_model({"time_steps": 3})
