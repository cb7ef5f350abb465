"""The reference evaluates any drawn graph: every output finite and shaped as the graph says.

The property test that carries these graphs through Keras and torch
(tests/compare/port/test_graph_property.py) is only as wide as the strategy; this cheap check
runs many more draws against the framework-free reference alone.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, note, settings

from shared.graph.reference import predict
from shared.graph.samples import FREE_TIME_STEPS, sample_inputs
from shared.graph.weights import random_weights
from tests.graph_strategies import graphs


@settings(max_examples=150, deadline=None, derandomize=True)  # reproducible in CI
@given(graphs())
def test_the_reference_evaluates_every_drawn_graph(graph):
    note(graph.describe())
    assert type(graph).from_json(graph.to_json()) == graph
    weights = random_weights(graph, seed=0)
    lengths = FREE_TIME_STEPS if graph.free_time else (None,)
    for time in lengths:
        (output,) = predict(weights, sample_inputs(graph, batch=4, time_steps=time))
        expected = graph.output_shapes[0]
        assert output.shape[1:] == tuple(time if size is None else size for size in expected)
        assert np.all(np.isfinite(output))
        assert output.dtype == np.dtype(graph.dtype)
