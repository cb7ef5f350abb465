"""Keras models written the way users write them, read into the grammar; and every refusal.

Each form is the plain Keras a tutorial or forecasting project writes (TimeDistributed(Dense),
Dropout layers between and after recurrent layers, LSTM dropout rates, Reshape for the last
step, Functional chains); `spec_of` must read the computation it denotes, and the weights must
be found where the user's layers keep them. Everything outside the grammar is one line naming
the layer.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

import keras_impl
from shared import reference
from shared.errors import ModelFileError
from shared.grammar import (
    BatchNormSpec,
    DenseSpec,
    DropoutSpec,
    EmbeddingSpec,
    LayerNormSpec,
    MaskingSpec,
)
from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import ModelSpec

layers = keras.layers
LSTM, GRU = "lstm", "gru"


def _sequential(*stack, shape=(12, 1), dtype=None):
    return keras.Sequential([keras.Input(shape, dtype=dtype), *stack])


def _functional_chain():
    inputs = keras.Input((10,), dtype="int32")
    x = layers.Embedding(20, 4, mask_zero=True)(inputs)
    x = layers.Bidirectional(layers.LSTM(3, return_sequences=True))(x)
    x = layers.Cropping1D((9, 0))(x)
    x = layers.Flatten()(x)
    x = layers.LayerNormalization()(x)
    return keras.Model(inputs, layers.Dense(1)(x))


def _rnn(kind, units, **options):
    return RecurrentLayerSpec(kind, units, **options)


# (id, the user's model, the spec it must read as)
FORMS = [
    (
        "stacked forecaster",
        lambda: _sequential(
            layers.LSTM(50, return_sequences=True),
            layers.Dropout(0.2),
            layers.LSTM(50),
            layers.Dropout(0.2),
            layers.Dense(1),
        ),
        ModelSpec(
            12,
            1,
            (_rnn(LSTM, 50, return_sequences=True, output_dropout=0.2), _rnn(LSTM, 50)),
            head_layers=(DropoutSpec(0.2),),
        ),
    ),
    (
        "lstm dropout rates",
        lambda: _sequential(layers.LSTM(32, dropout=0.2, recurrent_dropout=0.25), layers.Dense(1)),
        ModelSpec(12, 1, (_rnn(LSTM, 32, dropout=0.2, recurrent_dropout=0.25),)),
    ),
    (
        "mlp head",
        lambda: _sequential(
            layers.SimpleRNN(32), layers.Dense(16, activation="relu"), layers.Dense(1)
        ),
        ModelSpec(12, 1, (_rnn("simple", 32),), head_layers=(DenseSpec(16, "relu"),)),
    ),
    (
        "time distributed",
        lambda: _sequential(
            layers.GRU(16, return_sequences=True), layers.TimeDistributed(layers.Dense(1))
        ),
        ModelSpec(12, 1, (_rnn(GRU, 16, return_sequences=True),)),
    ),
    (
        "text classifier",
        lambda: _sequential(
            layers.Embedding(100, 8),
            layers.LSTM(16),
            layers.Dense(1, activation="sigmoid"),
            shape=(10,),
            dtype="int32",
        ),
        ModelSpec(10, 1, (_rnn(LSTM, 16),), DenseSpec(1, "sigmoid"), front=EmbeddingSpec(100, 8)),
    ),
    (
        "normalisations",
        lambda: _sequential(
            layers.GRU(8),
            layers.LayerNormalization(epsilon=1e-5),
            layers.BatchNormalization(),
            layers.Dense(1),
        ),
        ModelSpec(12, 1, (_rnn(GRU, 8),), head_layers=(LayerNormSpec(1e-5), BatchNormSpec())),
    ),
    (
        "masking, integer value",
        lambda: _sequential(layers.Masking(mask_value=0), layers.LSTM(4), layers.Dense(1)),
        ModelSpec(12, 1, (_rnn(LSTM, 4),), front=MaskingSpec(0.0)),
    ),
    (
        "last step by reshape",
        lambda: _sequential(
            layers.Bidirectional(layers.GRU(3, return_sequences=True)),
            layers.Cropping1D(cropping=(11, 0)),
            layers.Reshape((6,)),
            layers.Dense(2),
        ),
        ModelSpec(
            12,
            1,
            (_rnn(GRU, 3, return_sequences=True, bidirectional=True),),
            DenseSpec(2),
            readout="last_step",
        ),
    ),
    (
        "functional chain",
        _functional_chain,
        ModelSpec(
            10,
            1,
            (_rnn(LSTM, 3, return_sequences=True, bidirectional=True),),
            front=EmbeddingSpec(20, 4, mask_zero=True),
            readout="last_step",
            head_layers=(LayerNormSpec(),),
        ),
    ),
]


@pytest.mark.parametrize("build, expected", [f[1:] for f in FORMS], ids=[f[0] for f in FORMS])
def test_user_written_forms_read_as_the_grammar(build, expected):
    assert keras_impl.spec_of(build()) == expected


@pytest.mark.slow
@pytest.mark.parametrize("name", ["time distributed", "last step by reshape", "functional chain"])
def test_user_forms_compute_what_their_spec_says(name):
    """Weights are found inside wrappers and behind Reshape: Keras equals the reference.

    Keras's own initial weights (glorot, orthogonal; zero biases, unit gamma) read out by
    to_canonical; tolerance 1e-6 for float32 as in test_grammar.py.
    """
    build = dict((f[0], f[1]) for f in FORMS)[name]
    model = build()
    weights = keras_impl.to_canonical(model)
    rng = np.random.default_rng(0)
    if weights.spec.embedded:
        X = rng.integers(0, weights.spec.front.vocab, size=(3, weights.spec.time_steps))
    else:
        X = rng.uniform(-1, 1, size=(3, weights.spec.time_steps, weights.spec.features))
    got = keras_impl.predict(model, X)
    assert np.max(np.abs(got - reference.predict(weights, X))) <= 1e-6


def _branch():
    inputs = keras.Input((12, 1))
    left, right = layers.LSTM(3, name="left")(inputs), layers.GRU(3, name="right")(inputs)
    return keras.Model(inputs, layers.Dense(1)(layers.Add(name="add")([left, right])))


SEQ = {"return_sequences": True}
# (id, model, pattern): each refusal names the layer (and class) at fault, in one line.
REFUSED = [
    (
        "noise layer",
        lambda: _sequential(
            layers.LSTM(3), layers.GaussianNoise(0.1, name="noise"), layers.Dense(1)
        ),
        r"^layer 'noise' \(GaussianNoise\) is outside the grammar: supported are Embedding",
    ),
    ("branch", _branch, r"^layer 'add' \(Add\) is outside the grammar"),
    (
        "dropout before the first recurrent layer",
        lambda: _sequential(layers.Dropout(0.1, name="early"), layers.LSTM(3), layers.Dense(1)),
        r"^layer 'early' \(Dropout\) must follow a recurrent layer",
    ),
    (
        "two dropouts between recurrent layers",
        lambda: _sequential(
            layers.LSTM(3, **SEQ),
            layers.Dropout(0.1),
            layers.Dropout(0.1, name="again"),
            layers.LSTM(3),
            layers.Dense(1),
        ),
        r"^layer 'again' \(Dropout\) must follow a recurrent layer",
    ),
    (
        "masking not first",
        lambda: _sequential(
            layers.LSTM(3, **SEQ), layers.Masking(name="late"), layers.LSTM(3), layers.Dense(1)
        ),
        r"^layer 'late' \(Masking\) must come first",
    ),
    (
        "dense between recurrent layers",
        lambda: _sequential(
            layers.LSTM(3, **SEQ), layers.Dense(2, name="mid"), layers.LSTM(3), layers.Dense(1)
        ),
        r"^layer 'mid' \(Dense\) sits between recurrent layers",
    ),
    (
        "crop of more than the last step",
        lambda: _sequential(
            layers.Bidirectional(layers.LSTM(3, **SEQ)),
            layers.Cropping1D((10, 0), name="crop"),
            layers.Flatten(),
            layers.Dense(1),
        ),
        r"^layer 'crop' \(Cropping1D\) crops \(10, 0\): the grammar reads only the last step",
    ),
    (
        "last step of one direction",
        lambda: _sequential(
            layers.LSTM(3, **SEQ),
            layers.Cropping1D((11, 0), name="crop"),
            layers.Flatten(),
            layers.Dense(1),
        ),
        r"^layer 'crop' \(Cropping1D\) reads the last step .* Bidirectional",
    ),
    (
        "flatten of a whole sequence",
        lambda: _sequential(layers.GRU(3, **SEQ), layers.Flatten(name="flat"), layers.Dense(1)),
        r"^layer 'flat' \(Flatten\) is outside the grammar here",
    ),
    (
        "reshape to something else",
        lambda: _sequential(
            layers.Bidirectional(layers.LSTM(3, **SEQ)),
            layers.Cropping1D((11, 0)),
            layers.Reshape((3, 2), name="shape"),
            layers.Dense(1),
        ),
        r"^layer 'shape' \(Reshape\) reshapes to \(3, 2\)",
    ),
    (
        "layer norm over time",
        lambda: _sequential(
            layers.GRU(3, **SEQ), layers.LayerNormalization(axis=1, name="norm"), layers.Dense(1)
        ),
        r"^layer 'norm' \(LayerNormalization\) normalises over axis=\[?1\]?:",
    ),
    (
        "layer norm without beta",
        lambda: _sequential(
            layers.GRU(3), layers.LayerNormalization(center=False, name="norm"), layers.Dense(1)
        ),
        r"^layer 'norm' \(LayerNormalization\) has center=False",
    ),
    (
        "rms scaling",
        lambda: _sequential(
            layers.GRU(3), layers.LayerNormalization(rms_scaling=True, name="norm"), layers.Dense(1)
        ),
        r"^layer 'norm' \(LayerNormalization\) has rms_scaling=True",
    ),
    (
        "batch renorm",
        lambda: _sequential(
            layers.GRU(3), layers.BatchNormalization(renorm=True, name="norm"), layers.Dense(1)
        ),
        r"^layer 'norm' \(BatchNormalization\) has renorm=True",
    ),
    (
        "batch norm without gamma",
        lambda: _sequential(
            layers.GRU(3), layers.BatchNormalization(scale=False, name="norm"), layers.Dense(1)
        ),
        r"^layer 'norm' \(BatchNormalization\) has scale=False",
    ),
    (
        "time distributed layer norm",
        lambda: _sequential(
            layers.GRU(3, **SEQ),
            layers.TimeDistributed(layers.LayerNormalization(), name="wrap"),
            layers.Dense(1),
        ),
        r"^layer 'wrap' \(TimeDistributed\) wraps layer '\w+' \(LayerNormalization\)",
    ),
    (
        "dropout noise shape",
        lambda: _sequential(
            layers.LSTM(3), layers.Dropout(0.1, noise_shape=(1, 3), name="drop"), layers.Dense(1)
        ),
        r"^layer 'drop' \(Dropout\) has noise_shape",
    ),
    (
        "embedding regularizer",
        lambda: _sequential(
            layers.Embedding(5, 2, embeddings_regularizer="l2", name="embed"),
            layers.LSTM(3),
            layers.Dense(1),
            shape=(12,),
            dtype="int32",
        ),
        r"^layer 'embed' \(Embedding\) sets embeddings_regularizer",
    ),
    (
        "ends in a normalisation",
        lambda: _sequential(layers.LSTM(3), layers.LayerNormalization(name="norm")),
        r"^layer 'norm' \(LayerNormalization\) ends the model, but the grammar ends with a Dense",
    ),
    (
        "no recurrent layer",
        lambda: _sequential(layers.Flatten(), layers.Dense(1)),
        r"has no recurrent layer",
    ),
]


@pytest.mark.parametrize("build, pattern", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_refusals_are_one_line_naming_the_layer(build, pattern):
    with pytest.raises(ModelFileError, match=pattern) as caught:
        keras_impl.spec_of(build())
    assert "\n" not in str(caught.value)
