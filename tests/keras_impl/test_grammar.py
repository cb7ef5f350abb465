"""Every layer kind of the grammar in Keras: built, read back, filled and run against the reference.

Weights are random and non-constant (`random_weights`), every head layer's arrays and the
embedding included, so a swapped name (gamma for beta, mean for variance) or a dropped epsilon
shows up as a large difference. Models are built once per spec and dtype (a module fixture)
and shared by the tests below, to keep the time small.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np
import pytest

import keras_impl
from shared import reference
from shared.errors import DataError
from shared.grammar import BatchNormSpec, DenseSpec, EmbeddingSpec, LayerNormSpec
from shared.recipe import TrainSpec
from shared.tolerances import TOLERANCES
from shared.weights import CanonicalWeights, fold_single_bias, random_weights
from tests.specs import GRAMMAR_NAMES, grammar_specs

DTYPES = ["float32", "float64"]
# Max abs difference from the reference, shared/tolerances.py's TOLERANCES: float32
# carries ~7 digits and a forward pass of tens of operations summed in another order than numpy
# drifts by a few ulps of values ~1 (worst measured here 1.2e-7); float64's few ulps are ~1e-15
# (worst measured 4.4e-16). A wrong name, gate or epsilon moves outputs by >= 1e-3.


@pytest.fixture(scope="module")
def built() -> dict[tuple[str, str], tuple[CanonicalWeights, keras.Model]]:
    """(name, dtype) -> (random weights, the Keras model `from_canonical` built from them)."""
    cache = {}
    for dtype in DTYPES:
        for name, spec in grammar_specs(dtype).items():
            weights = random_weights(spec, seed=len(name))  # c random: one-bias layers fold it
            cache[name, dtype] = (weights, keras_impl.from_canonical(weights))
    return cache


def padded_inputs(spec, seed: int = 0) -> np.ndarray:
    """A batch of 4 with masked steps at the end (row 0), in the middle (1), at the start (2).

    Row 3 is unmasked. Masked steps are id 0 with an Embedding, else every feature equal to the
    Masking value; without a mask the same values are ordinary inputs.
    """
    rng = np.random.default_rng(seed)
    if isinstance(spec.front, EmbeddingSpec):
        X = rng.integers(1, spec.front.vocab, size=(4, spec.time_steps))  # (batch, time) ids
        padding = 0
    else:
        X = rng.uniform(-1, 1, size=(4, spec.time_steps, spec.features))
        padding = getattr(spec.front, "mask_value", 0.0)
    X[0, -2:], X[1, 2:4], X[2, :2] = padding, padding, padding
    return X


def _gap(got: np.ndarray, expected: np.ndarray) -> float:
    assert got.shape == expected.shape
    return float(np.max(np.abs(got.astype(np.float64) - expected.astype(np.float64))))


@pytest.mark.slow
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", GRAMMAR_NAMES)
def test_outputs_match_reference_with_masked_steps_anywhere(built, name, dtype):
    weights, model = built[name, dtype]
    X = padded_inputs(weights.spec)
    got = keras_impl.predict(model, X)
    assert got.dtype == np.dtype(dtype) and got.shape == (4, *weights.spec.output_shape)
    assert _gap(got, reference.predict(weights, X)) <= TOLERANCES[dtype]


def _probe(weights: CanonicalWeights, k: int) -> CanonicalWeights:
    """Layers 0..k (front kept) with return_sequences and an identity Dense head.

    Its output is exactly the sequence layer k hands on (x @ I + 0 is exact), so Keras's
    hidden states are compared through public functions only, as compare's probes do.
    """
    spec = weights.spec
    layers = list(spec.layers[: k + 1])
    layers[-1] = dataclasses.replace(layers[-1], return_sequences=True, output_dropout=0.0)
    size = layers[-1].output_size
    probe = dataclasses.replace(
        spec, layers=tuple(layers), head=DenseSpec(size), readout=None, head_layers=()
    )
    identity = np.eye(size, dtype=spec.dtype)
    return CanonicalWeights(
        probe, weights.layers[: k + 1], identity, np.zeros(size, spec.dtype), weights.front
    )


@pytest.mark.slow
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["embedding-mask-zero", "masking-stacked-dropout"])
def test_hidden_states_match_reference_with_masked_steps_anywhere(built, name, dtype):
    """Every layer's output sequence, masked steps included (carried or zeroed as Keras does)."""
    weights, _ = built[name, dtype]
    X = padded_inputs(weights.spec)
    trace = reference.forward(weights, X)
    for k in range(len(weights.spec.layers)):
        got = keras_impl.predict(keras_impl.from_canonical(_probe(weights, k)), X)
        assert _gap(got, trace.sequences[k]) <= TOLERANCES[dtype], f"layer {k}"


