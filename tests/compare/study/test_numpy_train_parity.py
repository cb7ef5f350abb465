"""numpy_train against Keras: a third training implementation on the parity run's recipe.

Same start (keras_impl.build_model -> to_canonical), same batches (shared.training.epoch_orders),
same Adam (compare.study.parity.recipes("parity")). Float64: 20 epochs (3740 Adam steps) stay
within 1e-12, measured 4.4e-16: only summation order differs, a few ulps. Float32: 2 epochs
within 1e-6, measured 6e-8 (a few float32 ulps of weights of order 1).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from compare.frameworks import SPEED_ONLY_FIT_OPTIONS, keras_impl
from compare.study.parity import parity_spec, recipes
from compare.study.presets import PRESETS, prepare
from shared import numpy_train
from shared.training import epoch_orders


def _both(dtype: str, epochs: int):
    impl = keras_impl()
    data = prepare(PRESETS["tutorial"], dtype)  # 187 windows of 12 steps
    X, Y = data.X_train, data.Y_train
    keras_spec, _, _ = recipes("parity", epochs, seed=0)
    model = impl.build_model(parity_spec("simple", dtype), seed=0)
    start = impl.to_canonical(model)
    order = epoch_orders(len(X), epochs, seed=0)
    keras = impl.fit(
        model, X, Y, keras_spec, order, record_weights=True, **SPEED_ONLY_FIT_OPTIONS["keras"]
    )
    numpy_spec = dataclasses.replace(keras_spec, single_bias=True)  # Keras has one bias
    mine = numpy_train.fit(start, X, Y, numpy_spec, order, record_weights=True)
    return keras, mine


@pytest.mark.slow
def test_float64_trajectory_matches_keras_for_20_epochs():
    keras, mine = _both("float64", 20)
    gaps = [k.max_abs_diff(n) for k, n in zip(keras.epoch_weights, mine.epoch_weights, strict=True)]
    assert len(gaps) == 20 and max(gaps) <= 1e-12
    assert np.max(np.abs(np.subtract(keras.step_loss, mine.step_loss))) <= 1e-12


@pytest.mark.slow
def test_float32_trajectory_matches_keras():
    keras, mine = _both("float32", 2)
    gaps = [k.max_abs_diff(n) for k, n in zip(keras.epoch_weights, mine.epoch_weights, strict=True)]
    assert max(gaps) <= 1e-6
    assert np.max(np.abs(np.subtract(keras.step_loss, mine.step_loss))) <= 1e-6
