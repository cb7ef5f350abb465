"""keras_impl's refusals around Keras's JAX backend, checked from this (TensorFlow) process.

What runs on JAX itself (fit, the scan, seeds) needs a fresh process with KERAS_BACKEND=jax and
is tested end to end in tests/compare/bench/test_bench_jax.py; here only the two clear errors.
"""

from __future__ import annotations

import importlib.util

import keras
import numpy as np
import pytest

from keras_impl import build_model, fit
from keras_impl.model import check_backend_dtype
from shared.errors import SpecError
from shared.recipe import TrainSpec
from shared.spec import tutorial_spec


def test_scan_steps_off_the_jax_backend_is_refused_before_any_training():
    model = build_model(tutorial_spec(), seed=0)
    before = [w.copy() for w in model.get_weights()]
    X, Y = np.zeros((4, 12, 1), "float32"), np.zeros((4, 1), "float32")
    with pytest.raises(SpecError, match="scan_steps needs Keras's JAX backend.*tensorflow"):
        fit(model, X, Y, TrainSpec(epochs=1, batch_size=2), scan_steps=True)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


@pytest.mark.slow  # imports jax (about 2 s of CPU)
@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_float64_on_jax_needs_its_64_bit_mode(monkeypatch):
    import jax

    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    check_backend_dtype("float32")  # float32 is JAX's own: nothing to refuse
    assert not jax.config.jax_enable_x64  # JAX's default, unless JAX_ENABLE_X64 is set
    with pytest.raises(SpecError, match="JAX_ENABLE_X64=1"):
        check_backend_dtype("float64")
    jax.config.update("jax_enable_x64", True)
    try:
        check_backend_dtype("float64")  # with 64-bit mode on, float64 is computed as float64
    finally:
        jax.config.update("jax_enable_x64", False)
