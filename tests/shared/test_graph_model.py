"""The model graph validates, infers shapes and masks, and round-trips through JSON.

Every refusal names the node at fault; every kind's JSON form reads back equal, so a file
carrying a graph rebuilds the same model.
"""

from __future__ import annotations

import pytest

from shared.errors import SpecError
from shared.graph import layers, shape_ops
from shared.graph.model import GraphInput, ModelGraph, Node, Ref
from shared.graph.recurrent import Recurrent

X = GraphInput("x", "floats", None, 3)


def chain(*kinds, graph_input: GraphInput = X, dtype: str = "float32") -> ModelGraph:
    nodes, previous = [], graph_input.name
    for index, kind in enumerate(kinds):
        nodes.append(Node(f"n{index}", kind, (Ref(previous),)))
        previous = f"n{index}"
    return ModelGraph((graph_input,), tuple(nodes), (Ref(previous),), dtype)


def every_kind_graph() -> ModelGraph:
    """One graph holding every node kind, two inputs, branches, merges and states."""
    tokens = GraphInput("ids", "tokens", 6)
    floats = GraphInput("x", "floats", 6, 3)
    node = Node
    nodes = (
        node("emb", layers.Embedding(9, 3, mask_zero=True), (Ref("ids"),)),
        node("mask", layers.Masking(0.5), (Ref("x"),)),
        node("conv", shape_ops.Conv1D(3, 3, padding="causal", dilation_rate=2), (Ref("mask"),)),
        node("pool", shape_ops.Pool1D("average", 2, 1, "same"), (Ref("conv"),)),
        node("enc", Recurrent("lstm", 4, return_state=True, activation="relu"), (Ref("emb"),)),
        node(
            "dec",
            Recurrent("lstm", 4, return_sequences=True, use_bias=False),
            (Ref("pool"), Ref("enc", 1), Ref("enc", 2)),
        ),
        node(
            "bi",
            Recurrent(
                "gru",
                2,
                return_sequences=True,
                bidirectional=True,
                merge_mode=None,
                zero_output_for_mask=True,
            ),
            (Ref("dec"),),
        ),
        node("add", shape_ops.Merge("add"), (Ref("bi", 0), Ref("bi", 1))),
        node("cat", shape_ops.Merge("concatenate", -1), (Ref("add"), Ref("dec"))),
        node("norm", layers.LayerNorm(1e-5), (Ref("cat"),)),
        node("bn", layers.BatchNorm(center=False), (Ref("norm"),)),
        node("drop", layers.Dropout(0.2, "spatial_dropout1d"), (Ref("bn"),)),
        node("score", layers.Dense(1, use_bias=False), (Ref("drop"),)),
        node("gmax", shape_ops.GlobalPool("max"), (Ref("score"),)),
        node("flat", shape_ops.Flatten(), (Ref("drop"),)),
        node("alpha", shape_ops.Softmax(axis=1), (Ref("flat"),)),
        node("ctx", shape_ops.Dot((1, 1)), (Ref("alpha"), Ref("flat"))),
        node("gavg", shape_ops.GlobalPool("average"), (Ref("drop"),)),
        node("last", shape_ops.Step("last"), (Ref("drop"),)),
        node("rep", shape_ops.Repeat(2), (Ref("last"),)),
        node("first", shape_ops.Step("first"), (Ref("rep"),)),
        node("act", layers.Activation("relu"), (Ref("first"),)),
        node("out", layers.Dense(2, "tanh"), (Ref("act"),)),
    )
    outputs = (Ref("out"), Ref("gavg"), Ref("ctx"), Ref("gmax"))
    return ModelGraph((tokens, floats), nodes, outputs, "float64")


def test_every_kind_round_trips_through_json():
    graph = every_kind_graph()
    again = ModelGraph.from_json(graph.to_json())
    assert again == graph
    assert again.to_json() == graph.to_json()


def test_shapes_and_masks_follow_each_kind():
    graph = every_kind_graph()
    assert graph.shape(Ref("emb")) == (6, 3)
    assert graph.shape(Ref("conv")) == (6, 3)  # causal keeps the length
    assert graph.shape(Ref("enc", 0)) == (4,) and graph.shape(Ref("enc", 2)) == (4,)
    assert graph.shape(Ref("bi", 1)) == (6, 2)
    assert graph.shape(Ref("cat")) == (6, 6)
    assert graph.shape(Ref("flat")) == (36,)
    assert graph.shape(Ref("ctx")) == (1,)
    assert graph.shape(Ref("rep")) == (2, 6)
    # masks: made by embedding and masking, dropped by conv, carried by sequences and merges
    assert graph.masked(Ref("emb")) and graph.masked(Ref("mask"))
    assert not graph.masked(Ref("conv")) and not graph.masked(Ref("enc", 1))
    assert not graph.masked(Ref("dec"))  # it reads the pooled (unmasked) sequence
    assert not graph.masked(Ref("gavg"))


