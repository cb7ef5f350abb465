"""ParityAdam against hand-written numpy Adam updates, one variable at a time (no model)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_impl.model import floatx_scope
from keras_impl.optim import ParityAdam, make_optimizer
from shared.recipe import OptimizerSpec

LR, B1, B2, EPS = 1e-3, 0.9, 0.999, 1e-4  # a large epsilon so its placement matters


def numpy_adam(w: np.ndarray, grads: list[np.ndarray], style: str) -> np.ndarray:
    """Adam in float64 numpy, written from the two libraries' formulas."""
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        m = m + (g - m) * (1 - B1)
        if style == "torch":
            v = v * B2 + g * g * (1 - B2)
            w = w - LR / (1 - B1**t) * m / (np.sqrt(v) / np.sqrt(1 - B2**t) + EPS)
        else:
            v = v + (g * g - v) * (1 - B2)
            w = w - m * (LR * np.sqrt(1 - B2**t) / (1 - B1**t)) / (np.sqrt(v) + EPS)
    return w


def _gradients(dtype: str) -> tuple[np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(0)
    w = rng.normal(size=(6,)).astype(dtype)
    # gradient sizes from 1e-8 to 1: some far below epsilon, some far above
    grads = [
        (rng.normal(size=6) * 10 ** rng.uniform(-8, 0, size=6)).astype(dtype) for _ in range(4)
    ]
    return w, grads


def _run(
    optimizer: keras.optimizers.Optimizer, w: np.ndarray, grads: list[np.ndarray]
) -> np.ndarray:
    variable = keras.Variable(w.copy(), dtype=w.dtype)
    for g in grads:
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g), variable)])
    return keras.ops.convert_to_numpy(variable)


def _make(style: str, dtype: str) -> keras.optimizers.Optimizer:
    with floatx_scope(dtype):  # as fit creates it: under the model's floatx
        return make_optimizer(OptimizerSpec(epsilon=EPS, epsilon_style=style))


@pytest.mark.parametrize("style", ["keras", "torch"])
def test_float64_updates_match_numpy(style):
    w, grads = _gradients("float64")
    got = _run(_make(style, "float64"), w, grads)
    # 1e-12: four updates of size ~1e-3, each rounded at 1e-16 relative; a misplaced epsilon
    # or a float32-rounded constant moves the result by >= 1e-10
    np.testing.assert_allclose(got, numpy_adam(w, grads, style), rtol=0, atol=1e-12)


def test_torch_and_keras_styles_differ():
    w, grads = _gradients("float64")
    keras_style = _run(_make("keras", "float64"), w, grads)
    torch_style = _run(_make("torch", "float64"), w, grads)
    assert np.max(np.abs(keras_style - torch_style)) > 1e-6


def test_keras_style_is_bit_identical_to_stock_adam_in_float32():
    w, grads = _gradients("float32")
    stock = _run(keras.optimizers.Adam(learning_rate=LR, epsilon=EPS), w, grads)
    assert np.array_equal(_run(_make("keras", "float32"), w, grads), stock)


def test_native_is_stock_keras_adam_and_sgd_is_sgd():
    assert type(_make("native", "float32")) is keras.optimizers.Adam
    sgd = make_optimizer(OptimizerSpec(name="sgd", learning_rate=0.1, momentum=0.5))
    assert isinstance(sgd, keras.optimizers.SGD) and sgd.momentum == 0.5


def test_parity_adam_serializes():
    optimizer = _make("torch", "float32")
    config = keras.saving.serialize_keras_object(optimizer)
    again = keras.saving.deserialize_keras_object(config)
    assert isinstance(again, ParityAdam) and again.epsilon_style == "torch"