@pytest.mark.slow
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", GRAMMAR_NAMES)
def test_spec_and_canonical_weights_round_trip_exactly(built, name, dtype):
    weights, model = built[name, dtype]
    assert keras_impl.spec_of(model) == weights.spec
    back = keras_impl.to_canonical(model)
    assert back.bitwise_equal(fold_single_bias(weights))  # what one-bias layers hold
    again = keras_impl.to_canonical(keras_impl.from_canonical(back))
    assert again.bitwise_equal(back)


@pytest.mark.slow
def test_every_variable_is_canonical_and_in_the_spec_dtype(built):
    """native_weights names every Keras variable; each one is some canonical array's copy."""
    weights, model = built["per-step-head", "float64"]
    native = keras_impl.native_weights(model)
    assert all(array.dtype == np.float64 for array in native.values())
    canonical = keras_impl.to_canonical(model).to_arrays()
    head_layer_arrays = {n: a for n, a in canonical.items() if n.startswith("head_layer")}
    assert len(head_layer_arrays) == 2 + 2 + 4  # layer norm, dense, batch norm
    for name, array in head_layer_arrays.items():
        assert any(np.array_equal(array, value) for value in native.values()), name


@pytest.mark.slow
@pytest.mark.parametrize("name", GRAMMAR_NAMES)
def test_keras_files_load_in_plain_keras_and_compute_the_same(built, tmp_path, name):
    weights, model = built[name, "float64"]
    path = keras_impl.save_model(model, tmp_path / "model.keras")
    plain = keras.saving.load_model(path, compile=False, safe_mode=True)  # no custom objects
    X = padded_inputs(weights.spec)
    assert np.array_equal(keras_impl.predict(plain, X), keras_impl.predict(model, X))
    assert keras_impl.spec_of(keras_impl.load_model(path)) == weights.spec


def test_predict_checks_token_ids(built):
    _, model = built["embedding", "float32"]
    with pytest.raises(DataError, match=r"token ids must be shaped \(samples, time\)"):
        keras_impl.predict(model, np.zeros((2, 6, 2), dtype=int))
    with pytest.raises(DataError, match=r"6 time steps"):
        keras_impl.predict(model, np.zeros((2, 5), dtype=int))
    with pytest.raises(DataError, match=r"in \[0, 9\)"):
        keras_impl.predict(model, np.full((2, 6), 9))
    with pytest.raises(DataError, match="whole numbers"):
        keras_impl.predict(model, np.full((2, 6), 0.5))


@pytest.mark.slow
def test_fit_takes_token_ids_and_trains_head_layers():
    """An Embedding model with a normalised MLP head trains through Keras's own fit (~4 s)."""
    spec = dataclasses.replace(
        grammar_specs("float32")["embedding"],
        head_layers=(LayerNormSpec(), DenseSpec(3, "relu"), BatchNormSpec()),
    )
    model = keras_impl.build_model(spec, seed=0)
    before = keras_impl.to_canonical(model)
    X = padded_inputs(spec)
    history = keras_impl.fit(model, X, np.ones((4, 2)), TrainSpec(epochs=1, batch_size=4))
    assert len(history.step_loss) == 1 and not history.diverged
    assert keras_impl.spec_of(model) == spec
    after = keras_impl.to_canonical(model)
    assert not np.array_equal(after.front["E"], before.front["E"])  # the embedding learned
