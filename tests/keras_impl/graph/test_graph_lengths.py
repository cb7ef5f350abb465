"""A lengths input in Keras: the mask is written in plain Keras ops and passed as mask=, so the
.keras file loads with plain Keras and safe_mode=True; Keras, torch and the reference agree on
lengths in any order, whatever the padding holds; build -> read gives the graph back, the
lengths clamped to >= 1 (min_length 1, ops.maximum before the mask) included."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_impl.graph import graph_from_canonical, graph_predict, read_graph, save_graph_model
from shared.graph.model import same_graph
from shared.graph.samples import sample_inputs
from shared.graph.weights import random_weights
from shared.tolerances import TOLERANCES, allowed_difference
from tests.keras_impl.graph.graphs import check_against_reference
from tests.torch_impl.graph.graphs import lengths_graph
from torch_impl.graph import GraphNet, graph_set_canonical


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("time", "min_length"), [(None, 0), (6, 0), (None, 1)], ids=["free", "fixed", "clamped"]
)
def test_keras_torch_and_reference_agree(dtype: str, time: int | None, min_length: int) -> None:
    """min_length 1 (lengths.clamp(min=1)): the sampled lengths hold a 0."""
    graph = lengths_graph(dtype, time, min_length)
    weights = random_weights(graph, seed=4)
    model = graph_from_canonical(weights)
    assert same_graph(read_graph(model)[0], graph)
    check_against_reference(model, seed=5)
    net = GraphNet(graph)
    graph_set_canonical(net, weights)
    inputs = sample_inputs(graph, batch=6, seed=6, time_steps=7)
    from torch_impl.graph import graph_predict as torch_predict

    for got, want in zip(graph_predict(model, inputs), torch_predict(net, inputs), strict=True):
        bound = allowed_difference(TOLERANCES[dtype], float(np.max(np.abs(want))))
        assert float(np.max(np.abs(got.astype(np.float64) - want))) <= bound


@pytest.mark.parametrize("min_length", [0, 1], ids=["lengths", "clamped"])
def test_saved_file_runs_in_plain_keras_and_ignores_padding(tmp_path, min_length: int) -> None:
    """The clamped mask (ops.maximum first) loads and reads back too, min_length kept."""
    graph = lengths_graph("float32", min_length=min_length)
    model = graph_from_canonical(random_weights(graph, seed=7))
    path = save_graph_model(model, tmp_path / "lengths.keras")
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert same_graph(read_graph(loaded)[0], graph)
    inputs = sample_inputs(graph, batch=6, seed=8, time_steps=7)
    assert (0 in inputs["n"]) == bool(min_length)
    garbage = dict(inputs, x=inputs["x"].copy())
    kept = np.maximum(inputs["n"], min_length)  # a length 0 clamped to 1 reads step 0
    garbage["x"][np.arange(7)[None, :] >= kept[:, None]] = 1e3
    plain = loaded([garbage["x"], garbage["n"].astype("int32")])
    for got, want in zip(plain, graph_predict(model, inputs), strict=True):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(got), want, rtol=0, atol=1e-6)
