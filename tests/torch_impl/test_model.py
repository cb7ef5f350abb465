"""The torch forward pass equals the numpy reference for every kind, structure and dtype."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from shared import reference
from shared.activations import ACTIVATIONS
from shared.recurrent_spec import RecurrentLayerSpec
from shared.tolerances import TOLERANCES
from shared.weights import CanonicalWeights, random_weights
from tests.specs import DTYPES_FLOAT64_SLOW, LAYER_KINDS, TORCH_SIZES, TORCH_STRUCTURES, make_spec
from torch_impl import build_model, create_rnn, from_canonical, predict, spec_of, to_canonical
from torch_impl.model import (
    TORCH_ACTIVATIONS,
    LoopGRU,
    LoopSimpleRNN,
    recurrent_module,
    torch_dtype,
)
from torch_impl.weights import set_canonical

# float32: torch and numpy sum the gate matmuls in different orders; over <= 12 steps and two
# layers of <= 6 units the rounding stays near 1e-7, so 1e-6 leaves room without hiding errors
# (a swapped gate or missing bias moves outputs by > 1e-3, see test_sensitivity).
# float64: the same rounding at 2^-52 relative, so ~1e-16; 1e-12 is far from any real bug.


@pytest.mark.parametrize("dtype", DTYPES_FLOAT64_SLOW)
@pytest.mark.parametrize("structure", TORCH_STRUCTURES)
@pytest.mark.parametrize("layer", [kw for _, kw in LAYER_KINDS], ids=[n for n, _ in LAYER_KINDS])
def test_forward_matches_reference(layer, structure, dtype, inputs):
    spec = make_spec(layer, structure, dtype, sizes=TORCH_SIZES)
    weights = random_weights(spec, seed=11)  # every array random, c included
    model = from_canonical(weights)
    ours = predict(model, inputs)
    expected = reference.predict(weights, inputs)
    assert ours.dtype == np.dtype(dtype)
    assert ours.shape == expected.shape == (4, 2)
    assert np.max(np.abs(ours - expected)) <= TOLERANCES[dtype]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layer", [kw for _, kw in LAYER_KINDS], ids=[n for n, _ in LAYER_KINDS])
def test_sequence_output_matches_reference(layer, dtype, inputs):
    spec = make_spec(layer, "sequence-out", dtype, sizes=TORCH_SIZES)
    weights = random_weights(spec, seed=12)
    ours = predict(from_canonical(weights), inputs)
    expected = reference.predict(weights, inputs)
    assert ours.shape == expected.shape == (4, 6, 2)
    assert np.max(np.abs(ours - expected)) <= TOLERANCES[dtype]


def test_fused_modules_where_torch_can_and_loops_where_it_cannot():
    expected = {
        "simple-tanh": nn.RNN,
        "simple-relu": nn.RNN,
        "simple-linear": LoopSimpleRNN,
        "simple-sigmoid": LoopSimpleRNN,
        "lstm": nn.LSTM,
        "gru-reset-after": nn.GRU,
        "gru-reset-before": LoopGRU,
    }
    for name, layer in LAYER_KINDS:
        model = build_model(make_spec(layer, "stacked-bidirectional", "float64", sizes=TORCH_SIZES))
        for recurrent in model.net.recurrent:
            assert type(recurrent.rnn) is expected[name], name
            assert recurrent.rnn.bidirectional


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("structure", ["single", "stacked-bidirectional"])
def test_relu_loop_equals_nn_rnn_and_reference(structure, dtype, inputs):
    spec = make_spec({"kind": "simple", "activation": "relu"}, structure, dtype, sizes=TORCH_SIZES)
    weights = random_weights(spec, seed=13)
    fused = from_canonical(weights)
    looped = build_model(spec)
    for index, layer in enumerate(spec.layers):  # swap every nn.RNN for the explicit loop
        module = recurrent_module(
            layer, spec.input_size(index), torch_dtype(dtype), force_loop=True
        )
        assert isinstance(module, LoopSimpleRNN)
        looped.net.recurrent[index].rnn = module
    set_canonical(looped, weights)
    expected = reference.predict(weights, inputs)
    for model in (fused, looped):
        assert np.max(np.abs(predict(model, inputs) - expected)) <= TOLERANCES[dtype]
    assert np.max(np.abs(predict(fused, inputs) - predict(looped, inputs))) <= TOLERANCES[dtype]


def test_every_activation_mirrors_shared_activations():
    assert set(TORCH_ACTIVATIONS) == set(ACTIVATIONS)
    x = np.concatenate([np.linspace(-30, 30, 2001), [0.0, -0.0, 1e-300, -1e-300, 700.0, -700.0]])
    for name, numpy_fn in ACTIVATIONS.items():
        ours = TORCH_ACTIVATIONS[name](torch.from_numpy(x)).numpy()
        assert ours.dtype == np.float64, name
        # numpy's libm and torch's vectorised kernels may differ by a few ulp (measured
        # <= 4e-16 relative); gelu's far tail (values ~1e-197) differs by ~2e-14 relative,
        # which atol 1e-15 covers. A wrong constant (slope 0.01, Keras 2's hard_sigmoid,
        # tanh-approximate gelu, softplus's cut-off) is off by > 1e-4.
        np.testing.assert_allclose(ours, numpy_fn(x), rtol=1e-13, atol=1e-15, err_msg=name)


def test_sensitivity_swapping_gru_gates_changes_outputs(inputs):
    """Proves the agreement tests can fail: a gate mix-up moves outputs far beyond tolerance."""
    for reset_after in (True, False):
        spec = make_spec(
            {"kind": "gru", "reset_after": reset_after}, "single", "float64", sizes=TORCH_SIZES
        )
        weights = random_weights(spec, seed=14)
        arrays = weights.to_arrays()
        for param in ("W", "U", "b", "c"):
            r, z = f"layer0/forward/{param}/r", f"layer0/forward/{param}/z"
            arrays[r], arrays[z] = arrays[z], arrays[r]
        swapped = CanonicalWeights.from_arrays(spec, arrays)
        change = np.max(
            np.abs(predict(from_canonical(swapped), inputs) - reference.predict(weights, inputs))
        )
        assert change > 1e-3


def test_sensitivity_dropping_recurrent_bias_changes_outputs(inputs):
    spec = make_spec({"kind": "lstm"}, "single", "float64", sizes=TORCH_SIZES)
    weights = random_weights(spec, seed=15)
    model = from_canonical(weights)
    with torch.no_grad():
        model.net.recurrent[0].rnn.bias_hh_l0.zero_()
    assert np.max(np.abs(predict(model, inputs) - reference.predict(weights, inputs))) > 1e-3


def test_create_rnn_matches_tutorial_parameter_counts():
    model = create_rnn(3, 1, (12, 1), ["tanh", "tanh"])
    spec = spec_of(model)
    assert spec.time_steps == 12 and spec.features == 1 and spec.dtype == "float32"
    assert spec.layers == (RecurrentLayerSpec(kind="simple", units=3, activation="tanh"),)
    assert spec.head.units == 1 and spec.head.activation == "tanh"
    arrays = to_canonical(model).to_arrays()
    keras_like = sum(a.size for name, a in arrays.items() if "/c/" not in name)
    assert keras_like == 3 + 9 + 3 + 3 + 1 == 19  # W, U, b, W_y, b_y: Keras's count
    assert sum(p.numel() for p in model.parameters()) == 22  # plus bias_hh (3)


def test_create_rnn_rejects_a_wrong_activation_list():
    with pytest.raises(ValueError, match="activation"):
        create_rnn(3, 1, (12, 1), ["tanh"])


def test_build_model_leaves_torch_default_dtype_alone():
    before = torch.get_default_dtype()
    model = build_model(
        make_spec({"kind": "lstm"}, "stacked-bidirectional", "float64", sizes=TORCH_SIZES)
    )
    assert torch.get_default_dtype() == before
    assert {p.dtype for p in model.parameters()} == {torch.float64}


def test_hyperparameters_hold_the_plain_spec_dict():
    spec = make_spec(
        {"kind": "gru", "reset_after": False}, "bidirectional", "float64", sizes=TORCH_SIZES
    )
    model = build_model(spec)
    assert dict(model.hparams) == {"spec": spec.to_dict()}
