"""Every node kind and recurrent option, built by `build_graph_model` with random weights in
float32 and float64, agrees with the numpy reference (`shared.graph.reference`)."""

from __future__ import annotations

import pytest

from keras_impl.graph import build_graph_model, graph_set_canonical
from shared.graph.weights import random_weights
from tests.keras_impl.graph.graphs import GRAPHS, check_against_reference, with_dtype


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_kind_matches_reference(name: str, dtype: str) -> None:
    graph = with_dtype(GRAPHS[name](), dtype)
    model = build_graph_model(graph)
    graph_set_canonical(model, random_weights(graph, seed=len(name)))
    check_against_reference(model, seed=len(name))
