"""Fixtures for keras_impl tests: small real training windows, and Keras's settings guarded."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from shared.data import load_sunspots
from shared.windows import get_XY


@pytest.fixture(scope="session")
def sunspot_windows() -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's windows (12 steps) over its first 200 months, scaled to [0, 1], float64.

    X (16, 12, 1), Y (16, 1): 16 samples, a power of two, so Keras's own epoch loss of one
    full batch (loss * 16 / 16) is exact and can be compared bitwise.
    """
    values = load_sunspots().to_numpy()[:200]  # (200,)
    scaled = (values - values.min()) / (values.max() - values.min())
    X, Y = get_XY(scaled, 12)
    assert X.shape == (16, 12, 1) and Y.shape == (16, 1)
    return X, Y


@pytest.fixture(autouse=True)
def keras_settings_untouched() -> None:
    """Every test must leave Keras's global float type and dtype policy as it found them."""
    before = (keras.config.floatx(), keras.config.dtype_policy().name)
    yield
    assert (keras.config.floatx(), keras.config.dtype_policy().name) == before
