"""Small model specs for the tests, built in one place: every kind, structure and grammar layer.

Specs are tiny because most cases build real Keras and torch models; the weights are always random
and non-constant (`shared.weights.random_weights`), since a constant initialiser would hide a
swapped gate or a dropped bias. Each test package builds at its own sizes (`COMPARE_SIZES`,
`TORCH_SIZES`, `KERAS_SIZES`), which its inputs and fixtures follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from shared.grammar import BatchNormSpec, DropoutSpec, EmbeddingSpec, LayerNormSpec, MaskingSpec
from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import DenseSpec, ModelSpec

DTYPES = ("float32", "float64")
# For the largest matrices: float32 in the fast lane (`-m "not slow"`); float64, the same
# computation at a stricter tolerance, only in the full run.
DTYPES_FLOAT64_SLOW = ("float32", pytest.param("float64", marks=pytest.mark.slow))

# (id, layer keyword arguments): the four recurrent computations the brief asks to port.
KINDS: list[tuple[str, dict[str, Any]]] = [
    ("simple", {"kind": "simple"}),
    ("lstm", {"kind": "lstm"}),
    ("gru-reset-after", {"kind": "gru", "reset_after": True}),
    ("gru-reset-before", {"kind": "gru", "reset_after": False}),
]
KIND_IDS = [name for name, _ in KINDS]

# (id, layer keyword arguments): every recurrent computation the specs allow, and how torch
# computes it (a fused module or the step loop).
LAYER_KINDS: list[tuple[str, dict[str, Any]]] = [
    ("simple-tanh", {"kind": "simple", "activation": "tanh"}),  # nn.RNN
    ("simple-relu", {"kind": "simple", "activation": "relu"}),  # nn.RNN
    ("simple-linear", {"kind": "simple", "activation": "linear"}),  # loop
    ("simple-sigmoid", {"kind": "simple", "activation": "sigmoid"}),  # loop
    ("lstm", {"kind": "lstm"}),  # nn.LSTM
    ("gru-reset-after", {"kind": "gru", "reset_after": True}),  # nn.GRU
    ("gru-reset-before", {"kind": "gru", "reset_after": False}),  # loop
]
LAYER_KIND_IDS = [name for name, _ in LAYER_KINDS]

# The structures `make_spec` builds; each test package parametrizes over the ones it needs.
STRUCTURES = ("single", "stacked", "bidirectional")
TORCH_STRUCTURES = (*STRUCTURES, "stacked-bidirectional")
KERAS_STRUCTURES = (*STRUCTURES, "sequence-out")


@dataclass(frozen=True)
class Sizes:
    """The sizes of a `make_spec` spec: steps, features, units of the last layer, and its head."""

    time_steps: int
    features: int
    units: int
    head: DenseSpec


# compare/: units 3, features 2, time 5, batch 8.
COMPARE_SIZES = Sizes(time_steps=5, features=2, units=3, head=DenseSpec(2, "tanh"))
TIME_STEPS, FEATURES, BATCH = COMPARE_SIZES.time_steps, COMPARE_SIZES.features, 8
# torch_impl/: its `inputs` fixture is (batch 4, time 6, features 3).
TORCH_SIZES = Sizes(time_steps=6, features=3, units=5, head=DenseSpec(2, "tanh"))
# keras_impl/: the tutorial's 12 steps.
KERAS_SIZES = Sizes(time_steps=12, features=2, units=4, head=DenseSpec(2, "linear"))


def make_spec(
    layer: dict[str, Any],
    structure: str = "single",
    dtype: str = "float32",
    *,
    sizes: Sizes = COMPARE_SIZES,
    time_steps: int | None = None,
    features: int | None = None,
    units: int | None = None,
    head: DenseSpec | None = None,
) -> ModelSpec:
    """A small spec of one kind of layer, at `sizes` (any of its fields overridden by keyword).

    structure: "single" (one layer), "stacked" (units + 1 returning sequences, then units),
    "bidirectional" (one bidirectional layer), "stacked-bidirectional" (the stack, both layers
    bidirectional), "sequence-out" (a bidirectional layer returning sequences, so the head runs on
    every step).
    """
    if structure not in (*TORCH_STRUCTURES, "sequence-out"):
        raise ValueError(f"unknown structure {structure!r}")
    units = sizes.units if units is None else units
    bidirectional = structure in ("bidirectional", "stacked-bidirectional", "sequence-out")
    last = RecurrentLayerSpec(
        units=units,
        bidirectional=bidirectional,
        return_sequences=structure == "sequence-out",
        **layer,
    )
    layers: tuple[RecurrentLayerSpec, ...] = (last,)
    if structure.startswith("stacked"):
        first = RecurrentLayerSpec(
            units=units + 1, bidirectional=bidirectional, return_sequences=True, **layer
        )
        layers = (first, last)
    return ModelSpec(
        time_steps=sizes.time_steps if time_steps is None else time_steps,
        features=sizes.features if features is None else features,
        layers=layers,
        head=sizes.head if head is None else head,
        dtype=dtype,
    )


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


def tutorial_like_spec(kind: str = "simple", dtype: str = "float64", units: int = 4) -> ModelSpec:
    """(12, 1) windows -> one recurrent layer -> Dense(1, linear): the forecaster's shape."""
    return ModelSpec(
        time_steps=12,
        features=1,
        layers=(RecurrentLayerSpec(kind=kind, units=units),),
        head=DenseSpec(units=1, activation="linear"),
        dtype=dtype,
    )


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


