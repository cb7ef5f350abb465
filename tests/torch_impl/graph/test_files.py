"""GraphNet weights and files: canonical arrays round trip bitwise, .pt and .safetensors files
rebuild the same net and refuse what is not theirs, .pt2 programs run in plain torch."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from shared.errors import ModelFileError, WeightFormatError
from shared.graph import layers
from shared.graph import shape_ops as ops
from shared.graph.model import GraphInput, ModelGraph, Node, Ref
from shared.graph.recurrent import Recurrent
from shared.graph.samples import sample_inputs
from shared.graph.weights import random_weights
from torch_impl.graph import (
    build_graph_model,
    export_graph_program,
    graph_from_canonical,
    graph_predict,
    graph_set_canonical,
    graph_to_canonical,
    load_graph_model,
    read_graph,
    run_graph_program,
    save_graph_model,
)


def _graph(dtype: str = "float64") -> ModelGraph:
    """Token ids and floats: an embedding into a masked bidirectional LSTM, a conv branch,
    merged, normalised, with every weighted kind and a node name holding a dot."""
    nodes = (
        Node("embed", layers.Embedding(7, 3, mask_zero=True), (Ref("ids"),)),
        Node(
            "rnn.enc",
            Recurrent(
                "lstm",
                3,
                bidirectional=True,
                return_sequences=True,
                return_state=True,
                zero_output_for_mask=True,
            ),
            (Ref("embed"),),
        ),
        Node("pool", ops.GlobalPool(), (Ref("rnn.enc"),)),
        Node("conv", ops.Conv1D(2, 3, padding="causal"), (Ref("x"),)),
        Node("gru", Recurrent("gru", 3, reset_after=False, use_bias=False), (Ref("conv"),)),
        Node("merge", ops.Merge("concatenate"), (Ref("pool"), Ref("gru"), Ref("rnn.enc", 1))),
        Node("norm", layers.LayerNorm(center=False), (Ref("merge"),)),
        Node("batch", layers.BatchNorm(), (Ref("norm"),)),
        Node("keys", layers.Dense(2, use_bias=False), (Ref("batch"),)),
    )
    inputs = (GraphInput("ids", "tokens", 6), GraphInput("x", "floats", 6, 2))
    return ModelGraph(inputs, nodes, (Ref("keys"), Ref("rnn.enc", 4)), dtype)


def _same(first: list[np.ndarray], second: list[np.ndarray]) -> bool:
    return all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_canonical_round_trip_is_bitwise(dtype: str) -> None:
    weights = random_weights(_graph(dtype), seed=3)
    net = build_graph_model(weights.graph, seed=1)
    graph_set_canonical(net, weights)
    back = graph_to_canonical(net)
    assert back.to_arrays().keys() == weights.to_arrays().keys()
    for name, array in weights.to_arrays().items():
        assert back.to_arrays()[name].dtype == array.dtype
        assert np.array_equal(back.to_arrays()[name], array), name


def test_seeded_builds_repeat_and_read_graph_names_every_node() -> None:
    graph = _graph()
    first, second = build_graph_model(graph, seed=5), build_graph_model(graph, seed=5)
    assert graph_to_canonical(first).max_abs_diff(graph_to_canonical(second)) == 0.0
    read, modules = read_graph(first)
    assert read == graph and list(modules) == [node.name for node in graph.nodes]


def test_weights_of_another_graph_are_refused_before_any_change() -> None:
    net = graph_from_canonical(random_weights(_graph(), seed=0))
    before = graph_to_canonical(net)
    with pytest.raises(WeightFormatError, match="another graph"):
        graph_set_canonical(net, random_weights(_graph("float32"), seed=1))
    assert graph_to_canonical(net).max_abs_diff(before) == 0.0


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_files_rebuild_the_same_net(tmp_path: Path, suffix: str) -> None:
    net = graph_from_canonical(random_weights(_graph(), seed=2))
    path = save_graph_model(net, tmp_path / f"model{suffix}")
    loaded = load_graph_model(path)
    inputs = sample_inputs(net.graph, batch=4, seed=1)
    assert loaded.graph == net.graph and not loaded.training
    assert _same(graph_predict(loaded, inputs), graph_predict(net, inputs))
    assert not list(tmp_path.glob("*.partial"))


class _Payload:
    """A class a pickle would import and run on load."""


def test_a_pickled_object_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"graph_json": _graph().to_json(), "state_dict": {}, "x": _Payload()}, path)
    with pytest.raises(ModelFileError, match="refused: it holds a pickled object"):
        load_graph_model(path)


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_tampered_files_are_refused(tmp_path: Path, suffix: str) -> None:
    net = build_graph_model(_graph(), seed=0)
    path = save_graph_model(net, tmp_path / f"model{suffix}")
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(ModelFileError, match="model"):
        load_graph_model(path)
    # a file whose tensors do not fit its graph
    other = build_graph_model(_graph("float32"), seed=0)
    state = dict(other.state_dict())
    torch.save({"graph_json": _graph().to_json(), "state_dict": state}, tmp_path / "mixed.pt")
    with pytest.raises(ModelFileError, match="float32"):
        load_graph_model(tmp_path / "mixed.pt")
    with pytest.raises(ModelFileError, match="no model graph"):
        torch.save({"state_dict": state}, tmp_path / "bare.pt")
        load_graph_model(tmp_path / "bare.pt")
    with pytest.raises(ModelFileError, match="end in .pt or .safetensors"):
        save_graph_model(net, tmp_path / "model.ckpt")


def _free_time_front(dtype: str = "float32") -> ModelGraph:
    nodes = (
        Node("conv", ops.Conv1D(3, 3, padding="same"), (Ref("x"),)),
        Node("mask", layers.Masking(), (Ref("conv"),)),
        Node("dense", layers.Dense(2, "tanh"), (Ref("mask"),)),
        Node("pool", ops.GlobalPool(), (Ref("dense"),)),
    )
    return ModelGraph((GraphInput("x", "floats", None, 2),), nodes, (Ref("pool"),), dtype)


def _check_program(tmp_path: Path, net, lengths: tuple, **options) -> None:
    path = export_graph_program(net, tmp_path / "model.pt2", **options)
    for time in lengths:
        for batch in (1, 5):
            inputs = sample_inputs(net.graph, batch=batch, seed=batch, time_steps=time)
            arrays = [inputs[graph_input.name] for graph_input in net.graph.inputs]
            got = run_graph_program(path, arrays)
            want = graph_predict(net, inputs)
            for have, expected in zip(got, want, strict=True):
                np.testing.assert_allclose(have, expected, rtol=0, atol=1e-6)


def test_a_free_time_graph_exports_a_free_time_axis(tmp_path: Path) -> None:
    net = graph_from_canonical(random_weights(_free_time_front(), seed=0))
    _check_program(tmp_path, net, (4, 7))


@pytest.mark.slow
def test_a_masked_recurrent_graph_exports_its_fixed_length(tmp_path: Path) -> None:
    net = graph_from_canonical(random_weights(_graph("float32"), seed=0))
    _check_program(tmp_path, net, (None,))


def test_a_recurrence_over_a_free_time_axis_is_refused_naming_it(tmp_path: Path) -> None:
    nodes = (Node("rnn", Recurrent("lstm", 2), (Ref("x"),)),)
    graph = ModelGraph((GraphInput("x", "floats", None, 2),), nodes, (Ref("rnn"),))
    net = build_graph_model(graph, seed=0)
    with pytest.raises(ModelFileError, match=r"node rnn = recurrent\(kind='lstm'.*time_steps"):
        export_graph_program(net, tmp_path / "model.pt2")


def test_a_recurrence_over_a_free_time_axis_exports_the_length_given(tmp_path: Path) -> None:
    nodes = (Node("rnn", Recurrent("gru", 2, return_sequences=True), (Ref("x"),)),)
    graph = ModelGraph((GraphInput("x", "floats", None, 2),), nodes, (Ref("rnn"),))
    net = graph_from_canonical(random_weights(graph, seed=0))
    # torch warned about nn.GRU's _flat_weights on every export, on the user's terminal too
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _check_program(tmp_path, net, (6,), time_steps=6)
    assert [str(w.message) for w in caught] == []
