"""shared.numpy_train on its own: gradients against finite differences, Adam, orders, errors.

Its agreement with Keras's training is in tests/compare/study/test_numpy_train_parity.py; here the
hand-written backpropagation is checked against central differences of the numpy reference's
loss (float64: a relative error under 1e-7 leaves room for the O(h^2) truncation at h = 1e-6
and is far below what a wrong term would give, order 1).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from shared import numpy_train
from shared.errors import DataError, SpecError
from shared.recipe import OptimizerSpec, TrainSpec
from shared.recurrent_spec import RecurrentLayerSpec
from shared.reference import predict
from shared.spec import DenseSpec, ModelSpec
from shared.weights import random_weights


def _spec(activation: str = "tanh", head: str = "tanh", dtype: str = "float64") -> ModelSpec:
    return ModelSpec(
        12, 1, (RecurrentLayerSpec("simple", 3, activation),), DenseSpec(1, head), dtype
    )


def _data(n: int = 10, dtype: str = "float64") -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    return rng.uniform(0, 1, (n, 12, 1)).astype(dtype), rng.uniform(0, 1, (n, 1)).astype(dtype)


def _loss(weights, X, Y, loss: str) -> float:
    diff = predict(weights, X) - Y
    return float(np.mean(diff**2) if loss == "mse" else np.mean(np.abs(diff)))


@pytest.mark.parametrize(
    ("activation", "head", "loss", "single_bias"),
    [
        ("tanh", "tanh", "mse", True),
        ("tanh", "linear", "mse", False),
        ("sigmoid", "sigmoid", "mae", False),
        ("linear", "tanh", "mse", True),
    ],
)
def test_gradients_match_central_differences(activation, head, loss, single_bias):
    weights = random_weights(_spec(activation, head), seed=2)
    if single_bias:
        weights.layers[0]["forward"].c["h"][...] = 0
    X, Y = _data(4)
    params = numpy_train._Params(weights, train_c=not single_bias)
    value = numpy_train._step(params, X, Y, (activation, head), loss)
    assert value == pytest.approx(_loss(weights, X, Y, loss), rel=1e-14)
    numeric = np.empty_like(params.flat)
    h = 1e-6
    for index in range(params.flat.size):
        saved = params.flat[index]
        params.flat[index] = saved + h
        up = _loss(weights, X, Y, loss)
        params.flat[index] = saved - h
        down = _loss(weights, X, Y, loss)
        params.flat[index] = saved
        numeric[index] = (up - down) / (2 * h)
    scale = np.abs(numeric).max()
    assert np.abs(params.grad - numeric).max() <= 1e-7 * scale


def test_adam_matches_kerass_update_written_out():
    spec = TrainSpec(optimizer=OptimizerSpec(learning_rate=0.01, epsilon=1e-7))
    adam = numpy_train._Adam(3, spec, np.dtype("float64"))
    w, g = np.array([0.5, -0.2, 0.1]), np.array([0.3, -1e-9, 0.0])
    expected = w.copy()
    m = v = np.zeros(3)
    for t in (1, 2):
        adam.step(w, g)
        m = m + (g - m) * (1 - 0.9)
        v = v + (g * g - v) * (1 - 0.999)
        expected = expected - m * (0.01 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)) / (
            np.sqrt(v) + 1e-7
        )
    np.testing.assert_allclose(w, expected, rtol=1e-15, atol=0)


def test_training_reduces_the_loss_and_is_reproducible():
    X, Y = _data(20)
    spec = TrainSpec(epochs=5, batch_size=4, seed=3, single_bias=True)
    runs = []
    for _ in range(2):
        weights = random_weights(_spec(), seed=1)
        history = numpy_train.fit(weights, X, Y, spec, record_weights=True)
        runs.append((history, weights))
    (first, weights), (second, again) = runs
    assert first.step_loss == second.step_loss and weights.bitwise_equal(again)
    assert len(first.step_loss) == 5 * 5 and len(first.epoch_weights) == 5
    assert first.epoch_loss[-1] < first.epoch_loss[0]
    assert first.epoch_weights[-1].bitwise_equal(weights)
    assert not np.any(weights.layers[0]["forward"].c["h"])  # single bias: c stays zero


def test_given_order_is_followed_and_clock_marks_epochs():
    X, Y = _data(6)
    spec = TrainSpec(epochs=2, batch_size=6, seed=0, shuffle=False)
    clock: list[float] = []
    order = [np.arange(6)[::-1], np.arange(6)]
    reversed_run = numpy_train.fit(random_weights(_spec(), 1), X, Y, spec, order, epoch_clock=clock)
    plain_run = numpy_train.fit(random_weights(_spec(), 1), X, Y, spec)
    # one full batch per epoch: the batch mean does not depend on order, up to rounding
    assert reversed_run.step_loss == pytest.approx(plain_run.step_loss, rel=1e-14)
    assert len(clock) == 2 and clock[0] <= clock[1]


def test_float32_stays_float32():
    X, Y = _data(8, "float32")
    weights = random_weights(_spec(dtype="float32"), seed=1)
    numpy_train.fit(weights, X, Y, TrainSpec(epochs=1, batch_size=3))
    assert all(array.dtype == np.float32 for array in weights.to_arrays().values())


def test_what_it_does_not_implement_is_refused():
    X, Y = _data(4)
    lstm = ModelSpec(12, 1, (RecurrentLayerSpec("lstm", 3),), DenseSpec(1), "float64")
    with pytest.raises(SpecError, match="one SimpleRNN layer"):
        numpy_train.fit(random_weights(lstm), X, Y, TrainSpec(epochs=1))
    with pytest.raises(SpecError, match="activation 'relu'"):
        numpy_train.fit(random_weights(_spec("relu")), X, Y, TrainSpec(epochs=1))
    torch_style = TrainSpec(epochs=1, optimizer=OptimizerSpec(epsilon_style="torch"))
    with pytest.raises(SpecError, match="epsilon placement"):
        numpy_train.fit(random_weights(_spec()), X, Y, torch_style)
    with pytest.raises(DataError):
        numpy_train.fit(random_weights(_spec()), X[:, :5], Y, TrainSpec(epochs=1))
    with pytest.raises(DataError, match="permutation"):
        numpy_train.fit(random_weights(_spec()), X, Y, TrainSpec(epochs=1), [np.zeros(4)])
    sgd = dataclasses.replace(TrainSpec(epochs=1), optimizer=OptimizerSpec(name="sgd"))
    with pytest.raises(SpecError):
        numpy_train.fit(random_weights(_spec()), X, Y, sgd)
