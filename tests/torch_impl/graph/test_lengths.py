"""GraphNet takes a lengths tensor (batch,) int64 as an input, the way torch users feed padded
batches: the length_mask node masks the trailing steps and every consumer follows Keras's mask
rules, as the reference says, whatever the padding holds. A recurrent node a length mask
reaches runs torch's packed sequences, held equal to the step loop and the reference."""

from __future__ import annotations

import numpy as np
import pytest

from shared.graph import layers
from shared.graph.model import GraphInput, ModelGraph, Node, Ref
from shared.graph.recurrent import Recurrent
from shared.graph.samples import sample_inputs
from shared.graph.weights import random_weights
from shared.tolerances import TOLERANCES, allowed_difference
from tests.torch_impl.graph.graphs import assert_matches_reference, lengths_graph
from torch_impl.graph import GraphNet, graph_predict, graph_set_canonical


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("time", [None, 6], ids=["free", "fixed"])
def test_lengths_match_the_reference(dtype: str, time: int | None) -> None:
    assert_matches_reference(lengths_graph(dtype, time))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lengths_clamped_to_one_match_the_reference(dtype: str) -> None:
    """min_length 1: the sampled lengths hold a 0, which the packed route reads as 1."""
    graph = lengths_graph(dtype, min_length=1)
    assert 0 in sample_inputs(graph, batch=6, seed=1, time_steps=5)["n"]
    assert_matches_reference(graph)


def test_padding_values_are_ignored() -> None:
    graph = lengths_graph("float64")
    net = GraphNet(graph)
    graph_set_canonical(net, random_weights(graph, seed=2))
    inputs = sample_inputs(graph, batch=6, seed=3, time_steps=7)
    garbage = dict(inputs, x=inputs["x"].copy())
    past = np.arange(7)[None, :] >= inputs["n"][:, None]  # (batch, time) the padding
    garbage["x"][past] = 1e3
    for got, want in zip(graph_predict(net, garbage), graph_predict(net, inputs), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def _one_recurrent(kind: Recurrent, dtype: str) -> ModelGraph:
    """x, n -> length_mask -> kind, every output of the node a graph output."""
    inputs = (GraphInput("x", "floats", None, 3), GraphInput("n", "lengths"))
    nodes = (
        Node("mask", layers.LengthMask(), (Ref("x"), Ref("n"))),
        Node("rnn", kind, (Ref("mask"),)),
    )
    count = 1 + (kind.state_count if kind.return_state else 0)
    outputs = tuple(Ref("rnn", index) for index in range(count))
    return ModelGraph(inputs, nodes, outputs, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "kind",
    [
        Recurrent("lstm", 4, return_sequences=True, return_state=True),
        Recurrent("simple", 4, "relu", return_sequences=True, return_state=True),
        Recurrent(
            "gru",
            4,
            return_sequences=True,
            return_state=True,
            bidirectional=True,
            zero_output_for_mask=True,
        ),
    ],
    ids=["lstm-carried", "relu-rnn", "bigru-zeros"],
)
def test_a_length_masked_node_runs_packed_as_the_loop_and_the_reference(kind, dtype):
    """Packed sequences give the step loop's outputs, states and the reference's, within the
    tolerances; the node really takes the packed route (torch's fused module)."""
    graph = _one_recurrent(kind, dtype)
    packed = assert_matches_reference(graph)
    assert packed.module("rnn").packed and packed.module("rnn").native
    looped = GraphNet(graph, loop=True)
    assert not looped.module("rnn").native
    graph_set_canonical(looped, random_weights(graph, 0))  # the weights the check set
    inputs = sample_inputs(graph, batch=6, seed=4, time_steps=7)
    for got, want in zip(graph_predict(packed, inputs), graph_predict(looped, inputs), strict=True):
        bound = allowed_difference(TOLERANCES[dtype], float(np.abs(want).max()))
        assert float(np.abs(got.astype(np.float64) - want).max()) <= bound


def test_a_masking_node_keeps_the_step_loop() -> None:
    """Masking may mask any step, so a graph with one never packs (packing needs a prefix)."""
    graph = _one_recurrent(Recurrent("lstm", 2, return_sequences=True), "float64")
    masked = ModelGraph(
        graph.inputs,
        (
            Node("pad", layers.Masking(), (Ref("x"),)),
            Node("mask", layers.LengthMask(), (Ref("pad"), Ref("n"))),
            graph.nodes[1],
        ),
        (Ref("rnn"),),
        "float64",
    )
    assert not GraphNet(masked).module("rnn").packed
