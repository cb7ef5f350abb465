"""Legacy whole-model .h5 files, as Keras's own HDF5 saver writes them: the grammar loads, and
every refusal is the reader's own, made before Keras could run anything from the file.

Keras's HDF5 loader rebuilds Lambda layers and serialized functions from the file, so
`keras_impl.legacy` checks the stored config first. To prove that each refusal below comes from
that check and not from Keras failing later, the tests replace Keras's loaders with a function
that fails the test if it is ever called.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_impl
from shared.errors import ModelFileError
from shared.weights import random_weights
from tests.specs import grammar_specs

layers = keras.layers


def _stacked_forecaster() -> keras.Model:
    """The classic forecaster: LSTM(return_sequences)-Dropout-LSTM-Dropout-Dense, Sequential."""
    return keras.Sequential(
        [
            keras.Input((12, 1)),
            layers.LSTM(8, return_sequences=True),
            layers.Dropout(0.2),
            layers.LSTM(8),
            layers.Dropout(0.2),
            layers.Dense(1),
        ]
    )


def _functional_of_the_grammar(mask_zero: bool = False) -> keras.Model:
    """A Functional chain with most new kinds: Embedding, last step, both norms."""
    inputs = keras.Input((10,), dtype="int32")
    x = layers.Embedding(20, 4, mask_zero=mask_zero)(inputs)
    x = layers.Bidirectional(layers.GRU(3, return_sequences=True, dropout=0.1))(x)
    x = layers.Cropping1D((9, 0))(x)
    x = layers.Flatten()(x)
    x = layers.LayerNormalization(epsilon=1e-5)(x)
    x = layers.Dense(4, activation="relu")(x)
    x = layers.BatchNormalization()(x)
    return keras.Model(inputs, layers.Dense(1)(x))


def _randomised(model: keras.Model) -> keras.Model:
    """The model with random, non-constant weights (BatchNorm variances kept positive)."""
    rng = np.random.default_rng(0)
    model.set_weights([rng.uniform(0.1, 0.9, w.shape).astype(w.dtype) for w in model.get_weights()])
    return model


@pytest.mark.slow
@pytest.mark.parametrize(
    "build", [_stacked_forecaster, _functional_of_the_grammar], ids=["sequential", "functional"]
)
def test_grammar_models_from_the_legacy_saver_load_and_compute_the_same(tmp_path, build):
    model = _randomised(build())
    path = tmp_path / "model.h5"
    model.save(path)  # Keras's legacy HDF5 saver, as Keras 2 users wrote their files
    loaded = keras_impl.load_model(path)
    assert keras_impl.spec_of(loaded) == keras_impl.spec_of(model)
    shape = (3, *model.inputs[0].shape[1:])
    X = np.random.default_rng(1).integers(1, 20, size=shape)  # token ids or values, both fine
    assert np.array_equal(keras_impl.predict(loaded, X), keras_impl.predict(model, X))


def test_a_built_grammar_model_round_trips_through_h5(tmp_path):
    """Every new kind at once through .h5: a masked last-step model from build_model."""
    weights = random_weights(grammar_specs("float64")["masking-last-step"], seed=3)
    model = keras_impl.from_canonical(weights)
    model.save(tmp_path / "model.h5")
    loaded = keras_impl.load_model(tmp_path / "model.h5")
    assert keras_impl.to_canonical(loaded).bitwise_equal(keras_impl.to_canonical(model))


def _never(*args, **kwargs):
    raise AssertionError("Keras's loader was reached: the refusal was not the reader's own")


@pytest.fixture
def keras_loaders_forbidden(monkeypatch):
    """Keras's model loaders, and the legacy HDF5 functions they call, fail the test if used."""
    from keras.src.legacy.saving import legacy_h5_format, saving_utils

    monkeypatch.setattr(keras.models, "load_model", _never)
    monkeypatch.setattr(keras.saving, "load_model", _never)
    monkeypatch.setattr(legacy_h5_format, "load_model_from_hdf5", _never)
    monkeypatch.setattr(saving_utils, "model_from_config", _never)


def double(x):
    """A user's own activation: Keras's saver writes it as a serialized function."""
    return 2 * x


class Forecaster(keras.Sequential):
    """A model class of the user's own (Keras saves its name as the model class)."""


def _lambda_layer() -> keras.Model:
    inputs = keras.Input((12, 1))
    sequence = layers.LSTM(3, return_sequences=True)(inputs)
    last = layers.Lambda(lambda x: x[:, -1], name="last")(sequence)
    return keras.Model(inputs, layers.Dense(1)(last))


def _nested_function() -> keras.Model:
    # Dense is allowed; its activation is a function the file would have to rebuild
    return keras.Sequential(
        [keras.Input((12, 1)), layers.LSTM(3), layers.Dense(1, activation=double)]
    )


def _nested_lambda() -> keras.Model:
    return keras.Sequential(
        [keras.Input((12, 1)), layers.GRU(3), layers.Dense(1, activation=lambda x: x + 1)]
    )


def _own_class() -> keras.Model:
    return Forecaster([keras.Input((12, 1)), layers.LSTM(3), layers.Dense(1)])


def _wrapped_noise() -> keras.Model:
    # no reader knows ActivityRegularization, so it is refused even inside the wrapper
    wrapped = layers.TimeDistributed(layers.ActivityRegularization(name="noise"))
    return keras.Sequential([keras.Input((12, 1)), layers.GRU(3, return_sequences=True), wrapped])


REFUSED = [
    (
        "masked functional",  # Keras writes its mask operation, then cannot read it back
        lambda: _functional_of_the_grammar(mask_zero=True),
        r"layer 'not_equal\w*' \(NotEqual\) computes the mask of a Functional model.*\.keras",
    ),
    ("lambda layer", _lambda_layer, r"layer 'last' \(Lambda\) is not allowed in a legacy \.h5"),
    (
        "function in a Dense",
        _nested_function,
        r"layer 'dense\w*' \(Dense\) holds serialized Python code \(function in config\.activ",
    ),
    (
        "lambda in a Dense",
        _nested_lambda,
        r"layer 'dense\w*' \(Dense\) holds serialized Python code \(bytecode in config\.activ",
    ),
    ("own model class", _own_class, r"model class 'Forecaster' is not allowed"),
    (
        "layer inside a wrapper",
        _wrapped_noise,
        r"layer 'noise' \(ActivityRegularization\) is not allowed",
    ),
]


@pytest.mark.parametrize("build, pattern", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refusals_are_the_readers_own(tmp_path, build, pattern, request):
    path = tmp_path / "model.h5"
    build().save(path)  # written before Keras's loaders are taken away
    request.getfixturevalue("keras_loaders_forbidden")
    with pytest.raises(ModelFileError, match=pattern) as caught:
        keras_impl.load_model(path)
    assert "model.h5" in str(caught.value) and "\n" not in str(caught.value)


def test_legacy_files_may_hold_exactly_the_classes_the_readers_read():
    """One list: a class a translator learns is allowed in a legacy file, and nothing else."""
    import keras_impl.graph.translators  # noqa: F401 (fills the graph's table)
    from keras_impl.graph.translators import table as graph_table
    from keras_impl.legacy import LAYER_CLASSES
    from keras_impl.translators import table as chain_table

    readable = {
        cls.__name__
        for cls in (*chain_table.BY_KERAS, *graph_table.BY_KERAS)
        if issubclass(cls, keras.layers.Layer)  # ops (keras.ops.sum, ...) are no layer class
    }
    structural = {"InputLayer", "Cropping1D", "Flatten", "Reshape"}
    assert readable | structural == LAYER_CLASSES
