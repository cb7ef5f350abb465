"""read_module_graph: each public-code pattern read onto the model graph, held to the module.

The numpy reference of what was read must reproduce the module's own forward within
shared.tolerances (float32 and float64, two batch sizes, two time lengths where time is free);
refusals are one line naming the node and the user's source line.
"""

from __future__ import annotations

import numpy as np
import pytest

from shared.graph.reference import predict
from shared.graph.samples import FREE_TIME_STEPS, sample_inputs
from shared.tolerances import TOLERANCES, allowed_difference
from tests.user_graph_nets import (
    GRAPH_NETS,
    NEEDS_NEW_NODES,
    CumulativeSum,
    FlattenHead,
    LearnedInitialState,
    SqueezedToTheBatch,
    TorchLeakySlope,
    build,
)
from torch_impl.reading import read_module_graph
from torch_impl.reading.traced_values import GrammarError


def assert_reads_the_module(cls: type, dtype: str, time_steps: int | None) -> None:
    module = build(cls, dtype)
    weights, reading = read_module_graph(module, time_steps)
    graph = weights.graph
    assert graph.dtype == dtype and graph.inputs[0].time_steps == time_steps
    lengths = FREE_TIME_STEPS if time_steps is None else (time_steps, time_steps)
    for batch, length in zip((8, 3), lengths, strict=True):
        inputs = sample_inputs(graph, batch, seed=batch, time_steps=length)
        expected = reading.run(module, graph, inputs)
        got = predict(weights, inputs)
        for a, b in zip(got, expected, strict=True):
            assert a.shape == b.shape
            bound = allowed_difference(TOLERANCES[dtype], float(np.abs(b).max()))
            assert float(np.abs(a.astype(np.float64) - b).max()) <= bound, graph.describe()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cls", list(GRAPH_NETS), ids=lambda cls: cls.__name__)
def test_each_pattern_reads_as_the_module_computes(cls, dtype):
    assert_reads_the_module(cls, dtype, GRAPH_NETS[cls][2])


@pytest.mark.parametrize("cls", list(NEEDS_NEW_NODES), ids=lambda cls: cls.__name__)
def test_reduce_and_permute_patterns_read_as_the_module_computes(cls):
    assert_reads_the_module(cls, "float64", NEEDS_NEW_NODES[cls][2])


def test_the_read_graph_keeps_the_users_structure():
    weights, reading = read_module_graph(build(GRAPH_NETS and list(GRAPH_NETS)[1]))
    lines = reading.describe(weights.graph)
    assert "lstm_l0 = recurrent(kind='lstm'" in lines and "bidirectional=True" in lines
    assert "cat = merge(op='concatenate', axis=1)(lstm_l1[1], lstm_l1[3])" in lines
    assert "global_pool(op='max')(lstm_l1)" in lines


def test_weights_are_the_modules_own():
    module = build(list(GRAPH_NETS)[0], "float64")
    weights, _ = read_module_graph(module)
    arrays = weights.arrays["rnn"]
    np.testing.assert_array_equal(arrays["forward/W/h"], module.rnn.weight_ih_l0.detach().T)
    np.testing.assert_array_equal(arrays["forward/c/h"], module.rnn.bias_hh_l0.detach())


@pytest.mark.parametrize(
    ("cls", "words"),
    [
        (
            LearnedInitialState,
            "initial state of self.gru is not zeros (only None, zeros however built, or another "
            "recurrent module's final states port): call_module self.gru (node gru) at "
            "user_graph_nets.py:",
        ),
        (
            CumulativeSum,
            "outside what the graph reader ports: call_function cumsum (node cumsum) at "
            "user_graph_nets.py:",
        ),
        (TorchLeakySlope, "leaky_relu with negative_slope=0.01: Keras's leaky_relu has slope 0.2"),
        (
            SqueezedToTheBatch,
            "squeeze leaves only the batch axis, a (batch,) value, and every value of a model "
            "graph keeps a per-sample axis: return the (batch, 1) tensor and squeeze outside "
            "the model: call_method squeeze (node squeeze) at user_graph_nets.py:",
        ),
    ],
)
def test_refusals_name_the_node_and_the_source_line(cls, words):
    with pytest.raises(GrammarError) as caught:
        read_module_graph(build(cls))
    message = str(caught.value)
    assert words in message and "\n" not in message


def test_a_flatten_of_the_time_axis_asks_for_time_steps():
    with pytest.raises(GrammarError) as caught:
        read_module_graph(build(FlattenHead))
    message = str(caught.value)
    assert "needs a fixed length: pass time_steps" in message and "(node reshape)" in message
    assert "out.reshape(x.size(0), -1)" in message
