"""The models people write port through the command line, both ways, and agree.

Each Keras model here is written the way public tutorials write it (Sequential or Functional,
`TimeDistributed`, `Dropout` between layers, `mask_zero`...), never with rnn-parity's builders,
and every weight is set random and non-constant (default initialisers give zero biases, unit
variances and gammas, which would hide a swapped or dropped parameter). Each model is saved as
`.keras`, ported with `rnn-parity port` to a torch file and back to `.keras`, and the final file,
loaded by plain Keras, must compute what the user's own model computes on inputs padded at the
end, in the middle and at the start where it masks.

Tolerances: 1e-6 in float32, 1e-12 in float64, as everywhere (shared/tolerances.py).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from compare.cli import main
from compare.port.agreement import random_inputs
from compare.port.shapes import SHAPES
from shared.tolerances import TOLERANCES
from shared.weights import random_weights

pytestmark = pytest.mark.slow


def _randomise(model, seed: int = 0) -> None:
    """Every variable uniform in +-0.5 (variances in [0.5, 1.5), gammas around 1)."""
    rng = np.random.default_rng(seed)
    values = []
    for variable in model.weights:
        shape, path = tuple(variable.shape), variable.path
        value = rng.uniform(-0.5, 0.5, size=shape)
        if "variance" in path:
            value = rng.uniform(0.5, 1.5, size=shape)
        elif "gamma" in path:
            value = 1 + value
        values.append(value.astype(variable.dtype))
    model.set_weights(values)


def _user_models(keras, dtype: str) -> dict:
    """The shapes issue 19 found refused, written as users write them."""
    layers = keras.layers

    def sequential(*stack, inputs=(12, 1), input_dtype=None):
        return keras.Sequential([keras.Input(inputs, dtype=input_dtype or dtype), *stack])

    functional_input = keras.Input((12, 1), dtype=dtype)
    normed = layers.LayerNormalization(dtype=dtype)(layers.LSTM(6, dtype=dtype)(functional_input))
    functional = keras.Model(functional_input, layers.Dense(1, dtype=dtype)(normed))
    d = {"dtype": dtype}
    return {
        "stacked forecaster": sequential(
            layers.LSTM(8, return_sequences=True, **d),
            layers.Dropout(0.2, **d),
            layers.LSTM(8, **d),
            layers.Dropout(0.2, **d),
            layers.Dense(1, **d),
        ),
        "lstm dropouts": sequential(
            layers.LSTM(6, dropout=0.2, recurrent_dropout=0.2, **d), layers.Dense(1, **d)
        ),
        "mlp head": sequential(
            layers.SimpleRNN(8, **d), layers.Dense(4, activation="relu", **d), layers.Dense(1, **d)
        ),
        "time distributed": sequential(
            layers.GRU(4, return_sequences=True, **d),
            layers.TimeDistributed(layers.Dense(1, **d), **d),
        ),
        "text classifier": sequential(
            layers.Embedding(30, 8, **d),
            layers.LSTM(6, **d),
            layers.Dense(1, activation="sigmoid", **d),
            inputs=(10,),
            input_dtype="int32",
        ),
        "layer norm (functional)": functional,
        "batch norm": sequential(
            layers.GRU(6, **d), layers.BatchNormalization(**d), layers.Dense(1, **d)
        ),
        "masking": sequential(
            layers.Masking(0.0, **d), layers.LSTM(5, **d), layers.Dense(1, **d), inputs=(12, 2)
        ),
        "embedding mask_zero": sequential(
            layers.Embedding(30, 8, mask_zero=True, **d),
            layers.Bidirectional(layers.GRU(4, **d), **d),
            layers.Dense(1, **d),
            inputs=(10,),
            input_dtype="int32",
        ),
    }


NAMES = [
    "stacked forecaster",
    "lstm dropouts",
    "mlp head",
    "time distributed",
    "text classifier",
    "layer norm (functional)",
    "batch norm",
    "masking",
    "embedding mask_zero",
]


def _plain_keras_outputs(path, inputs):
    import keras

    model = keras.saving.load_model(path, safe_mode=True)
    return np.asarray(model.predict(inputs, verbose=0))


# Every shape goes through .pt; two (one stacked, one masked) also through .ckpt and .safetensors.
CASES = [(name, ".pt") for name in NAMES] + [
    (name, ext)
    for name in ("stacked forecaster", "embedding mask_zero")
    for ext in (".ckpt", ".safetensors")
]


@pytest.mark.parametrize("name, torch_ext", CASES)
def test_user_keras_models_port_to_torch_and_back(impls, tmp_path, name, torch_ext, capsys):
    keras_impl, _ = impls
    import keras

    dtype = "float32"
    model = _user_models(keras, dtype)[name]
    _randomise(model)
    source = tmp_path / "user.keras"
    model.save(source)
    torch_file, back = tmp_path / f"user{torch_ext}", tmp_path / "back.keras"
    assert main(["port", str(source), str(torch_file)]) == 0
    assert main(["port", str(torch_file), str(back)]) == 0
    spec = keras_impl.spec_of(model)
    inputs = random_inputs(spec, batch=16, seed=3)
    expected = np.asarray(model.predict(inputs, verbose=0))
    gap = np.max(np.abs(_plain_keras_outputs(back, inputs) - expected))
    assert gap <= TOLERANCES[dtype], f"{name}: {spec.describe()}: {gap:.2e}"
    assert "destination vs reference" in capsys.readouterr().out


def test_the_stacked_forecaster_ports_from_legacy_h5(impls, tmp_path):
    import keras

    model = _user_models(keras, "float32")["stacked forecaster"]
    _randomise(model, seed=2)
    source = tmp_path / "forecaster.h5"
    keras.saving.save_model(model, source)  # Keras's legacy HDF5 saver
    assert main(["port", str(source), str(tmp_path / "forecaster.pt")]) == 0
    assert main(["port", str(tmp_path / "forecaster.pt"), str(tmp_path / "back.keras")]) == 0
    inputs = np.random.default_rng(0).normal(size=(8, 12, 1)).astype("float32")
    gap = np.max(np.abs(_plain_keras_outputs(tmp_path / "back.keras", inputs) - model(inputs)))
    assert gap <= TOLERANCES["float32"]


def _refused_models(keras) -> dict:
    """Models the model graph refuses, each with the words its one-line refusal must hold."""
    layers = keras.layers
    batch_input = keras.Input(batch_shape=(4, 12, 1))
    stateful = keras.Model(batch_input, layers.Dense(1)(layers.LSTM(3, stateful=True)(batch_input)))
    inputs = keras.Input((12, 1))
    shared = layers.Dense(3, name="shared_dense")
    twice = keras.Model(
        inputs, layers.Dense(1)(layers.LSTM(2)(layers.Add()([shared(inputs), shared(inputs)])))
    )
    doubled = layers.Lambda(lambda x: x * 2, name="double")(inputs)
    lambda_model = keras.Model(inputs, layers.Dense(1)(layers.LSTM(2)(doubled)))
    wrapped_cell = layers.RNN(layers.LSTMCell(2), name="cell_rnn")(inputs)  # a cell, not a layer
    cell_model = keras.Model(inputs, layers.Dense(1)(wrapped_cell))
    return {
        "stateful": (
            stateful,
            r"layer 'lstm\w*' \(LSTM\) has stateful=True.*cannot carry the state",
        ),
        "shared layer": (twice, r"layer 'shared_dense' \(Dense\) is called 2 times"),
        "lambda": (lambda_model, r"model.keras: layer 'double' \(Lambda\) holds Python code"),
        "cell": (cell_model, r"layer 'cell_rnn' \(RNN\) is not supported: supported are"),
    }


@pytest.mark.parametrize("name", ["stateful", "shared layer", "lambda", "cell"])
def test_models_outside_the_graph_are_one_line_and_leave_no_file(impls, tmp_path, capsys, name):
    import keras

    model, pattern = _refused_models(keras)[name]
    source = tmp_path / "model.keras"
    model.save(source)
    destination = tmp_path / "out.pt"
    assert main(["port", str(source), str(destination)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1, error
    assert re.search(pattern, error), error
    assert not destination.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]


def _once_refused_models(keras) -> dict:
    """Models the chain grammar refused, which the model graph now reads."""
    layers = keras.layers
    branch_input = keras.Input((12, 1))
    left, right = layers.LSTM(3)(branch_input), layers.GRU(3)(branch_input)
    return {
        "conv1d": keras.Sequential(
            [keras.Input((12, 1)), layers.Conv1D(2, 3), layers.LSTM(3), layers.Dense(1)]
        ),
        "branch": keras.Model(branch_input, layers.Dense(1)(layers.Add()([left, right]))),
        "noise": keras.Sequential(
            [keras.Input((12, 1)), layers.LSTM(3), layers.GaussianNoise(0.1), layers.Dense(1)]
        ),
    }


@pytest.mark.parametrize("name", ["conv1d", "branch", "noise"])
def test_models_the_chain_refused_port_as_graphs_and_back(impls, tmp_path, capsys, name):
    import keras

    model = _once_refused_models(keras)[name]
    _randomise(model)
    source, torch_file, back = (
        tmp_path / "model.keras",
        tmp_path / "model.pt",
        tmp_path / "back.keras",
    )
    model.save(source)
    assert main(["port", str(source), str(torch_file)]) == 0
    assert "a model graph of" in capsys.readouterr().out
    assert main(["port", str(torch_file), str(back)]) == 0
    inputs = np.random.default_rng(0).normal(size=(8, 12, 1)).astype("float32")
    gap = np.max(np.abs(_plain_keras_outputs(back, inputs) - np.asarray(model(inputs))))
    assert gap <= TOLERANCES["float32"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_shape_agrees_three_ways_with_hidden_states(impls, shape, dtype):
    from compare.port.agreement import measure

    spec = SHAPES[shape](dtype)
    report = measure(random_weights(spec, seed=5), random_inputs(spec, 16, seed=5))
    bad = [row for row in report.rows if not row.ok]
    assert not bad, f"{spec.describe()}:\n{report.format_table()}"
    assert any(row.quantity.startswith("layer 0") for row in report.rows)


def test_check_runs_any_spec_from_json(impls, tmp_path, capsys):
    path = tmp_path / "model.json"
    path.write_text(SHAPES["embedding + mask_zero"]("float64").to_json())
    assert main(["check", "--spec", str(path), "--batch", "8"]) == 0
    out = capsys.readouterr().out
    assert "embedding(30, 8, mask_zero) -> lstm(4) -> dense(1, sigmoid)" in out
    assert "all agree (tolerance 1e-12 x max(1, max |values|) per quantity)" in out


@pytest.mark.parametrize(
    "text, message", [(None, "no such spec file"), ("{", "not valid JSON"), ('{"x": 1}', "unknown")]
)
def test_check_spec_errors_name_the_file(tmp_path, capsys, text, message):
    path = tmp_path / "bad.json"
    if text is not None:
        path.write_text(text)
    assert main(["check", "--spec", str(path)]) == 2
    error = capsys.readouterr().err
    assert str(path) in error and message in error
