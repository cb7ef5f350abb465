"""keras_impl/tutorial.py is a learner's program: it must run, and every number it prints is true.

The program runs end to end (2 epochs) in a subprocess exactly as `python -m keras_impl.tutorial`
runs; its printed RMSEs are then recomputed from the model file it saved and from test windows
built here, and part 1's hand computation is checked against the network and the numpy reference.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_impl.tutorial import create_RNN
from shared.reference import predict as reference_predict
from shared.spec import tutorial_spec
from shared.weights import random_weights
from tests.tutorial_helpers import (
    PRINT_PRECISION,
    printed_predictions,
    printed_rmse,
    rmse,
    tutorial_windows,
)

# A float32 model against the numpy reference in float32: a dozen tanh steps of
# values ~1 drift by a few ulps (~1e-7 each); 1e-6 is the project's float32 tolerance.
FLOAT32_TOLERANCE = 1e-6


@pytest.mark.slow
def test_program_writes_its_model_and_plot(keras_tutorial_run):
    out, stdout = keras_tutorial_run
    assert sorted(path.name for path in out.iterdir()) == [
        "tutorial_keras.keras",
        "tutorial_keras.png",
    ]
    assert (out / "tutorial_keras.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Epoch 2/2" in stdout


@pytest.mark.slow
def test_printed_rmse_is_the_saved_models(keras_tutorial_run):
    out, stdout = keras_tutorial_run
    model = keras.saving.load_model(out / "tutorial_keras.keras", safe_mode=True)
    trainX, trainY, testX, testY = tutorial_windows()
    for part, X, Y in (("Train", trainX, trainY), ("Test", testX, testY)):
        recomputed = rmse(Y, model.predict(X, verbose=0))
        assert abs(printed_rmse(stdout, part) - recomputed) <= PRINT_PRECISION, part
        assert 0.0 < recomputed < 0.5  # a trained tanh forecaster of values in [0, 1]


@pytest.mark.slow
def test_part1_hand_computation_is_the_networks(keras_tutorial_run):
    _out, stdout = keras_tutorial_run
    network, ours = printed_predictions(stdout)
    # both printed to ~8 significant digits of values ~1: 1e-6 covers float32 vs float64 rounding
    assert abs(network - ours) <= FLOAT32_TOLERANCE
    assert abs(network) > 1e-3  # the demo's output is not a trivial zero


@pytest.mark.slow
def test_create_rnn_is_the_reference_model():
    # create_RNN(3, 1, (12, 1), ["tanh", "tanh"]) is the spec's model: random weights (biases
    # included, since Keras starts them at zero) must give the numpy reference's outputs.
    weights = random_weights(tutorial_spec("float32"), seed=5)
    layer = weights.layers[0]["forward"]
    model = create_RNN(3, 1, (12, 1), activation=["tanh", "tanh"])
    bias = layer.b["h"] + layer.c["h"]  # Keras's one bias carries both canonical biases
    model.set_weights([layer.W["h"], layer.U["h"], bias, weights.W_y, weights.b_y])
    inputs = np.random.default_rng(1).uniform(0, 1, size=(8, 12, 1)).astype(np.float32)
    outputs = model.predict(inputs, verbose=0)  # (8, 1)
    assert outputs.shape == (8, 1) and outputs.dtype == np.float32
    assert np.max(np.abs(outputs - reference_predict(weights, inputs))) <= FLOAT32_TOLERANCE
