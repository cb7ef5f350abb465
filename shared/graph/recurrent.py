"""The recurrent node: SimpleRNN, LSTM or GRU with every Keras option that changes what it computes.

Inputs: the sequence (time, features), then the initial states if any (Keras `initial_state=`):
h (and c for LSTM) per direction, forward first. Outputs, in Keras's order:

    one direction:   output [, h [, c]]             output: the sequence, or the final state
    bidirectional:   merged [, h_f [, c_f], h_b [, c_b]]       merge_mode concat|sum|ave|mul
                     out_f, out_b [, states...]                merge_mode None

`go_backwards` reads the sequence reversed and, outside a Bidirectional, returns its sequence in
that reversed order (Keras does not flip it back); inside one the backward half is flipped back
so step t is step t. `zero_output_for_mask` writes zeros at masked steps of a returned sequence
instead of the previous output (Keras sets it inside a Bidirectional that returns sequences).
`stateful` is not an option: a file cannot carry the state from one call to the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shared.activations import ACTIVATIONS
from shared.errors import SpecError
from shared.graph.base import NodeKind, Shape, need_rank, register
from shared.recurrent_spec import GATES, RECURRENT_KINDS
from shared.validation import check_bool, check_choice, check_int, check_rate

MERGE_MODES = ("concat", "sum", "ave", "mul", None)


@register
@dataclass(frozen=True)
class Recurrent(NodeKind):
    """One recurrent layer, or a Bidirectional pair of identical halves (see the docstring)."""

    type: ClassVar[str] = "recurrent"
    arity: ClassVar[int | None] = None  # the sequence, then any initial states

    kind: str
    units: int
    activation: str = "tanh"
    recurrent_activation: str = "sigmoid"
    use_bias: bool = True
    return_sequences: bool = False
    return_state: bool = False
    go_backwards: bool = False
    reset_after: bool = True
    zero_output_for_mask: bool = False
    bidirectional: bool = False
    merge_mode: str | None = "concat"
    dropout: float = 0.0
    recurrent_dropout: float = 0.0

    def __post_init__(self) -> None:
        check_choice(self.kind, "kind", RECURRENT_KINDS, "recurrent node: ")
        where = f"{self.kind} node: "
        check_int(self.units, "units", 1, where)
        check_choice(self.activation, "activation", tuple(ACTIVATIONS), where)
        check_choice(self.recurrent_activation, "recurrent_activation", tuple(ACTIVATIONS), where)
        for name in ("use_bias", "return_sequences", "return_state", "go_backwards"):
            check_bool(getattr(self, name), name, where)
        for name in ("reset_after", "zero_output_for_mask", "bidirectional"):
            check_bool(getattr(self, name), name, where)
        if self.merge_mode not in MERGE_MODES:
            raise SpecError(
                f"{where}merge_mode must be one of {MERGE_MODES}, got {self.merge_mode!r}"
            )
        if self.go_backwards and self.bidirectional:
            raise SpecError(
                f"{where}go_backwards is the backward half's own setting, not the pair's"
            )
        self._check_meaningful(where)
        check_rate(self.dropout, "dropout", where)
        check_rate(self.recurrent_dropout, "recurrent_dropout", where)

    def _check_meaningful(self, where: str) -> None:
        """Options that mean nothing for this node stay at their one value, so one model has
        one graph (a framework reads back the defaults there)."""
        if self.kind != "gru" and not self.reset_after:
            raise SpecError(f"{where}reset_after is GRU's option; leave it True")
        if self.kind == "simple" and self.recurrent_activation != "sigmoid":
            raise SpecError(f"{where}a simple RNN has no gates: leave recurrent_activation")
        if not self.bidirectional and self.merge_mode != "concat":
            raise SpecError(f"{where}merge_mode is a bidirectional pair's option; leave it")
        if self.bidirectional and self.zero_output_for_mask != self.return_sequences:
            raise SpecError(
                f"{where}a bidirectional node zeroes masked steps exactly when it returns "
                "sequences (Keras sets zero_output_for_mask so on both halves)"
            )

    @property
    def gates(self) -> tuple[str, ...]:
        return GATES[self.kind]

    @property
    def directions(self) -> tuple[str, ...]:
        return ("forward", "backward") if self.bidirectional else ("forward",)

    @property
    def states_per_direction(self) -> int:
        return 2 if self.kind == "lstm" else 1

    @property
    def state_count(self) -> int:
        """Initial states it may take, and final states it returns with return_state."""
        return self.states_per_direction * len(self.directions)

    def _merged_units(self) -> int:
        doubled = self.bidirectional and self.merge_mode == "concat"
        return self.units * (2 if doubled else 1)

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        where = f"{self.kind} node"
        need_rank(inputs[0], (2,), where)
        if len(inputs) not in (1, 1 + self.state_count):
            raise SpecError(
                f"{where}: takes the sequence and, optionally, {self.state_count} initial "
                f"state(s); got {len(inputs) - 1} state input(s)"
            )
        for shape in inputs[1:]:
            if shape != (self.units,):
                raise SpecError(
                    f"{where}: an initial state must be shaped ({self.units},), got {shape}"
                )
        time = inputs[0][0]
        step = (time, self._merged_units()) if self.return_sequences else (self._merged_units(),)
        outputs: list[Shape] = [step]
        if self.bidirectional and self.merge_mode is None:
            single = (time, self.units) if self.return_sequences else (self.units,)
            outputs = [single, single]
        if self.return_state:
            outputs += [(self.units,)] * self.state_count
        return outputs

    def weight_shapes(self, inputs: list[Shape]) -> dict[str, tuple[int, ...]]:
        features = inputs[0][-1]
        if features is None:
            raise SpecError(f"{self.kind} node: the feature axis must be known")
        shapes: dict[str, tuple[int, ...]] = {}
        for direction in self.directions:
            for gate in self.gates:
                shapes[f"{direction}/W/{gate}"] = (features, self.units)
                shapes[f"{direction}/U/{gate}"] = (self.units, self.units)
                if self.use_bias:
                    shapes[f"{direction}/b/{gate}"] = (self.units,)
                    shapes[f"{direction}/c/{gate}"] = (self.units,)
        return shapes

    def mask_out(self, inputs: list[Shape], masked: list[bool]) -> list[bool]:
        outputs = self.output_shapes(inputs)
        sequences = 2 if self.bidirectional and self.merge_mode is None else 1
        carried = masked[0] and self.return_sequences
        return [carried] * sequences + [False] * (len(outputs) - sequences)
