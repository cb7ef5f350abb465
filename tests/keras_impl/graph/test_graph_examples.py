"""Hand-written Keras models (the forms Keras's examples use) read as graphs, hold random
weights set through the canonical format, and their OWN outputs match the reference of the
graph read from them, in float32 and float64."""

from __future__ import annotations

import keras
import pytest

from keras_impl.graph import graph_set_canonical, read_graph
from shared.errors import ModelFileError
from shared.graph.weights import random_weights
from tests.keras_impl.graph.examples import EXAMPLES
from tests.keras_impl.graph.graphs import check_against_reference


@pytest.fixture
def float64_keras():
    """Layers and inputs created inside are float64, as after a user's set_floatx("float64")."""
    previous = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    yield
    keras.config.set_floatx(previous[0])
    keras.config.set_dtype_policy(previous[1])


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_matches_reference(name: str) -> None:
    model = EXAMPLES[name]()
    graph, _ = read_graph(model)
    graph_set_canonical(model, random_weights(graph, seed=7))
    check_against_reference(model, seed=2)


@pytest.mark.parametrize("name", ["encoder_decoder", "attention_dot", "conv_front"])
def test_example_in_float64_matches_reference(name: str, float64_keras: None) -> None:
    model = EXAMPLES[name]()
    graph, _ = read_graph(model)
    assert graph.dtype == "float64"
    graph_set_canonical(model, random_weights(graph, seed=7))
    check_against_reference(model, seed=2)


def test_text_classifier_reads_as_expected() -> None:
    graph, _ = read_graph(EXAMPLES["bidirectional_text_classifier"]())
    kinds = [node.kind.type for node in graph.nodes]
    assert kinds == ["embedding", "recurrent", "recurrent", "dense"]
    assert graph.inputs[0].kind == "tokens" and graph.inputs[0].time_steps is None
    assert graph.nodes[1].kind.bidirectional and graph.nodes[1].kind.zero_output_for_mask


def test_time_distributed_dense_reads_as_dense() -> None:
    graph, layers = read_graph(EXAMPLES["masked_sequence_tagger"]())
    last = graph.nodes[-1]
    assert last.kind.type == "dense" and type(layers[last.name]).__name__ == "TimeDistributed"


def test_float32_inputs_to_float64_layers_are_refused(float64_keras: None) -> None:
    inputs = keras.Input(shape=(4, 2), dtype="float32", name="x")
    model = keras.Model(inputs, keras.layers.LSTM(3)(inputs))
    with pytest.raises(ModelFileError, match="input 'x' is float32 while the layers are float64"):
        read_graph(model)
