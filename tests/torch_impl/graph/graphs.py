"""Small graphs for the GraphNet tests, and the one check against the numpy reference.

`assert_matches_reference` runs a graph in torch and in `shared.graph.reference` on the same
random weights and inputs (padding at the end, middle and start where the graph masks, two
time lengths where the time axis is free) and holds them within the project's tolerances.
"""

from __future__ import annotations

import numpy as np

from shared.graph import layers, shape_ops
from shared.graph.base import NodeKind
from shared.graph.model import GraphInput, ModelGraph, Node, Ref
from shared.graph.recurrent import Recurrent
from shared.graph.reference import predict
from shared.graph.samples import sample_inputs
from shared.graph.weights import random_weights
from shared.tolerances import TOLERANCES, allowed_difference
from torch_impl.graph import GraphNet, graph_predict, graph_set_canonical

TIME_LENGTHS = (4, 7)  # two lengths where the time axis is free
BATCH = 4  # samples 1, 2, 3 padded at the end, middle and start where the graph masks


def one_node(
    kind: NodeKind,
    dtype: str = "float64",
    *,
    time: int | None = None,
    features: int = 3,
    masked: bool = False,
    before: tuple[NodeKind, ...] = (),
    after: tuple[NodeKind, ...] = (),
) -> ModelGraph:
    """x (time, features) [-> Masking] -> *before -> kind -> *after, every output of `kind`
    (or of the last `after` node) a graph output."""
    chain = ((layers.Masking(),) if masked else ()) + before + (kind,) + after
    nodes, ref = [], Ref("x")
    for index, node_kind in enumerate(chain):
        name = f"n{index}"
        nodes.append(Node(name, node_kind, (ref,)))
        ref = Ref(name)
    graph = ModelGraph((GraphInput("x", "floats", time, features),), tuple(nodes), (ref,), dtype)
    return all_outputs(graph, ref.node)


def all_outputs(graph: ModelGraph, name: str) -> ModelGraph:
    """The same graph with every output of node `name` as its outputs."""
    node = graph.by_name[name]
    count = len(node.kind.output_shapes(graph.input_shapes(node)))
    outputs = tuple(Ref(name, index) for index in range(count))
    return ModelGraph(graph.inputs, graph.nodes, outputs, graph.dtype)


def with_initial_states(kind: Recurrent, dtype: str, *, masked: bool = False) -> ModelGraph:
    """An encoder (same kind, return_state) hands its final states to `kind` as initial states."""
    encoder = Recurrent(
        kind.kind,
        kind.units,
        activation=kind.activation,
        return_state=True,
        bidirectional=kind.bidirectional,
    )
    front = (Node("mask", layers.Masking(), (Ref("x"),)),) if masked else ()
    source = Ref("mask") if masked else Ref("x")
    # the encoder's output 0 is its (merged) final output, then its states in Keras's order
    states = tuple(Ref("encoder", 1 + index) for index in range(kind.state_count))
    nodes = (
        *front,
        Node("encoder", encoder, (source,)),
        Node("decoder", kind, (source, *states)),
    )
    graph = ModelGraph((GraphInput("x", "floats", None, 3),), nodes, (Ref("decoder"),), dtype)
    return all_outputs(graph, "decoder")


def assert_matches_reference(graph: ModelGraph, *, seed: int = 0, loop: bool = False) -> GraphNet:
    """GraphNet vs the reference on random weights, at every time length the graph allows.

    Returns:
        The GraphNet checked (so a test can also look at which modules it chose).
    """
    weights = random_weights(graph, seed)
    net = GraphNet(graph, loop=loop)
    graph_set_canonical(net, weights)
    lengths = TIME_LENGTHS if graph.free_time else (None,)
    tolerance = TOLERANCES[graph.dtype]
    for time in lengths:
        inputs = sample_inputs(graph, batch=BATCH, seed=seed + 1, time_steps=time)
        expected, got = predict(weights, inputs), graph_predict(net, inputs)
        assert len(got) == len(expected)
        for index, (want, have) in enumerate(zip(expected, got, strict=True)):
            assert have.shape == want.shape, (index, have.shape, want.shape)
            assert have.dtype == np.dtype(graph.dtype)
            magnitude = float(np.max(np.abs(want))) if want.size else 0.0
            gap = float(np.max(np.abs(have.astype(np.float64) - want))) if want.size else 0.0
            bound = allowed_difference(tolerance, magnitude)
            assert gap <= bound, f"output {index} at time {time}: {gap:.3g} > {bound:.3g}"
    return net


def lengths_graph(dtype: str, time: int | None = None, min_length: int = 0) -> ModelGraph:
    """x, n -> length_mask -> bidirectional GRU sequence -> LSTM final, and an average pool."""
    inputs = (GraphInput("x", "floats", time, 3), GraphInput("n", "lengths"))
    nodes = (
        Node("mask", layers.LengthMask(min_length), (Ref("x"), Ref("n"))),
        Node(
            "bi",
            Recurrent(
                "gru", 3, return_sequences=True, bidirectional=True, zero_output_for_mask=True
            ),
            (Ref("mask"),),
        ),
        Node("last", Recurrent("lstm", 2), (Ref("bi"),)),
        Node("pool", shape_ops.GlobalPool("average"), (Ref("bi"),)),
    )
    return ModelGraph(inputs, nodes, (Ref("last"), Ref("pool")), dtype)
