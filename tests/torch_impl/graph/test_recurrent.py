"""The recurrent node in torch vs the numpy reference: every kind and option, both routes.

Each case runs in float32 and float64, by torch's fused module where it is exact and by the
forced step loop, unmasked and with padding at the end, middle and start, at two time lengths.
"""

from __future__ import annotations

import pytest
from torch import nn

from shared.graph.recurrent import Recurrent
from tests.torch_impl.graph.graphs import assert_matches_reference, one_node, with_initial_states
from torch_impl.loops import LoopGRU, LoopLSTM, LoopSimpleRNN

DTYPES = ("float32", "float64")
SEQ = {"return_sequences": True}
CASES: dict[str, Recurrent] = {
    "simple-tanh": Recurrent("simple", 3),
    "simple-relu-seq": Recurrent("simple", 3, activation="relu", **SEQ),
    "simple-linear": Recurrent("simple", 3, activation="linear", **SEQ),
    "lstm": Recurrent("lstm", 3, **SEQ),
    "lstm-relu": Recurrent("lstm", 3, activation="relu", **SEQ),
    "lstm-hard-sigmoid": Recurrent("lstm", 3, recurrent_activation="hard_sigmoid"),
    "lstm-no-bias-state": Recurrent("lstm", 3, use_bias=False, return_state=True),
    "lstm-backwards": Recurrent("lstm", 3, go_backwards=True, **SEQ),
    "lstm-backwards-final": Recurrent("lstm", 3, go_backwards=True, return_state=True),
    "gru": Recurrent("gru", 3, **SEQ),
    "gru-reset-before": Recurrent("gru", 3, reset_after=False, **SEQ),
    "gru-relu": Recurrent("gru", 3, activation="relu", return_state=True),
    "gru-no-bias": Recurrent("gru", 3, use_bias=False, **SEQ),
    "simple-zero-output": Recurrent("simple", 3, zero_output_for_mask=True, **SEQ),
    "lstm-zero-output-final": Recurrent("lstm", 3, zero_output_for_mask=True),
}
BIDIRECTIONAL: dict[str, Recurrent] = {
    f"{kind}-{mode}-{'seq' if seq else 'final'}": Recurrent(
        kind,
        3,
        bidirectional=True,
        merge_mode=mode,
        return_sequences=seq,
        zero_output_for_mask=seq,  # as Keras's Bidirectional sets it
        return_state=mode == "concat",
    )
    for kind in ("lstm", "gru", "simple")
    for mode in ("concat", "sum", "ave", "mul", None)
    for seq in (True, False)
}
LOOPS = {nn.RNN: LoopSimpleRNN, nn.LSTM: LoopLSTM, nn.GRU: LoopGRU}


@pytest.mark.parametrize("loop", [False, True], ids=["native", "loop"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_one_direction_matches_reference(name: str, dtype: str, loop: bool) -> None:
    assert_matches_reference(one_node(CASES[name], dtype), loop=loop)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_masked_one_direction_matches_reference(name: str, dtype: str) -> None:
    assert_matches_reference(one_node(CASES[name], dtype, masked=True))


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(BIDIRECTIONAL))
def test_bidirectional_matches_reference(name: str, dtype: str, masked: bool) -> None:
    assert_matches_reference(one_node(BIDIRECTIONAL[name], dtype, masked=masked))


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "kind",
    [
        Recurrent("lstm", 3, **SEQ),
        Recurrent("gru", 3, return_state=True),
        Recurrent("simple", 3, go_backwards=True, **SEQ),
        Recurrent(
            "lstm", 3, bidirectional=True, return_state=True, zero_output_for_mask=True, **SEQ
        ),
        Recurrent("gru", 3, bidirectional=True, merge_mode=None, zero_output_for_mask=True, **SEQ),
        Recurrent("lstm", 3, activation="relu", bidirectional=True, merge_mode="sum"),
    ],
    ids=lambda kind: kind.describe(),
)
def test_initial_states_match_reference(kind: Recurrent, dtype: str, masked: bool) -> None:
    assert_matches_reference(with_initial_states(kind, dtype, masked=masked))


@pytest.mark.parametrize(
    ("kind", "native"),
    [
        (Recurrent("simple", 3), nn.RNN),
        (Recurrent("simple", 3, activation="relu"), nn.RNN),
        (Recurrent("lstm", 3, use_bias=False, bidirectional=True), nn.LSTM),
        (Recurrent("gru", 3, go_backwards=True), nn.GRU),
        (Recurrent("simple", 3, activation="linear"), None),
        (Recurrent("lstm", 3, activation="relu"), None),
        (Recurrent("gru", 3, reset_after=False), None),
        (Recurrent("gru", 3, recurrent_activation="hard_sigmoid"), None),
    ],
    ids=lambda value: value.describe() if isinstance(value, Recurrent) else str(value),
)
def test_the_route_is_native_only_where_exact(kind: Recurrent, native: type | None) -> None:
    """torch's fused module where it computes the node, the loop elsewhere and under a mask."""
    net = assert_matches_reference(one_node(kind))
    rnn = net.module("n0").rnn
    if native is None:
        assert type(rnn) in LOOPS.values()
    else:
        assert type(rnn) is native
        masked = assert_matches_reference(one_node(kind, masked=True))
        assert type(masked.module("n1").rnn) is LOOPS[native]
