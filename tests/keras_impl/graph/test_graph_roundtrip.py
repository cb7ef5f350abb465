"""build -> read gives the graph back; canonical weights survive set -> get bitwise; a saved
file loads back as the same graph with the same outputs."""

from __future__ import annotations

import numpy as np
import pytest

from keras_impl.graph import (
    build_graph_model,
    graph_from_canonical,
    graph_predict,
    graph_set_canonical,
    graph_to_canonical,
    load_graph_model,
    read_graph,
    save_graph_model,
)
from shared.errors import ModelFileError, WeightFormatError
from shared.graph.model import same_graph
from shared.graph.samples import sample_inputs
from shared.graph.weights import fold_single_bias, random_weights
from tests.keras_impl.graph.graphs import GRAPHS, chain, rnn, with_dtype

ROUND_TRIP = sorted(GRAPHS)


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_build_then_read_gives_the_graph(name: str) -> None:
    graph = GRAPHS[name]()
    model = build_graph_model(graph)
    read, layers = read_graph(model)
    assert same_graph(read, graph), f"{graph.describe()}\n---\n{read.describe()}"
    assert set(layers) == {node.name for node in graph.nodes}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "name",
    [
        "no_bias",
        "gru_reset_before",
        "bidirectional_none_states",
        "initial_state_bidirectional",
        "batch_norm",
        "layer_norm_no_center",
        "conv1d_dilation_no_bias",
        "embedding",
        "repeat",
    ],
)
def test_canonical_weights_round_trip_bitwise(name: str, dtype: str) -> None:
    graph = with_dtype(GRAPHS[name](), dtype)
    weights = random_weights(graph, seed=3)
    model = graph_from_canonical(weights)
    back = graph_to_canonical(model)
    expected = fold_single_bias(weights).to_arrays()
    got = back.to_arrays()
    assert set(got) == set(expected)
    for key, array in expected.items():
        assert got[key].dtype == array.dtype
        assert np.array_equal(got[key], array), key


def test_weights_for_another_graph_are_refused_and_nothing_changes() -> None:
    model = build_graph_model(chain(rnn("lstm")))
    before = graph_to_canonical(model).to_arrays()
    other = random_weights(chain(rnn("gru")), seed=1)
    with pytest.raises(WeightFormatError, match="n0 = recurrent"):
        graph_set_canonical(model, other)
    after = graph_to_canonical(model).to_arrays()
    assert all(np.array_equal(before[key], after[key]) for key in before)


def test_saved_file_loads_back_with_the_same_outputs(tmp_path) -> None:
    graph = GRAPHS["initial_state_gru_masked"]()
    model = graph_from_canonical(random_weights(graph, seed=5))
    path = save_graph_model(model, tmp_path / "model.keras")
    loaded = load_graph_model(path)
    assert same_graph(read_graph(loaded)[0], graph)
    inputs = sample_inputs(graph, batch=4, seed=1)
    for got, want in zip(graph_predict(loaded, inputs), graph_predict(model, inputs), strict=True):
        assert np.array_equal(got, want)


def test_a_bad_file_is_refused_naming_it(tmp_path) -> None:
    path = tmp_path / "broken.keras"
    path.write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="broken.keras"):
        load_graph_model(path)
