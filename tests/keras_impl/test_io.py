"""Saving and loading .keras files: exact round trips, and every bad file refused in one line."""

from __future__ import annotations

import zipfile

import keras
import numpy as np
import pytest

import keras_impl
from shared.errors import ModelFileError
from shared.weights import random_weights
from tests.specs import KERAS_SIZES, make_spec


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_gives_identical_predictions(tmp_path, dtype):
    spec = make_spec({"kind": "gru"}, "stacked", dtype, sizes=KERAS_SIZES)
    model = keras_impl.from_canonical(random_weights(spec, seed=2))
    path = keras_impl.save_model(model, tmp_path / "model.keras")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.keras"]  # no temporary left
    loaded = keras_impl.load_model(path)
    X = np.random.default_rng(0).uniform(-1, 1, size=(3, 12, 2))
    assert np.array_equal(keras_impl.predict(loaded, X), keras_impl.predict(model, X))
    assert keras_impl.spec_of(loaded) == spec
    assert loaded.optimizer is not None  # compiled, ready for fit or evaluate


def test_save_refuses_other_suffixes(tmp_path):
    model = keras_impl.create_rnn(3, 1, (12, 1), ["tanh", "tanh"])
    with pytest.raises(ModelFileError, match=r"must end in \.keras"):
        keras_impl.save_model(model, tmp_path / "model.tf")
    with pytest.raises(ModelFileError, match=r"legacy HDF5 \(\.h5\) is read, never written"):
        keras_impl.save_model(model, tmp_path / "model.h5")


def _text_file(tmp_path):
    path = tmp_path / "notes.keras"
    path.write_text("not a model")
    return path


def _truncated(tmp_path):
    path = keras_impl.save_model(
        keras_impl.create_rnn(3, 1, (12, 1), ["tanh", "tanh"]), tmp_path / "whole.keras"
    )
    data = path.read_bytes()
    cut = tmp_path / "cut.keras"
    cut.write_bytes(data[: len(data) // 2])
    return cut


def _other_zip(tmp_path):
    path = tmp_path / "other.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "a zip, but not a Keras model")
    return path


def _conv_model(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((12, 1)),
            keras.layers.Conv1D(2, 3, name="conv1d"),
            keras.layers.LSTM(3),
            keras.layers.Dense(1),
        ]
    )
    path = tmp_path / "conv.keras"
    model.save(path)  # plain Keras: save_model itself refuses models outside the specs
    return path


BAD_FILES = [
    ("missing", lambda tmp_path: tmp_path / "absent.keras", "no such model file"),
    ("text", _text_file, "not a zip archive"),
    ("truncated", _truncated, "not a zip archive|corrupt"),
    ("other zip", _other_zip, r"not a Keras model \(no config\.json\)"),
    ("conv1d", _conv_model, r"layer 'conv1d' \(Conv1D\) is outside the grammar"),
]


@pytest.mark.parametrize("make, message", [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_bad_files_are_refused_naming_file_and_reason(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(ModelFileError, match=message) as caught:
        keras_impl.load_model(path)
    assert path.name in str(caught.value)
    error = caught.value  # one line, no chained Keras traceback behind it
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
