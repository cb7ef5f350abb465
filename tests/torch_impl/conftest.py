"""Fixtures for torch_impl tests: inputs for the small specs and real-ish training windows.

The specs themselves are built by tests/specs.py (at `TORCH_SIZES`), masked inputs by
tests/torch_impl/helpers.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from shared.data import get_train_test
from shared.windows import sliding_windows


@pytest.fixture
def inputs() -> np.ndarray:
    """(batch 4, time 6, features 3) random inputs for the `TORCH_SIZES` specs."""
    return np.random.default_rng(7).normal(size=(4, 6, 3))


@pytest.fixture(scope="session")
def windows() -> tuple[np.ndarray, np.ndarray]:
    """Training windows from a scaled noisy sine plus random walk: X (30, 12, 1), Y (30, 1)."""
    rng = np.random.default_rng(3)
    steps = np.arange(160)
    series = np.sin(steps * 2 * np.pi / 24) + 0.05 * np.cumsum(rng.normal(size=steps.size))
    train, _test, _scaler = get_train_test(series, 0.8, dtype="float64")  # scaled to (0, 1)
    X, Y = sliding_windows(train, 12, stride=3)  # 39 windows
    assert len(X) >= 30
    return X[:30], Y[:30]
