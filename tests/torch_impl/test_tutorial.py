"""torch_impl/tutorial.py is a learner's program: it must run, and every number it prints is true.

The program runs end to end (2 epochs) in a subprocess exactly as `python -m torch_impl.tutorial`
runs; its printed RMSEs are recomputed from the Lightning checkpoint it saved (read with
`weights_only=True`) and test windows built here. Its two modules, the nn.RNN forecaster and the
explicit linear loop of part 1, are checked against the numpy reference in float32 and float64.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shared.recurrent_spec import RecurrentLayerSpec
from shared.reference import predict as reference_predict
from shared.spec import DenseSpec, ModelSpec, tutorial_spec
from shared.tolerances import TOLERANCES
from shared.weights import random_weights
from tests.tutorial_helpers import (
    PRINT_PRECISION,
    printed_predictions,
    printed_rmse,
    rmse,
    tutorial_state_dict,
    tutorial_windows,
)
from torch_impl.tutorial import LinearRNN, TutorialRNN

# float32: a dozen steps of values ~1 drift by a few ulps (~1e-7 each), so 1e-6; float64: the
# same drift is ~1e-15, so 1e-12 is strict and safe (the project's tolerances).


@pytest.mark.slow
def test_program_writes_its_checkpoint_and_plot(torch_tutorial_run):
    out, stdout = torch_tutorial_run
    assert sorted(path.name for path in out.iterdir()) == [
        "tutorial_torch.ckpt",
        "tutorial_torch.png",
    ]
    assert (out / "tutorial_torch.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Epoch 2/2 - loss: " in stdout


@pytest.mark.slow
def test_printed_rmse_is_the_checkpoints(torch_tutorial_run):
    out, stdout = torch_tutorial_run
    checkpoint = torch.load(out / "tutorial_torch.ckpt", weights_only=True)
    assert checkpoint["epoch"] == 2  # as Trainer writes it after its last epoch
    model = TutorialRNN(**checkpoint["hyper_parameters"])
    model.load_state_dict(checkpoint["state_dict"])
    model.eval()
    trainX, trainY, testX, testY = tutorial_windows()
    for part, X, Y in (("Train", trainX, trainY), ("Test", testX, testY)):
        with torch.no_grad():
            recomputed = rmse(Y, model(torch.from_numpy(X)).numpy())
        assert abs(printed_rmse(stdout, part) - recomputed) <= PRINT_PRECISION, part
        assert 0.0 < recomputed < 0.5  # a trained tanh forecaster of values in [0, 1]


@pytest.mark.slow
def test_part1_hand_computation_is_the_networks(torch_tutorial_run):
    _out, stdout = torch_tutorial_run
    network, ours = printed_predictions(stdout)
    # both printed to ~8 significant digits of values ~1: 1e-6 covers float32 vs float64 rounding
    assert abs(network - ours) <= TOLERANCES["float32"]
    assert abs(network) > 1e-3  # the demo's output is not a trivial zero


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tutorial_module_is_the_reference_model(dtype):
    weights = random_weights(tutorial_spec(dtype), seed=5)  # both biases random and non-zero
    model = TutorialRNN(3, 1).to(getattr(torch, dtype))
    model.load_state_dict(tutorial_state_dict(weights))
    inputs = np.random.default_rng(1).uniform(0, 1, size=(8, 12, 1)).astype(dtype)
    model.eval()
    with torch.no_grad():
        outputs = model(torch.from_numpy(inputs)).numpy()  # (8, 1)
    assert outputs.shape == (8, 1) and outputs.dtype == np.dtype(dtype)
    assert np.max(np.abs(outputs - reference_predict(weights, inputs))) <= TOLERANCES[dtype]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linear_demo_loop_is_the_reference_model(dtype):
    # the explicit loop stands in for nn.RNN, which has no linear activation
    spec = ModelSpec(
        3, 1, (RecurrentLayerSpec("simple", 2, activation="linear"),), DenseSpec(1, "linear"), dtype
    )
    weights = random_weights(spec, seed=9)
    layer = weights.layers[0]["forward"]
    model = LinearRNN(2, 1).to(getattr(torch, dtype))
    arrays = {
        "ih.weight": layer.W["h"].T,  # nn.Linear keeps (out, in)
        "ih.bias": layer.b["h"],
        "hh.weight": layer.U["h"].T,
        "hh.bias": layer.c["h"],
        "dense.weight": weights.W_y.T,
        "dense.bias": weights.b_y,
    }
    model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()})
    inputs = np.random.default_rng(2).normal(size=(4, 3, 1)).astype(dtype)
    with torch.no_grad():
        outputs = model(torch.from_numpy(inputs)).numpy()
    assert np.max(np.abs(outputs - reference_predict(weights, inputs))) <= TOLERANCES[dtype]
