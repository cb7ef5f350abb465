"""Files written by release 0.1 (before the grammar) still load and compute the same.

The fixtures in tests/fixtures/release_0_1 were written by release 0.1's own `save_model` and
`save_npz` (a tutorial SimpleRNN in float32, a stacked bidirectional LSTM + GRU reset_after=False
returning sequences in float64), with Keras's outputs on stored inputs. Each file must load in
today's impls and give those outputs within 1e-6 / 1e-12 (the frameworks' usual rounding), and
port to every other format.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from compare.port import files as port
from shared.graph.chain import graph_of, graph_weights
from shared.graph.model import ModelGraph, same_graph
from shared.graph.reference import predict as graph_predict
from shared.spec import ModelSpec
from shared.tolerances import TOLERANCES
from shared.weight_files import load_npz

FIXTURES = Path(__file__).parents[2] / "fixtures" / "release_0_1"
NAMES = ("tutorial", "stacked_bilstm_seq64")


@pytest.mark.slow
@pytest.mark.parametrize("ext", [".keras", ".pt", ".ckpt", ".npz"])
@pytest.mark.parametrize("name", NAMES)
def test_release_0_1_files_load_and_compute_the_same(impls, name, ext):
    spec = ModelSpec.from_json((FIXTURES / f"{name}.json").read_text())
    stored = np.load(FIXTURES / f"{name}_io.npz")
    weights = port.load_weights(FIXTURES / f"{name}{ext}")
    assert weights.spec == spec
    outputs = np.asarray(port.predict_file(FIXTURES / f"{name}{ext}", stored["X"]))
    assert np.max(np.abs(outputs - stored["y"])) <= TOLERANCES[spec.dtype]


@pytest.mark.parametrize("name", NAMES)
def test_release_0_1_keras_files_port_to_torch(impls, tmp_path, name):
    result = port.port_file(FIXTURES / f"{name}.keras", tmp_path / "model.safetensors")
    assert all(row.ok for row in result.agreement)


@pytest.mark.parametrize("name", NAMES)
def test_release_0_1_files_read_as_graphs_compute_the_same(name):
    """The chain is one way to build a graph: its graph gives release 0.1's Keras outputs."""
    stored = np.load(FIXTURES / f"{name}_io.npz")
    weights = graph_weights(load_npz(FIXTURES / f"{name}.npz"))
    (outputs,) = graph_predict(weights, stored["X"])
    assert np.max(np.abs(outputs - stored["y"])) <= TOLERANCES[weights.graph.dtype]
    assert ModelGraph.from_json(weights.graph.to_json()) == weights.graph


@pytest.mark.parametrize("name", NAMES)
def test_release_0_1_keras_files_read_as_the_graph_of_their_spec(impls, name):
    """Keras's own file, read by the graph reader, is the chain's graph (its input aside, which
    Keras names itself), so both readers agree on what release 0.1 wrote."""
    keras_impl, _ = impls
    spec = ModelSpec.from_json((FIXTURES / f"{name}.json").read_text())
    read, _ = keras_impl.read_graph(keras_impl.load_graph_model(FIXTURES / f"{name}.keras"))
    renamed = read.to_json().replace(f'"{read.inputs[0].name}"', '"x"')
    assert same_graph(ModelGraph.from_json(renamed), graph_of(spec))
