"""A property over the model graph: any drawn graph builds in Keras, ports to torch and back.

Hypothesis draws graphs as people write them (tests/graph_strategies.py: fronts, stacks with
random recurrent options, branches and merges, pooling, attention, autoencoders, head layers,
both dtypes). Random non-constant weights go into a Keras model, which travels
`.keras -> .pt -> .keras` through `port_file`; each port is itself checked against its source's
own model on every check input set. The last file must then agree with the first Keras model
(1e-6 float32, 1e-12 float64, scaled above magnitude 1). A failure names the graph.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, note, settings

from compare.port import files as port
from compare.port.graph_port import check_inputs, compare_outputs
from shared.graph.weights import random_weights
from tests.graph_strategies import graphs

pytestmark = pytest.mark.slow


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,  # the same graphs every run: CI stays reproducible
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(graph=graphs())
def test_any_graph_ports_keras_to_torch_and_back(impls, tmp_path_factory, graph):
    keras_impl, _ = impls
    note(graph.describe())
    folder = tmp_path_factory.mktemp("graph")
    weights = random_weights(graph, seed=1)
    model = keras_impl.graph_from_canonical(weights)
    keras_impl.save_graph_model(model, folder / "source.keras")
    port.port_file(folder / "source.keras", folder / "model.pt")
    port.port_file(folder / "model.pt", folder / "back.keras")
    back = keras_impl.load_graph_model(folder / "back.keras")
    for label, inputs in check_inputs(weights, seed=2):
        rows = compare_outputs(
            "back vs source",
            keras_impl.graph_predict(back, inputs),
            keras_impl.graph_predict(model, inputs),
            graph.dtype,
            label,
        )
        assert all(row.ok for row in rows), rows
