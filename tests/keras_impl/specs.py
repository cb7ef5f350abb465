"""Small model specs of every kind, arrangement and grammar layer, for the keras_impl tests."""

from __future__ import annotations

from typing import Any

from shared.grammar import BatchNormSpec, DropoutSpec, EmbeddingSpec, LayerNormSpec, MaskingSpec
from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import DenseSpec, ModelSpec

# (id, layer keyword arguments): every recurrent computation the specs allow.
LAYER_KINDS: list[tuple[str, dict[str, Any]]] = [
    ("simple-tanh", {"kind": "simple", "activation": "tanh"}),
    ("simple-linear", {"kind": "simple", "activation": "linear"}),
    ("simple-relu", {"kind": "simple", "activation": "relu"}),
    ("simple-sigmoid", {"kind": "simple", "activation": "sigmoid"}),
    ("lstm", {"kind": "lstm"}),
    ("gru-reset-after", {"kind": "gru", "reset_after": True}),
    ("gru-reset-before", {"kind": "gru", "reset_after": False}),
]
ARRANGEMENTS = ("single", "stacked", "bidirectional", "sequence-out")


def make_spec(
    layer: dict[str, Any],
    arrangement: str = "single",
    dtype: str = "float32",
    *,
    time_steps: int = 12,
    features: int = 2,
    units: int = 4,
    head: DenseSpec | None = None,
) -> ModelSpec:
    """A small spec of one kind of layer.

    arrangement: "single" (one layer), "stacked" (two, the first returning sequences),
    "bidirectional" (one bidirectional layer), "sequence-out" (a bidirectional layer returning
    sequences, so the head runs on every step).
    """
    bidirectional = arrangement in ("bidirectional", "sequence-out")
    last = RecurrentLayerSpec(
        units=units,
        bidirectional=bidirectional,
        return_sequences=arrangement == "sequence-out",
        **layer,
    )
    layers = (last,)
    if arrangement == "stacked":
        first = RecurrentLayerSpec(units=units + 1, return_sequences=True, **layer)
        layers = (first, last)
    return ModelSpec(
        time_steps=time_steps,
        features=features,
        layers=layers,
        head=head or DenseSpec(units=2, activation="linear"),
        dtype=dtype,
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
