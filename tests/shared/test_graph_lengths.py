"""A lengths input and its length_mask node in the reference: a masked step acts as if it were
deleted, whatever the padding holds, and lengths that cannot mask their sequence are refused
naming the input."""

from __future__ import annotations

import numpy as np
import pytest

from shared.errors import DataError, SpecError
from shared.graph.layers import LengthMask
from shared.graph.model import GraphInput, ModelGraph, Node, Ref
from shared.graph.recurrent import Recurrent
from shared.graph.reference import graph_inputs, predict
from shared.graph.samples import sample_inputs
from shared.graph.weights import GraphWeights, random_weights

INPUTS = (GraphInput("x", "floats", None, 3), GraphInput("n", "lengths"))


def lengths_lstm(min_length: int = 0, **options: object) -> ModelGraph:
    """x, n -> length_mask -> LSTM(4) with its states; outputs: output, h, c."""
    nodes = (
        Node("mask", LengthMask(min_length), (Ref("x"), Ref("n"))),
        Node("rnn", Recurrent("lstm", 4, return_state=True, **options), (Ref("mask"),)),
    )
    return ModelGraph(INPUTS, nodes, (Ref("rnn"), Ref("rnn", 1), Ref("rnn", 2)), "float64")


def unmasked(graph: ModelGraph, weights: GraphWeights, **options: object) -> GraphWeights:
    """The same LSTM weights in a one-input graph without the mask."""
    rnn = Recurrent("lstm", 4, return_state=True, **options)
    plain = ModelGraph(
        INPUTS[:1],
        (Node("rnn", rnn, (Ref("x"),)),),
        (Ref("rnn"), Ref("rnn", 1), Ref("rnn", 2)),
        "float64",
    )
    return GraphWeights(plain, {"rnn": weights.arrays["rnn"]})


def test_a_masked_step_acts_as_if_deleted() -> None:
    graph = lengths_lstm()
    weights = random_weights(graph, seed=1)
    inputs = sample_inputs(graph, batch=6, seed=2, time_steps=7)
    assert len(set(inputs["n"].tolist())) >= 4 and set(inputs["n"]) <= set(range(1, 8))
    got = predict(weights, inputs)
    plain = unmasked(graph, weights)
    for row, length in enumerate(inputs["n"]):
        cut = inputs["x"][row : row + 1, :length]
        want = predict(plain, cut)
        for index in range(3):
            np.testing.assert_allclose(got[index][row], want[index][0], rtol=1e-12, atol=0)


def test_final_state_is_the_unmasked_state_at_step_length_minus_one() -> None:
    graph = lengths_lstm()
    weights = random_weights(graph, seed=3)
    inputs = sample_inputs(graph, batch=5, seed=4, time_steps=6)
    inputs["x"] = inputs["x"] * 0 + np.where(  # garbage past the lengths: huge, not zero
        np.arange(6)[None, :, None] < inputs["n"][:, None, None], inputs["x"], 1e3
    )
    _, h, _ = predict(weights, inputs)
    sequence = predict(
        GraphWeights(
            ModelGraph(
                INPUTS[:1],
                (Node("rnn", Recurrent("lstm", 4, return_sequences=True), (Ref("x"),)),),
                (Ref("rnn"),),
                "float64",
            ),
            {"rnn": weights.arrays["rnn"]},
        ),
        inputs["x"],
    )[0]
    expected = sequence[np.arange(5), inputs["n"] - 1]
    np.testing.assert_allclose(h, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize(
    ("lengths", "message"),
    [
        ([3, 0], r"input 'n' holds lengths: whole numbers >= 1"),
        ([3, 2.5], r"whole numbers >= 1, got \[3.0, 2.5\]"),
        ([[3], [2]], r"input 'n' holds lengths, one per sample"),
        ([3, 5], r"node 'mask' \(length_mask\) reading 'x', 'n': lengths \[5\] exceed the 4"),
    ],
)
def test_lengths_that_cannot_mask_are_refused(lengths: list, message: str) -> None:
    graph = lengths_lstm()
    x = np.zeros((2, 4, 3))
    with pytest.raises(DataError, match=message):
        predict(random_weights(graph, seed=0), {"x": x, "n": np.array(lengths)})


def test_lengths_inputs_and_nodes_are_validated() -> None:
    with pytest.raises(SpecError, match="lengths are one number per sample"):
        GraphInput("n", "lengths", time_steps=4)
    with pytest.raises(SpecError, match="length_mask reads lengths"):
        ModelGraph(
            (INPUTS[0], GraphInput("y", "floats", None, 1)),
            (Node("mask", LengthMask(), (Ref("x"), Ref("y"))),),
            (Ref("mask"),),
        )
    graph = lengths_lstm(go_backwards=True)
    assert ModelGraph.from_json(graph.to_json()) == graph
    assert not ModelGraph(
        (GraphInput("x", "floats", 5, 3), INPUTS[1]), graph.nodes, graph.outputs
    ).free_time
    assert graph_inputs(graph, {"x": np.zeros((2, 3, 3)), "n": [1, 3]})["n"].dtype == np.int64


def test_min_length_one_reads_a_length_0_sample_as_length_1() -> None:
    """torch's lengths.clamp(min=1): lengths of 0 are accepted, and read step 0 exactly as a
    length of 1 does (never masked whole); check inputs hold a 0 so a port must show it."""
    graph = lengths_lstm(min_length=1)
    weights = random_weights(graph, seed=5)
    inputs = sample_inputs(graph, batch=8, seed=6, time_steps=7)
    assert set(inputs["n"]) == set(range(8))  # 0 through T
    got = predict(weights, inputs)
    ones = predict(weights, dict(inputs, n=np.maximum(inputs["n"], 1)))
    for index in range(3):
        np.testing.assert_allclose(got[index], ones[index], rtol=1e-12, atol=0)
    assert np.abs(got[1][inputs["n"] == 0]).min() > 0  # step 0 read: no zero state
    with pytest.raises(DataError, match=r"whole numbers >= 0, got \[3, -1\]"):
        predict(weights, {"x": np.zeros((2, 4, 3)), "n": np.array([3, -1])})


def test_min_length_is_0_or_1_and_round_trips() -> None:
    with pytest.raises(SpecError, match="length_mask: min_length must be 0 or 1"):
        LengthMask(2)
    with pytest.raises(SpecError, match="min_length must be 0 or 1"):
        LengthMask(True)
    graph = lengths_lstm(min_length=1)
    assert ModelGraph.from_json(graph.to_json()) == graph
    assert "mask = length_mask(min_length=1)(x, n)" in graph.describe()
