"""Small specs and tolerances shared by the compare/ tests (porting, agreement, check, walkthrough).

Specs are tiny (units 3-4, features 2, time 5) because every case builds real Keras and torch
models; the weights are always random and non-constant (`shared.weights.random_weights`), since a
constant initialiser would hide a swapped gate or a dropped bias.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.spec import DenseSpec, ModelSpec, RecurrentLayerSpec

# (id, layer keyword arguments): the four recurrent computations the brief asks to port.
KINDS: list[tuple[str, dict[str, Any]]] = [
    ("simple", {"kind": "simple"}),
    ("lstm", {"kind": "lstm"}),
    ("gru-reset-after", {"kind": "gru", "reset_after": True}),
    ("gru-reset-before", {"kind": "gru", "reset_after": False}),
]
KIND_IDS = [name for name, _ in KINDS]
STRUCTURES = ("single", "stacked", "bidirectional")
DTYPES = ("float32", "float64")

TIME_STEPS, FEATURES, BATCH = 5, 2, 8


def make_spec(
    layer: dict[str, Any],
    structure: str = "single",
    dtype: str = "float32",
    *,
    time_steps: int = TIME_STEPS,
    features: int = FEATURES,
    units: int = 3,
) -> ModelSpec:
    """One layer, two stacked layers (units + 1 then units) or one bidirectional layer."""
    if structure == "stacked":
        layers = (
            RecurrentLayerSpec(units=units + 1, return_sequences=True, **layer),
            RecurrentLayerSpec(units=units, **layer),
        )
    elif structure == "bidirectional":
        layers = (RecurrentLayerSpec(units=units, bidirectional=True, **layer),)
    elif structure == "stacked-bidirectional":
        layers = (
            RecurrentLayerSpec(units=units + 1, return_sequences=True, bidirectional=True, **layer),
            RecurrentLayerSpec(units=units, bidirectional=True, **layer),
        )
    else:
        layers = (RecurrentLayerSpec(units=units, **layer),)
    return ModelSpec(time_steps, features, layers, DenseSpec(2, "tanh"), dtype)


def mixed_spec(dtype: str = "float32") -> ModelSpec:
    """Every one-bias and two-bias kind in one model: bidirectional simple -> LSTM -> GRU(before)
    -> GRU(after), so one file round trip exercises every mapping at once."""
    layers = (
        RecurrentLayerSpec("simple", 3, return_sequences=True, bidirectional=True),
        RecurrentLayerSpec("lstm", 4, return_sequences=True),
        RecurrentLayerSpec("gru", 3, return_sequences=True, reset_after=False),
        RecurrentLayerSpec("gru", 3, bidirectional=True, reset_after=True),
    )
    return ModelSpec(TIME_STEPS, FEATURES, layers, DenseSpec(2, "tanh"), dtype)


@pytest.fixture(scope="session")
def impls():
    """(keras_impl, torch_impl), imported once in the safe order (torch first)."""
    from compare.frameworks import both

    return both()


@pytest.fixture(scope="session")
def dask_cluster():
    """A real Dask scheduler and two `dask worker` processes on 127.0.0.1, for the session."""
    from tests.dask_helpers import start_cluster

    cluster = start_cluster(workers=2)
    yield cluster
    cluster.stop()
