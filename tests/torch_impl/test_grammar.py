"""Every spec of the grammar built in torch computes what the numpy reference computes.

Random, non-constant canonical weights everywhere (a constant would hide a transposed dense
kernel or swapped gamma and beta), float32 and float64, masks with masked steps at the end, in
the middle, at the start and anywhere, per sample.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from shared import reference
from shared.errors import DataError
from shared.grammar import FRONT_TYPES, HEAD_LAYER_TYPES
from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import (
    BatchNormSpec,
    DenseSpec,
    DropoutSpec,
    EmbeddingSpec,
    LayerNormSpec,
    MaskingSpec,
)
from shared.tolerances import TOLERANCES
from shared.weights import random_weights
from tests.specs import DTYPES_FLOAT64_SLOW, LAYER_KINDS, TORCH_SIZES, grammar_spec, make_spec
from tests.torch_impl.helpers import FUSED_KINDS, MASK_PATTERNS, masked_inputs
from torch_impl import build_model, from_canonical, native_weights, predict, to_canonical
from torch_impl import masked as masked_module
from torch_impl.layers import FRONTS, HEAD_LAYERS
from torch_impl.translators import BY_SPEC, for_module, translator

# As shared/tolerances.py's TOLERANCES: float32 forward passes whose summation order differs
# between torch and numpy drift by a few ulps of values ~1 (measured here <= 5e-7), so 1e-6
# leaves headroom; float64's same drift is ~1e-15, so 1e-12 is strict and safe. A real error
# (a transposed kernel, a missed mask, a zero where Keras carries the output) moves outputs by
# > 1e-2 (see the sensitivity tests below).
HEAD_LAYERS_ALL = (
    DenseSpec(units=5, activation="relu"),
    DropoutSpec(rate=0.3),
    LayerNormSpec(epsilon=1e-3),
    BatchNormSpec(epsilon=2e-3),
)
KINDS = {name: layer for name, layer in LAYER_KINDS}


def _gap(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b)))


def _routes(monkeypatch) -> list[str]:
    """Record which route (packed or loop) each masked layer takes."""
    taken: list[str] = []
    for name, route in (("_packed", "packed"), ("step_loop", "loop")):
        original = getattr(masked_module, name)

        def spy(*args, _original=original, _route=route):
            taken.append(_route)
            return _original(*args)

        monkeypatch.setattr(masked_module, name, spy)
    return taken


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("readout", ["final", "sequence", "last_step"])
def test_head_layers_after_every_readout_match_reference(readout, dtype, inputs):
    spec = grammar_spec(
        {"kind": "lstm"},
        dtype,
        bidirectional=True,
        readout=None if readout == "final" else readout,
        head_layers=HEAD_LAYERS_ALL,
    )
    assert spec.readout == readout
    weights = random_weights(spec, seed=61)
    ours = predict(from_canonical(weights), inputs)
    expected = reference.predict(weights, inputs)
    assert ours.dtype == np.dtype(dtype)
    assert ours.shape == (4, *spec.output_shape)
    assert _gap(ours, expected) <= TOLERANCES[dtype]


@pytest.mark.parametrize("dtype", DTYPES_FLOAT64_SLOW)
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("pattern", list(MASK_PATTERNS))
@pytest.mark.parametrize("kind", list(KINDS))
def test_masking_matches_reference_for_every_kind(kind, pattern, bidirectional, dtype, monkeypatch):
    """Every step the last layer hands on, through the head: the carried previous output (one
    direction) or zeros (Bidirectional) at masked steps. Final states: see test_masked."""
    taken = _routes(monkeypatch)
    spec = grammar_spec(
        KINDS[kind],
        dtype,
        bidirectional=bidirectional,
        front=MaskingSpec(mask_value=-1.0),
        readout="sequence",
    )
    weights = random_weights(spec, seed=62)
    X = masked_inputs(spec, pattern)
    trace = reference.forward(weights, X)
    assert np.array_equal(trace.mask, MASK_PATTERNS[pattern])
    assert _gap(predict(from_canonical(weights), X), trace.outputs) <= TOLERANCES[dtype]
    packed = pattern == "end" and kind in FUSED_KINDS
    assert taken == ["packed" if packed else "loop"] * 2  # both layers, one route


@pytest.mark.parametrize("dtype", DTYPES_FLOAT64_SLOW)
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("kind", ["lstm", "gru-reset-after", "simple-linear"])
def test_embedding_with_mask_zero_matches_reference(kind, bidirectional, dtype):
    spec = grammar_spec(
        KINDS[kind],
        dtype,
        bidirectional=bidirectional,
        front=EmbeddingSpec(vocab=9, dim=3, mask_zero=True),
        head_layers=(DenseSpec(units=4, activation="sigmoid"),),
    )
    weights = random_weights(spec, seed=63)
    model = from_canonical(weights)
    for pattern in MASK_PATTERNS:
        ids = masked_inputs(spec, pattern)
        ours = predict(model, ids)
        assert _gap(ours, reference.predict(weights, ids)) <= TOLERANCES[dtype], pattern
        # ids as whole-number floats and as (samples, time, 1) read the same
        assert np.array_equal(predict(model, ids[:, :, None].astype(float)), ours)


def test_embedding_without_mask_reads_id_zero_like_any_other():
    spec = grammar_spec({"kind": "gru"}, front=EmbeddingSpec(vocab=5, dim=2))
    weights = random_weights(spec, seed=64)
    ids = masked_inputs(spec, "start")  # zeros at the start: ordinary tokens here
    assert reference.forward(weights, ids).mask is None
    assert _gap(predict(from_canonical(weights), ids), reference.predict(weights, ids)) <= 1e-12


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (np.array([[1, 2, 9, 0, 1, 1]]), r"\[0, 9\)"),
        (np.array([[1, -1, 2, 0, 1, 1]]), r"\[0, 9\)"),
        (np.array([[1.5, 2, 3, 0, 1, 1]]), "whole numbers"),
        (np.ones((1, 6, 2), dtype=int), "shaped"),
        (np.array([["a"] * 6]), "integers"),
    ],
)
def test_bad_token_ids_are_one_line(ids, message):
    spec = grammar_spec({"kind": "lstm"}, front=EmbeddingSpec(vocab=9, dim=3, mask_zero=True))
    with pytest.raises(DataError, match=message) as error:
        predict(build_model(spec), ids)
    assert "\n" not in str(error.value)


def test_sensitivity_the_mask_and_the_carried_output_matter():
    """Proves the masking tests can fail: ignoring the mask, or zeroing a one-direction
    layer's masked outputs instead of repeating the previous one, moves outputs far."""
    spec = grammar_spec({"kind": "lstm"}, front=MaskingSpec(), readout="sequence")
    weights = random_weights(spec, seed=65)
    X = masked_inputs(spec, "middle")
    trace = reference.forward(weights, X)
    model = from_canonical(weights)
    keep = torch.from_numpy(MASK_PATTERNS["middle"])
    inputs = torch.from_numpy(X) * keep[:, :, None]  # what Masking hands on
    with torch.no_grad():
        sequence, _ = masked_module.masked_recurrence(
            model.net.recurrent[0].rnn, inputs, keep, False
        )
        unmasked = model.net.recurrent[0].rnn(inputs)[0]
    assert _gap(sequence.numpy(), trace.sequences[0]) <= 1e-12
    assert _gap(unmasked.numpy(), trace.sequences[0]) > 1e-2  # the mask ignored
    zeroed = (sequence * keep[:, :, None]).numpy()
    assert _gap(zeroed, trace.sequences[0]) > 1e-2  # Bidirectional's rule in one direction


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("front", [None, "masking", "embedding"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_round_trip_is_bitwise_for_every_layer_kind(kind, front, dtype):
    fronts = {
        None: None,
        "masking": MaskingSpec(mask_value=0.5),
        "embedding": EmbeddingSpec(vocab=6, dim=2, mask_zero=True),
    }
    spec = grammar_spec(
        KINDS[kind],
        dtype,
        bidirectional=True,
        front=fronts[front],
        readout="last_step",
        head_layers=HEAD_LAYERS_ALL,
    )
    weights = random_weights(spec, seed=66)
    back = to_canonical(from_canonical(weights))
    assert back.bitwise_equal(weights)
    assert back.spec == spec


def test_layout_of_the_new_layers():
    """E = weight; dense W = weight.T; norms gamma/beta = weight/bias; mean/variance = running_*."""
    spec = grammar_spec(
        {"kind": "gru"},
        front=EmbeddingSpec(vocab=6, dim=2, mask_zero=True),
        head_layers=HEAD_LAYERS_ALL,
    )
    weights = random_weights(spec, seed=67)
    native = native_weights(from_canonical(weights))
    assert np.array_equal(native["net.front.weight"], weights.front["E"])
    dense, _, layer_norm, batch_norm = weights.head_layers
    assert np.array_equal(native["net.head_layers.0.weight"], dense["W"].T)
    assert np.array_equal(native["net.head_layers.0.bias"], dense["b"])
    assert np.array_equal(native["net.head_layers.2.weight"], layer_norm["gamma"])
    assert np.array_equal(native["net.head_layers.2.bias"], layer_norm["beta"])
    for name, torch_name in [
        ("gamma", "weight"),
        ("beta", "bias"),
        ("mean", "running_mean"),
        ("variance", "running_var"),
    ]:
        assert np.array_equal(native[f"net.head_layers.3.{torch_name}"], batch_norm[name])
    assert np.array_equal(native["net.head.weight"], weights.W_y.T)


def test_epsilons_come_from_the_spec():
    spec = grammar_spec(
        {"kind": "lstm"}, head_layers=(LayerNormSpec(epsilon=3e-4), BatchNormSpec(epsilon=7e-2))
    )
    layer_norm, batch_norm = build_model(spec).net.head_layers
    assert layer_norm.eps == 3e-4 and batch_norm.eps == 7e-2


def test_todays_specs_keep_todays_names_and_modules():
    """Old checkpoints load: no new key for a spec without the new layers, nor for dropout."""
    layer = {"kind": "lstm", "dropout": 0.2, "recurrent_dropout": 0.1}
    spec = make_spec(layer, "stacked-bidirectional", "float32", sizes=TORCH_SIZES)
    names = set(build_model(spec).state_dict())
    expected = {
        f"net.recurrent.{k}.rnn.{p}_l0{s}"
        for k in (0, 1)
        for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        for s in ("", "_reverse")
    }
    assert names == expected | {"net.head.weight", "net.head.bias"}
    model = build_model(grammar_spec({"kind": "gru"}, output_dropout=0.25))
    assert set(model.state_dict()) == set(build_model(grammar_spec({"kind": "gru"})).state_dict())
    assert model.net.recurrent[0].output_dropout.p == 0.25


def test_predict_runs_in_eval_mode_and_restores_training():
    """Dropout is the identity and BatchNorm uses its moving statistics at inference."""
    spec = grammar_spec(
        {"kind": "simple", "activation": "tanh"},
        output_dropout=0.5,
        head_layers=(DropoutSpec(rate=0.9), BatchNormSpec()),
    )
    weights = random_weights(spec, seed=68)
    model = from_canonical(weights)
    model.train()
    X = np.random.default_rng(1).normal(size=(8, 6, 3))
    assert _gap(predict(model, X), reference.predict(weights, X)) <= 1e-12
    assert model.training
    assert to_canonical(model).bitwise_equal(weights)  # moving statistics untouched


def test_every_grammar_kind_has_a_builder_and_a_translator():
    for cls in FRONT_TYPES.values():
        assert cls in FRONTS and cls in BY_SPEC
    for cls in HEAD_LAYER_TYPES.values():
        assert cls in HEAD_LAYERS and cls in BY_SPEC
    assert RecurrentLayerSpec in BY_SPEC


def test_a_module_without_translator_or_of_another_kind_is_named():
    with pytest.raises(KeyError, match="Conv1d"):
        for_module(nn.Conv1d(1, 1, 1))
    with pytest.raises(TypeError, match="head layer 0: a LayerNorm does not compute a batch_norm"):
        translator(nn.LayerNorm(3), BatchNormSpec(), "head layer 0")