def grammar_specs(dtype: str) -> dict[str, ModelSpec]:
    """One small spec per layer kind the grammar adds to the recurrent stack (6 steps each).

    Few models on purpose (each Keras build costs ~0.3 s), but together they hold every kind:
    both fronts (and mask_zero on and off), every readout, dropout rates and output_dropout,
    every head layer, per-step head layers, epsilons away from Keras's default.
    """
    rnn = RecurrentLayerSpec
    return {
        "embedding": ModelSpec(
            6, 1, (rnn("lstm", 4),), DenseSpec(2), dtype, front=EmbeddingSpec(9, 3)
        ),
        "embedding-mask-zero": ModelSpec(
            6,
            1,
            (rnn("gru", 3, bidirectional=True),),
            DenseSpec(1, "sigmoid"),
            dtype,
            front=EmbeddingSpec(9, 3, mask_zero=True),
        ),
        "masking-stacked-dropout": ModelSpec(
            6,
            2,
            (
                rnn("lstm", 4, return_sequences=True, dropout=0.1, output_dropout=0.2),
                rnn("simple", 3, return_sequences=True, recurrent_dropout=0.3),
            ),
            DenseSpec(2),
            dtype,
            front=MaskingSpec(0.5),
        ),
        "masking-last-step": ModelSpec(
            6,
            2,
            (rnn("gru", 3, return_sequences=True, bidirectional=True, reset_after=False),),
            DenseSpec(2),
            dtype,
            front=MaskingSpec(0.0),
            readout="last_step",
        ),
        "mlp-head": ModelSpec(
            6,
            2,
            (rnn("simple", 4, activation="relu"),),
            DenseSpec(1),
            dtype,
            head_layers=(DenseSpec(5, "relu"), DropoutSpec(0.3), DenseSpec(3, "tanh")),
        ),
        "layer-norm": ModelSpec(
            6, 2, (rnn("lstm", 4),), DenseSpec(1), dtype, head_layers=(LayerNormSpec(1e-5),)
        ),
        "batch-norm": ModelSpec(
            6,
            2,
            (rnn("gru", 4, bidirectional=True),),
            DenseSpec(1),
            dtype,
            head_layers=(BatchNormSpec(2e-3),),
        ),
        "per-step-head": ModelSpec(
            6,
            2,
            (rnn("gru", 3, return_sequences=True),),
            DenseSpec(2),
            dtype,
            front=MaskingSpec(0.0),
            head_layers=(LayerNormSpec(), DenseSpec(4, "relu"), BatchNormSpec(1e-5)),
        ),
    }


GRAMMAR_NAMES = list(grammar_specs("float32"))
