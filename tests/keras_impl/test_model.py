"""Building Keras models from specs, and reading specs back from any Keras model."""

from __future__ import annotations

import keras
import pytest

import keras_impl
from shared.errors import ModelFileError, SpecError
from shared.spec import ModelSpec, tutorial_spec
from tests.specs import KERAS_SIZES, KERAS_STRUCTURES, LAYER_KINDS, make_spec


def test_create_rnn_is_the_tutorials_model():
    model = keras_impl.create_rnn(3, 1, (12, 1), ["tanh", "tanh"])
    # 3 * (1 + 3 + 1) recurrent + (3 + 1) dense parameters, as the tutorial prints
    assert model.count_params() == 19
    assert [type(layer) for layer in model.layers] == [keras.layers.SimpleRNN, keras.layers.Dense]
    assert model.loss is not None and isinstance(model.optimizer, keras.optimizers.Adam)
    assert keras_impl.spec_of(model) == tutorial_spec()


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("arrangement", KERAS_STRUCTURES)
@pytest.mark.parametrize("layer", [kw for _, kw in LAYER_KINDS], ids=[n for n, _ in LAYER_KINDS])
def test_spec_of_reads_back_what_build_model_built(layer, arrangement, dtype):
    spec = make_spec(layer, arrangement, dtype, sizes=KERAS_SIZES)
    model = keras_impl.build_model(spec)
    assert keras_impl.spec_of(model) == spec
    assert all(weight.dtype == dtype for weight in model.weights)


def test_layers_have_predictable_names():
    spec = make_spec({"kind": "lstm"}, "stacked", sizes=KERAS_SIZES)
    assert [layer.name for layer in keras_impl.build_model(spec).layers] == [
        "rnn_0",
        "rnn_1",
        "head",
    ]
    bidirectional = keras_impl.build_model(
        make_spec({"kind": "gru"}, "bidirectional", sizes=KERAS_SIZES)
    )
    wrapper = bidirectional.get_layer("rnn_0")
    assert (wrapper.forward_layer.name, wrapper.backward_layer.name) == (
        "forward_rnn_0_gru",
        "backward_rnn_0_gru",
    )


def test_float64_leaves_keras_float_setting_alone():
    model = keras_impl.build_model(tutorial_spec("float64"))
    assert keras.config.floatx() == "float32"
    assert model.optimizer.learning_rate.dtype == "float64"  # compiled as a float64 user would


def test_same_seed_same_initial_weights():
    first = keras_impl.to_canonical(keras_impl.build_model(tutorial_spec(), seed=4))
    second = keras_impl.to_canonical(keras_impl.build_model(tutorial_spec(), seed=4))
    other = keras_impl.to_canonical(keras_impl.build_model(tutorial_spec(), seed=5))
    assert first.bitwise_equal(second) and not first.bitwise_equal(other)


def test_hand_written_models_are_read():
    """The tutorial's plain Keras code, and a functional stack, read back as specs."""
    tutorial = keras.Sequential(
        [
            keras.Input((12, 1)),
            keras.layers.SimpleRNN(3, activation="tanh"),
            keras.layers.Dense(1, activation="tanh"),
        ]
    )
    assert keras_impl.spec_of(tutorial) == tutorial_spec()
    inputs = keras.Input((8, 2))
    hidden = keras.layers.Bidirectional(keras.layers.GRU(3, return_sequences=True))(inputs)
    hidden = keras.layers.LSTM(2)(hidden)
    functional = keras.Model(inputs, keras.layers.Dense(4, activation="relu")(hidden))
    spec = keras_impl.spec_of(functional)
    assert [(layer.kind, layer.bidirectional) for layer in spec.layers] == [
        ("gru", True),
        ("lstm", False),
    ]
    assert (spec.time_steps, spec.features, spec.head.units, spec.head.activation) == (
        8,
        2,
        4,
        "relu",
    )


def _sequential(*layers, shape=(12, 1)):
    return keras.Sequential([keras.Input(shape), *layers])


