"""GraphNet takes a lengths tensor (batch,) int64 as an input, the way torch users feed padded
batches: the length_mask node masks the trailing steps and every consumer follows Keras's mask
rules, as the reference says, whatever the padding holds."""

from __future__ import annotations

import numpy as np
import pytest

from shared.graph.samples import sample_inputs
from shared.graph.weights import random_weights
from tests.torch_impl.graph.graphs import assert_matches_reference, lengths_graph
from torch_impl.graph import GraphNet, graph_predict, graph_set_canonical


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("time", [None, 6], ids=["free", "fixed"])
def test_lengths_match_the_reference(dtype: str, time: int | None) -> None:
    assert_matches_reference(lengths_graph(dtype, time))


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
