"""Reduce and permute in Keras: ops (keras.ops.sum, ...) and Permute saved in a .keras file load
with plain Keras and safe_mode=True; hand-written ops read as the same nodes; what they cannot
say exactly is refused naming the op."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest
from keras import layers, ops

from keras_impl.graph import (
    build_graph_model,
    graph_from_canonical,
    graph_node_outputs,
    graph_predict,
    read_graph,
    save_graph_model,
)
from shared.errors import ModelFileError
from shared.graph.model import same_graph
from shared.graph.samples import sample_inputs
from shared.graph.shape_ops import Permute, Reduce
from shared.graph.weights import random_weights
from tests.keras_impl.graph.graphs import FIXED_TIME, chain, seq


def test_ops_and_permute_load_in_plain_keras_with_safe_mode(tmp_path) -> None:
    graph = chain(seq("gru"), Permute((2, 1)), Reduce("max", 2, keepdims=True), time=FIXED_TIME)
    model = graph_from_canonical(random_weights(graph, seed=2))
    path = save_graph_model(model, tmp_path / "ops.keras")
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert same_graph(read_graph(loaded)[0], graph)
    inputs = sample_inputs(graph, batch=4, seed=1)
    for got, want in zip(graph_predict(loaded, inputs), graph_predict(model, inputs), strict=True):
        assert np.array_equal(got, want)
    assert set(graph_node_outputs(loaded, inputs)) == {"n0", "n1", "n2"}


def test_hand_written_ops_read_as_nodes() -> None:
    inputs = keras.Input((5, 3))
    x = layers.LSTM(4, return_sequences=True, name="rnn")(inputs)
    moved = ops.transpose(x, (0, 2, 1))  # (batch, 4, 5)
    pooled = ops.mean(moved, axis=-1)  # (batch, 4)
    graph, _ = read_graph(keras.Model(inputs, layers.Dense(1, name="head")(pooled)))
    kinds = [node.kind for node in graph.nodes]
    assert kinds[1:3] == [Permute((2, 1)), Reduce("mean", -1)]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda x: ops.transpose(x, (1, 0, 2)), r"transposes axes .*batch axis first"),
        (lambda x: ops.sum(x, axis=(1, 2)), r"reduces over axis=\(1, 2\)"),
        (lambda x: ops.max(x, axis=1, initial=0.0), r"initial=0.0"),
        (lambda x: ops.sum(x, axis=0), r"axis 0 is outside"),
    ],
    ids=["transpose-batch", "two-axes", "initial", "batch-axis"],
)
def test_ops_it_cannot_read_are_refused(make, message: str) -> None:
    inputs = keras.Input((5, 3))
    model = keras.Model(inputs, make(inputs))
    with pytest.raises(ModelFileError, match=message):
        read_graph(model)


def test_a_graph_of_ops_only_keeps_its_dtype() -> None:
    graph = chain(Reduce("sum", 1))
    for dtype in ("float32", "float64"):
        model = build_graph_model(type(graph)(graph.inputs, graph.nodes, graph.outputs, dtype))
        assert read_graph(model)[0].dtype == dtype


def test_node_outputs_of_a_one_input_model_raise_no_framework_warning() -> None:
    """`check` and a refused port show each node's values; a Keras structure warning there
    reached the user's terminal as nine lines above the one-line refusal."""
    graph = chain(seq("lstm"), Reduce("mean", 1), time=FIXED_TIME)
    model = graph_from_canonical(random_weights(graph, seed=3))
    inputs = sample_inputs(graph, batch=2, seed=4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        values = graph_node_outputs(model, inputs)
    assert set(values) == {"n0", "n1"}
    assert [str(w.message) for w in caught] == []


def test_a_saved_graph_loads_in_plain_keras_without_warnings(tmp_path) -> None:
    """A user loading a ported file sees no "Skipping variable loading for optimizer": the
    compiled, untrained model's optimizer is saved with its (zero) slots."""
    graph = chain(seq("gru"), Reduce("max", 1), time=FIXED_TIME)
    model = graph_from_canonical(random_weights(graph, seed=5))
    path = save_graph_model(model, tmp_path / "gru.keras")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = keras.saving.load_model(path, safe_mode=True)
    assert [str(w.message) for w in caught] == []
    inputs = sample_inputs(graph, batch=3, seed=6)
    for got, want in zip(graph_predict(loaded, inputs), graph_predict(model, inputs), strict=True):
        assert np.array_equal(got, want)
