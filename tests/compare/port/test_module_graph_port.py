"""Users' modules the chain grammar refuses port to Keras as model graphs, checked against the
module's own forward.

Each model of tests/user_graph_nets.py goes through `torch_module_to_keras` (and `port
--module`), and the Keras model is then run beside the module, called as the user calls it,
on inputs the port never saw. Planted mis-reads (mean pooling read as max, attention's softmax
over the features) are refused naming the node; refusals of the reader are one line.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - the usual spelling

from compare.cli import main
from compare.port import torch_module_to_keras
from shared.errors import ModelFileError
from shared.graph.samples import sample_inputs
from shared.tolerances import TOLERANCES, allowed_difference
from tests.user_graph_nets import (
    GRAPH_NETS,
    KERAS_FLOAT32_CONSTANTS,
    NEEDS_NEW_NODES,
    TIME_MAJOR_INPUT,
    BmmAttention,
    CumulativeSum,
    LearnedInitialState,
    ReluRNNMeanPool,
    TimeMajorStackedGRU,
    build,
)
from tests.user_nets import ConvFront
from torch_impl.reading import functions, merges, read_module_graph

HELPERS = "tests.user_graph_nets"


def _own_forward(module: torch.nn.Module, X: np.ndarray) -> np.ndarray:
    """The module on batch-major X as its user calls it (time-major where it wants)."""
    inputs = torch.from_numpy(X)
    with torch.no_grad():
        if type(module) in TIME_MAJOR_INPUT:
            return module(inputs.transpose(0, 1)).numpy()
        return module(inputs).numpy()


def assert_keras_computes_the_module(keras_model, module, time_steps: int | None) -> None:
    weights, _ = read_module_graph(module, time_steps)
    X = sample_inputs(weights.graph, batch=5, seed=11, time_steps=time_steps or 7)["x"]
    expected = _own_forward(module, X)
    got = np.asarray(keras_model(X, training=False))
    dtype = weights.graph.dtype
    bound = allowed_difference(TOLERANCES[dtype], float(np.abs(expected).max()))
    assert got.shape == expected.shape
    assert float(np.abs(got.astype(np.float64) - expected).max()) <= bound


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cls", list(GRAPH_NETS), ids=lambda cls: cls.__name__)
def test_each_pattern_ports_through_the_module_api(cls, dtype):
    module = build(cls, dtype)
    time_steps = GRAPH_NETS[cls][2]
    if dtype == "float64" and cls in KERAS_FLOAT32_CONSTANTS:
        with pytest.raises(ModelFileError, match="the reader agrees with your model, so the Keras"):
            torch_module_to_keras(module, time_steps=time_steps)
        return
    keras_model = torch_module_to_keras(module, time_steps=time_steps)
    assert {str(w.dtype) for w in keras_model.weights} == {dtype}
    assert_keras_computes_the_module(keras_model, module, time_steps)


@pytest.mark.parametrize("cls", list(NEEDS_NEW_NODES), ids=lambda cls: cls.__name__)
def test_reduce_and_permute_patterns_port(cls):
    module = build(cls, "float32")
    time_steps = NEEDS_NEW_NODES[cls][2]
    keras_model = torch_module_to_keras(module, time_steps=time_steps)
    assert_keras_computes_the_module(keras_model, module, time_steps)


def test_an_example_input_in_the_modules_own_layout_is_checked_too():
    module = build(TimeMajorStackedGRU)
    example = np.random.default_rng(5).normal(size=(7, 2, 3)).astype("float32")  # time-major
    keras_model = torch_module_to_keras(module, example_input=example)
    assert_keras_computes_the_module(keras_model, module, None)


def test_a_conv_front_the_chain_refused_now_ports():
    module = build(ConvFront)
    assert_keras_computes_the_module(torch_module_to_keras(module), module, None)


def test_port_with_module_writes_a_graph_checked_against_the_forward(tmp_path, capsys):
    import keras

    module = build(BmmAttention, "float64")
    torch.save(module.state_dict(), tmp_path / "attn.pt")
    argv = ["port", str(tmp_path / "attn.pt"), str(tmp_path / "attn.keras")]
    assert main([*argv, "--module", f"{HELPERS}:BmmAttention"]) == 0
    summary = capsys.readouterr().out
    assert "a model graph of" in summary and "dot(axes=(1, 1))" in summary
    loaded = keras.models.load_model(tmp_path / "attn.keras", safe_mode=True)
    assert_keras_computes_the_module(loaded, module, None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["attn.keras", "attn.pt"]


@pytest.mark.parametrize(
    ("cls", "words"),
    [
        (LearnedInitialState, "initial state of self.gru is not zeros"),
        (CumulativeSum, "outside what the graph reader ports: call_function cumsum (node cumsum)"),
    ],
)
def test_refusals_are_one_line_naming_the_node_and_line(cls, words):
    with pytest.raises(ModelFileError) as caught:
        torch_module_to_keras(build(cls))
    message = str(caught.value)
    assert words in message and "at user_graph_nets.py:" in message and "\n" not in message


def test_a_refused_module_leaves_no_file(tmp_path, capsys):
    torch.save(build(LearnedInitialState).state_dict(), tmp_path / "m.pt")
    argv = ["port", str(tmp_path / "m.pt"), str(tmp_path / "m.keras")]
    assert main([*argv, "--module", f"{HELPERS}:LearnedInitialState"]) == 2
    error = capsys.readouterr().err.strip()
    assert "initial state of self.gru is not zeros" in error and "\n" not in error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]


def _mean_as_max(call, builder):
    return merges.reduction("max")(call, builder).items[0]


def _softmax_over_features(call, builder):
    from torch_impl.reading import shaping

    return shaping.softmax_over(call, builder, -1)


@pytest.mark.parametrize(
    ("cls", "table", "key", "plant", "node"),
    [
        (
            ReluRNNMeanPool,
            "METHODS",
            "mean",
            _mean_as_max,
            "mean = global_pool(op='max')",
        ),
        (BmmAttention, "FUNCTIONS", F.softmax, _softmax_over_features, "softmax = softmax("),
    ],
    ids=["pooling-read-as-max", "attention-softmax-over-features"],
)
def test_a_planted_misread_is_refused_naming_the_node(monkeypatch, cls, table, key, plant, node):
    monkeypatch.setitem(getattr(functions, table), key, plant)
    with pytest.raises(ModelFileError) as caught:
        torch_module_to_keras(build(cls))
    message = str(caught.value)
    assert "your model vs what was read" in message and "tolerance" in message
    assert f"first diverging node: {node}" in message and "\n" not in message


@pytest.mark.parametrize("name", ["FirstLayerState", "SwappedDirections"])
def test_what_the_chain_reader_refuses_ports_exactly_as_a_graph(impls, name):
    """h_n[0] of two layers and a backward-first cat, refused by the chain reader
    (tests/torch_impl/test_traced_mutants.py), port as graphs reading exactly those rows."""
    import tests.user_graph_nets as nets

    torch.manual_seed(3)
    module = getattr(nets, name)().eval()
    keras_model = torch_module_to_keras(module)
    assert_keras_computes_the_module(keras_model, module, None)
