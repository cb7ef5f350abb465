"""Running the two tutorial programs as a learner does, and reading what they print back.

Shared by tests/keras_impl, tests/torch_impl and tests/compare: each program runs once per test
session (fixtures in tests/conftest.py), in a subprocess with the worktree on PYTHONPATH, as
`python -m keras_impl.tutorial` / `python -m torch_impl.tutorial` would run for a learner.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import mean_squared_error

from shared.data import get_train_test, load_sunspots
from shared.weights import CanonicalWeights
from shared.windows import get_XY

ROOT = Path(__file__).resolve().parents[1]  # the worktree: its packages must win on the path
EPOCHS = 2  # end to end, but short: the suite stays within minutes on 2 cores
# The programs print RMSE as the tutorial does, "%.3f": a printed value is within half a unit of
# the last digit (5e-4) of the true one; 1e-6 pads the float32 rounding of a recomputation.
PRINT_PRECISION = 5e-4 + 1e-6


def run_program(module: str, out: Path, epochs: int = EPOCHS, seed: int = 0) -> str:
    """Run `python -m module --epochs N --seed S --out OUT` from inside OUT; return its stdout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", module, "--epochs", str(epochs), "--seed", str(seed)]
    completed = subprocess.run(
        [*command, "--out", str(out)],
        cwd=out,  # anything written outside --out would land here, not in the worktree
        env=env,
        capture_output=True,
        text=True,
        timeout=900,  # a hang guard only: the outcome does not depend on when it ends
    )
    assert completed.returncode == 0, f"{module} failed:\n{completed.stderr[-4000:]}"
    return completed.stdout


def printed_rmse(stdout: str, part: str) -> float:
    """The RMSE a program printed for part "Train" or "Test" ("Train RMSE: 0.123 RMSE")."""
    matches = re.findall(rf"^{part} RMSE: (\d+\.\d{{3}}) RMSE$", stdout, re.MULTILINE)
    assert len(matches) == 1, f"expected one '{part} RMSE' line in:\n{stdout}"
    return float(matches[0])


def printed_predictions(stdout: str) -> tuple[float, float]:
    """Part 1's two printed outputs: (from the network, from our computation)."""
    network = re.search(r"^Prediction from network\s+\[+\s*(\S+?)\]+$", stdout, re.MULTILINE)
    ours = re.search(r"^Prediction from our computation\s+\[+\s*(\S+?)\]+$", stdout, re.MULTILINE)
    assert network and ours, stdout
    return float(network.group(1)), float(ours.group(1))


def tutorial_windows() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """trainX (187, 12, 1), trainY (187, 1), testX (46, 12, 1), testY (46, 1), float32.

    Computed here independently of the programs with the same public `shared` functions and
    arguments, so a program that changed its data would no longer reproduce its printed RMSE.
    """
    train_data, test_data, _scaler = get_train_test(load_sunspots(), split_percent=0.8)
    trainX, trainY = get_XY(train_data, 12)
    testX, testY = get_XY(test_data, 12)
    return trainX, trainY, testX, testY


def rmse(targets: np.ndarray, predictions: np.ndarray) -> float:
    """The tutorial's RMSE: sqrt of scikit-learn's mean squared error."""
    return math.sqrt(mean_squared_error(targets, predictions))


def tutorial_state_dict(weights: CanonicalWeights) -> dict:
    """Canonical weights of SimpleRNN(units) + Dense as torch_impl.tutorial.TutorialRNN's state.

    nn.RNN keeps (units, in) matrices used as W @ x and two biases; canonical weights are
    row-vector (x @ W) with an input-side b and a recurrent-side c (zero after a Keras model):
    weight_ih = W.T, weight_hh = U.T, bias_ih = b, bias_hh = c; nn.Linear's weight is W_y.T.
    """
    import torch

    layer = weights.layers[0]["forward"]
    arrays = {
        "rnn.weight_ih_l0": layer.W["h"].T,
        "rnn.weight_hh_l0": layer.U["h"].T,
        "rnn.bias_ih_l0": layer.b["h"],
        "rnn.bias_hh_l0": layer.c["h"],
        "dense.weight": weights.W_y.T,
        "dense.bias": weights.b_y,
    }
    return {name: torch.from_numpy(np.ascontiguousarray(a)) for name, a in arrays.items()}