UNSUPPORTED = [
    (
        "conv1d",
        lambda: _sequential(
            keras.layers.Conv1D(2, 3, name="conv1d"),
            keras.layers.SimpleRNN(3),
            keras.layers.Dense(1),
        ),
        r"^layer 'conv1d' \(Conv1D\) is outside the grammar: supported are Embedding, Masking, "
        r"SimpleRNN, LSTM, GRU, Bidirectional, Dropout, Dense, .*LayerNormalization",
    ),
    (
        "no bias",
        lambda: _sequential(keras.layers.SimpleRNN(3, use_bias=False), keras.layers.Dense(1)),
        "use_bias=False",
    ),
    (
        "go_backwards",
        lambda: _sequential(keras.layers.GRU(3, go_backwards=True), keras.layers.Dense(1)),
        "go_backwards=True",
    ),
    (
        "zero output for mask",
        lambda: _sequential(
            keras.layers.Masking(0.0),
            keras.layers.LSTM(3, return_sequences=True, zero_output_for_mask=True, name="enc"),
            keras.layers.Dense(1),
        ),
        r"^layer 'enc' \(LSTM\) has zero_output_for_mask=True",
    ),
    (
        "hard sigmoid gates",
        lambda: _sequential(
            keras.layers.GRU(3, recurrent_activation="hard_sigmoid"), keras.layers.Dense(1)
        ),
        "recurrent_activation='hard_sigmoid'",
    ),
    (
        "relu lstm",
        lambda: _sequential(keras.layers.LSTM(3, activation="relu"), keras.layers.Dense(1)),
        "activation must be 'tanh'",
    ),
    (
        "merge sum",
        lambda: _sequential(
            keras.layers.Bidirectional(keras.layers.LSTM(3), merge_mode="sum"),
            keras.layers.Dense(1),
        ),
        "merge_mode='sum'",
    ),
    (
        "stateful",
        lambda: keras.Sequential(
            [
                keras.Input((12, 1), batch_size=2),
                keras.layers.LSTM(3, stateful=True),
                keras.layers.Dense(1),
            ]
        ),
        "stateful=True",
    ),
    ("no head", lambda: _sequential(keras.layers.LSTM(3)), "ends the model"),
    (
        "open time axis",
        lambda: _sequential(keras.layers.LSTM(3), keras.layers.Dense(1), shape=(None, 1)),
        "every size but the batch fixed",
    ),
    (
        "no input",
        lambda: keras.Sequential([keras.layers.LSTM(3), keras.layers.Dense(1)]),
        "no defined input shape",
    ),
    (
        "mixed precision",
        lambda: _sequential(
            keras.layers.SimpleRNN(3, dtype="mixed_float16"), keras.layers.Dense(1)
        ),
        "mixed_float16",
    ),
    (
        "regularizer",
        lambda: _sequential(
            keras.layers.SimpleRNN(3), keras.layers.Dense(1, kernel_regularizer="l2")
        ),
        "kernel_regularizer",
    ),
]


@pytest.mark.parametrize(
    "build, message", [c[1:] for c in UNSUPPORTED], ids=[c[0] for c in UNSUPPORTED]
)
def test_models_outside_the_specs_are_named(build, message):
    with pytest.raises(ModelFileError, match=message):
        keras_impl.spec_of(build())


def _return_state_model() -> keras.Model:
    inputs = keras.Input((12, 1))
    sequence, _, _ = keras.layers.LSTM(3, return_sequences=True, return_state=True, name="enc")(
        inputs
    )
    return keras.Model(inputs, keras.layers.Dense(1)(keras.layers.LSTM(2)(sequence)))


def _merge_none_model() -> keras.Model:
    inputs = keras.Input((12, 1))
    forward, _ = keras.layers.Bidirectional(keras.layers.GRU(3), merge_mode=None, name="bi")(inputs)
    return keras.Model(inputs, keras.layers.Dense(1)(forward))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (_return_state_model, r"^layer 'enc' \(LSTM\) returns 3 tensors \(return_state=True\)"),
        (_merge_none_model, r"^layer 'bi' \(Bidirectional\) returns 2 tensors \(merge_mode=None\)"),
    ],
    ids=["return_state", "merge_mode_none"],
)
def test_a_layer_returning_several_tensors_is_named_not_the_model(build, message):
    with pytest.raises(ModelFileError, match=message):
        keras_impl.spec_of(build())


def test_a_shared_layer_is_not_a_stack():
    inputs = keras.Input((12, 1))
    layer = keras.layers.SimpleRNN(1, return_sequences=True)
    outputs = keras.layers.Dense(1)(layer(layer(inputs)))
    with pytest.raises(ModelFileError, match="used twice"):
        keras_impl.spec_of(keras.Model(inputs, outputs))


def test_bad_specs_surface_as_spec_errors():
    data = make_spec({"kind": "lstm"}, sizes=KERAS_SIZES).to_dict()
    data["layers"][0]["kind"] = "transformer"
    with pytest.raises(SpecError, match="kind"):
        keras_impl.build_model(ModelSpec.from_dict(data))
    with pytest.raises(SpecError, match="activation"):
        keras_impl.create_rnn(3, 1, (12, 1), ["tanh", "softmaxx"])
    with pytest.raises(SpecError, match="two activations"):
        keras_impl.create_rnn(3, 1, (12, 1), ["tanh"])
