"""Small model specs of every kind and arrangement, for the keras_impl tests."""

from __future__ import annotations

from typing import Any

from shared.spec import DenseSpec, ModelSpec, RecurrentLayerSpec

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
