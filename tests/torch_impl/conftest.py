"""Shared fixtures for torch_impl tests: small specs of every kind and real-ish training windows."""

from __future__ import annotations

import numpy as np
import pytest

from shared.data import get_train_test
from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import DenseSpec, ModelSpec
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


# Where the masked steps of each sample (batch 4, time 6) lie; True = kept.
MASK_PATTERNS: dict[str, np.ndarray] = {
    # trailing padding, every sample its own length (6, 4, 2, 1): torch's packed sequences
    "end": np.arange(6)[None, :] < np.array([6, 4, 2, 1])[:, None],
    # holes inside the sequence: the step loop
    "middle": np.array(
        [
            [1, 1, 0, 0, 1, 1],
            [1, 0, 1, 1, 1, 1],
            [1, 1, 1, 1, 1, 1],
            [1, 0, 0, 0, 0, 1],
        ],
        dtype=bool,
    ),
    # leading padding (Keras's pad_sequences default, padding="pre"): the step loop
    "start": np.arange(6)[None, :] >= np.array([2, 4, 0, 5])[:, None],
    # anything, including a sample with every step masked: the step loop
    "anywhere": np.array(
        [
            [0, 1, 0, 1, 1, 0],
            [0, 0, 0, 0, 0, 0],
            [1, 1, 1, 0, 0, 0],
            [0, 0, 1, 1, 1, 1],
        ],
        dtype=bool,
    ),
}
# Keras semantics per route: packed sequences only for trailing padding in a fused module.
FUSED_KINDS = ("simple-tanh", "simple-relu", "lstm", "gru-reset-after")


def grammar_spec(
    layer: dict,
    dtype: str = "float64",
    *,
    bidirectional: bool = False,
    front=None,
    readout: str | None = None,
    head_layers: tuple = (),
    time_steps: int = 6,
    features: int = 3,
    output_dropout: float = 0.0,
) -> ModelSpec:
    """Two layers of one kind (4 then 3 units, the first with `output_dropout` after it)
    around the grammar's other parts."""
    sequence_out = readout in ("sequence", "last_step")
    layers = (
        RecurrentLayerSpec(
            units=4,
            return_sequences=True,
            bidirectional=bidirectional,
            output_dropout=output_dropout,
            **layer,
        ),
        RecurrentLayerSpec(
            units=3, return_sequences=sequence_out, bidirectional=bidirectional, **layer
        ),
    )
    return ModelSpec(
        time_steps=time_steps,
        features=1 if front is not None and front.type == "embedding" else features,
        layers=layers,
        head=DenseSpec(units=2, activation="tanh"),
        dtype=dtype,
        front=front,
        readout=readout,
        head_layers=head_layers,
    )


def masked_inputs(spec: ModelSpec, pattern: str, seed: int = 8) -> np.ndarray:
    """Inputs (4, 6, features) or token ids (4, 6) whose masked steps follow MASK_PATTERNS.

    Masked steps hold the Masking value (every feature) or id 0; kept steps never do.
    """
    keep = MASK_PATTERNS[pattern]
    rng = np.random.default_rng(seed)
    if spec.embedded:
        ids = rng.integers(1, spec.front.vocab, size=keep.shape)
        return np.where(keep, ids, 0)
    X = rng.normal(size=(*keep.shape, spec.features))
    return np.where(keep[:, :, None], X, spec.front.mask_value)