def test_a_returned_sequence_carries_its_mask_and_a_merge_passes_it_on():
    graph = chain(
        layers.Masking(),
        Recurrent("gru", 2, return_sequences=True),
        layers.Dense(2),
    )
    assert graph.masked(Ref("n1")) and graph.masked(Ref("n2"))
    final = chain(layers.Masking(), Recurrent("gru", 2))
    assert not final.masked(Ref("n1"))


@pytest.mark.parametrize(
    ("kinds", "words"),
    [
        ((shape_ops.Flatten(),), "flatten needs every axis known"),
        ((Recurrent("lstm", 2), shape_ops.GlobalPool()), "needs inputs with 2 per-sample axes"),
        ((layers.Masking(), layers.Dense(1), shape_ops.Softmax(1)), "carries a mask"),
        ((shape_ops.Conv1D(2, 9),), None),  # a free time axis: any kernel fits
    ],
)
def test_a_misfit_is_refused_naming_the_node(kinds, words):
    if words is None:
        chain(*kinds)
        return
    with pytest.raises(SpecError, match=words) as caught:
        chain(*kinds)
    assert f"node 'n{len(kinds) - 1}'" in str(caught.value)


def test_a_window_longer_than_a_fixed_sequence_is_refused():
    with pytest.raises(SpecError, match="node 'n0' \\(conv1d\\).*does not fit 4 steps"):
        chain(shape_ops.Conv1D(2, 5), graph_input=GraphInput("x", "floats", 4, 1))


def test_references_names_and_arity_are_checked():
    dense = layers.Dense(1)
    with pytest.raises(SpecError, match="'d' \\(dense\\)|reads 'nowhere'"):
        ModelGraph((X,), (Node("d", dense, (Ref("nowhere"),)),), (Ref("d"),))
    with pytest.raises(SpecError, match="reads output 1 of 'x'"):
        ModelGraph((X,), (Node("d", dense, (Ref("x", 1),)),), (Ref("d"),))
    with pytest.raises(SpecError, match="used twice"):
        ModelGraph((X,), (Node("x", dense, (Ref("x"),)),), (Ref("x"),))
    with pytest.raises(SpecError, match="'bad/name'"):
        ModelGraph((X,), (Node("bad/name", dense, (Ref("x"),)),), (Ref("bad/name"),))
    with pytest.raises(SpecError, match="takes 2 input"):
        ModelGraph((X,), (Node("d", shape_ops.Dot((1, 1)), (Ref("x"),)),), (Ref("d"),))
    with pytest.raises(SpecError, match="'a' feed\\(s\\) nothing"):
        ModelGraph(
            (X,), (Node("a", dense, (Ref("x"),)), Node("b", dense, (Ref("x"),))), (Ref("b"),)
        )


def test_initial_states_must_fit_the_recurrent_node():
    states = Recurrent("lstm", 3)
    with pytest.raises(SpecError, match="2 initial state\\(s\\); got 1"):
        ModelGraph(
            (X, GraphInput("h", "floats", 1, 3)),
            (
                Node("f", shape_ops.Flatten(), (Ref("h"),)),
                Node("r", states, (Ref("x"), Ref("f"))),
            ),
            (Ref("r"),),
        )


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"format": "chain"}, '"format": "graph"'),
        ({"format": "graph", "inputs": [], "nodes": [], "outputs": [], "extra": 1}, "extra"),
        (
            {
                "format": "graph",
                "inputs": [{"name": "x", "kind": "floats", "time_steps": 3, "features": 1}],
                "nodes": [{"name": "d", "type": "lambda", "inputs": [["x", 0]]}],
                "outputs": [["d", 0]],
            },
            "type must be one of",
        ),
        (
            {
                "format": "graph",
                "inputs": [{"name": "x", "kind": "floats", "time_steps": 3, "features": 1}],
                "nodes": [{"name": "d", "type": "dense", "units": 0, "inputs": [["x", 0]]}],
                "outputs": [["d", 0]],
            },
            "units",
        ),
        (
            {
                "format": "graph",
                "inputs": [{"name": "x", "kind": "floats", "time_steps": 3, "features": 1}],
                "nodes": [{"name": "d", "type": "dense", "inputs": ["x"]}],
                "outputs": [["d", 0]],
            },
            "reference must be",
        ),
    ],
)
def test_bad_json_is_one_clear_error(data, words):
    with pytest.raises(SpecError, match=words):
        ModelGraph.from_dict(data)


def test_reduce_and_permute_shapes_and_json():
    graph = chain(shape_ops.Permute((2, 1)), shape_ops.Reduce("max", 2, keepdims=True))
    assert graph.shape(Ref("n0")) == (3, None) and graph.shape(Ref("n1")) == (3, 1)
    assert ModelGraph.from_json(graph.to_json()) == graph
    with pytest.raises(SpecError, match="dims must order"):
        shape_ops.Permute((0, 1))
