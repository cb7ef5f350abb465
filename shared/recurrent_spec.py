"""The recurrent layer of the model grammar: its kinds, their gates, and one layer's spec.

`shared.grammar` holds the layer kinds around the recurrent stack; this module holds the stack's
own unit, `RecurrentLayerSpec` (simple, LSTM or GRU, optionally bidirectional), and the gate
names per kind that the canonical weight format (`shared.weights`) and every translator use.
`shared.spec.ModelSpec` assembles these layers into a model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from shared.activations import ACTIVATIONS
from shared.errors import SpecError
from shared.validation import check_bool, check_choice, check_int, check_rate

RECURRENT_KINDS = ("simple", "lstm", "gru")
# Gate names per kind, in the canonical (mathematical) order; see shared.weights.
GATES: dict[str, tuple[str, ...]] = {
    "simple": ("h",),
    "lstm": ("i", "f", "g", "o"),
    "gru": ("r", "z", "n"),
}
# The per-layer dropout rates; all are the identity at inference.
DROPOUT_FIELDS = ("dropout", "recurrent_dropout", "output_dropout")


@dataclass(frozen=True)
class RecurrentLayerSpec:
    """One recurrent layer (or a bidirectional pair of them).

    `activation` is the simple RNN's activation, or the LSTM/GRU candidate and output activation
    (only "tanh" there: torch's fused LSTM and GRU know no other). Gates always use sigmoid.
    `reset_after` is read only for GRU (Keras 3's default True equals torch's nn.GRU).
    `dropout` and `recurrent_dropout` are Keras's per-layer rates and `output_dropout` a Dropout
    layer right after this one (torch: `nn.LSTM(dropout=...)` between stacked layers): all three
    are recorded so a port writes them back, and all are the identity at inference.
    """

    kind: str
    units: int
    activation: str = "tanh"
    return_sequences: bool = False
    bidirectional: bool = False
    reset_after: bool = True
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    output_dropout: float = 0.0

    def __post_init__(self) -> None:
        check_choice(self.kind, "kind", RECURRENT_KINDS, "recurrent layer: ")
        where = f"{self.kind} layer: "
        check_int(self.units, "units", 1, where)
        check_choice(self.activation, "activation", tuple(ACTIVATIONS), where)
        if self.kind != "simple" and self.activation != "tanh":
            raise SpecError(
                f"{where}activation must be 'tanh' for lstm and gru, got "
                f"{self.activation!r} (only simple layers take any activation)"
            )
        check_bool(self.return_sequences, "return_sequences", where)
        check_bool(self.bidirectional, "bidirectional", where)
        check_bool(self.reset_after, "reset_after", where)
        for name in DROPOUT_FIELDS:
            check_rate(getattr(self, name), name, where)

    @property
    def gates(self) -> tuple[str, ...]:
        return GATES[self.kind]

    @property
    def directions(self) -> tuple[str, ...]:
        return ("forward", "backward") if self.bidirectional else ("forward",)

    @property
    def output_size(self) -> int:
        """Features this layer hands on: units, doubled when bidirectional (Keras "concat")."""
        return self.units * (2 if self.bidirectional else 1)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form; zero dropout rates are left out, so older specs read back the same."""
        data = asdict(self)
        for name in DROPOUT_FIELDS:
            if not data[name]:
                del data[name]
        return data
