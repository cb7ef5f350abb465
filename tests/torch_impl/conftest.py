"""Shared fixtures for torch_impl tests: small specs of every kind and real-ish training windows."""

from __future__ import annotations

import numpy as np
import pytest

from shared.data import get_train_test
from shared.spec import DenseSpec, ModelSpec, RecurrentLayerSpec
from shared.windows import sliding_windows

# (name, layer keyword arguments): every way a layer can be computed, fused or looped.
LAYER_KINDS = [
    ("simple-tanh", {"kind": "simple", "activation": "tanh"}),  # nn.RNN
    ("simple-relu", {"kind": "simple", "activation": "relu"}),  # nn.RNN
    ("simple-linear", {"kind": "simple", "activation": "linear"}),  # loop
    ("simple-sigmoid", {"kind": "simple", "activation": "sigmoid"}),  # loop
    ("lstm", {"kind": "lstm"}),  # nn.LSTM
    ("gru-reset-after", {"kind": "gru", "reset_after": True}),  # nn.GRU
    ("gru-reset-before", {"kind": "gru", "reset_after": False}),  # loop
]
STRUCTURES = ("single", "stacked", "bidirectional", "stacked-bidirectional")


def make_spec(
    layer: dict,
    structure: str = "single",
    dtype: str = "float64",
    *,
    time_steps: int = 6,
    features: int = 3,
    units: int = 5,
    head_units: int = 2,
    return_sequences: bool = False,
) -> ModelSpec:
    """A small spec: one or two layers of the given kind, optionally bidirectional."""
    bidirectional = "bidirectional" in structure
    layers = [RecurrentLayerSpec(units=units, bidirectional=bidirectional, **layer)]
    if structure.startswith("stacked"):
        first = RecurrentLayerSpec(
            units=units + 1, bidirectional=bidirectional, return_sequences=True, **layer
        )
        layers = [first, RecurrentLayerSpec(units=units, bidirectional=bidirectional, **layer)]
    if return_sequences:
        layers[-1] = RecurrentLayerSpec(
            units=units, bidirectional=bidirectional, return_sequences=True, **layer
        )
    return ModelSpec(
        time_steps=time_steps,
        features=features,
        layers=tuple(layers),
        head=DenseSpec(units=head_units, activation="tanh"),
        dtype=dtype,
    )


def tutorial_like_spec(kind: str = "simple", dtype: str = "float64", units: int = 4) -> ModelSpec:
    """(12, 1) windows -> one recurrent layer -> Dense(1, linear): the forecaster's shape."""
    return ModelSpec(
        time_steps=12,
        features=1,
        layers=(RecurrentLayerSpec(kind=kind, units=units),),
        head=DenseSpec(units=1, activation="linear"),
        dtype=dtype,
    )


@pytest.fixture
def inputs() -> np.ndarray:
    """(batch 4, time 6, features 3) random inputs for the make_spec models."""
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
