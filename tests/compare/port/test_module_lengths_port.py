"""Users' modules fed padded batches with their lengths port to Keras, checked against the
module's own forward (tests/user_lengths_nets.py).

Each pattern goes through `torch_module_to_keras`; the Keras model then runs beside the module,
called as its user calls it (time-major where it wants, batches sorted by length where it packs
with enforce_sorted=True), on lengths in any order the port never saw. One pattern also goes
through `port --module` from a state dict and from a Lightning checkpoint; its `.keras` runs in
plain Keras and its `.pt2` in plain torch, each in a process that never imports rnn-parity. A
planted mis-read (the last valid step read as out[:, -1]) is refused naming the node.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from compare.cli import main
from compare.port import torch_module_to_keras
from shared.errors import ModelFileError
from shared.graph.model import Ref
from shared.graph.samples import sample_inputs
from shared.graph.shape_ops import Step
from shared.tolerances import TOLERANCES, allowed_difference
from tests.compare.port.test_module_port import _checkpoint
from tests.user_lengths_nets import (
    LENGTHS_NETS,
    TIME_MAJOR_INPUT,
    LitPackedClassifier,
    PackedLSTMFinal,
    SortedBiGRUBothDirections,
    TimeMajorPackedLastValid,
    VariableInitialState,
    build,
)
from torch_impl.reading import packing, read_module_graph

HELPERS = "tests.user_lengths_nets"
SORTED = {SortedBiGRUBothDirections}  # packs with enforce_sorted=True
PLAIN = """
import importlib.abc, json, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"shared", "keras_impl", "torch_impl", "compare", "tests"}:
            raise ImportError("plain frameworks only: " + name)
sys.meta_path.insert(0, Block())
import keras, numpy as np, torch
job = json.loads(sys.argv[1])
x, lengths = np.load(job["x"]), np.load(job["lengths"])
model = keras.models.load_model(job["keras"], safe_mode=True)
np.save(job["keras_out"], np.asarray(model([x, lengths.astype("int32")], training=False)))
program = torch.export.load(job["pt2"]).module()
with torch.no_grad():
    np.save(job["pt2_out"], program(torch.from_numpy(x), torch.from_numpy(lengths)).numpy())
"""


def _inputs(module, batch: int, seed: int, time: int) -> dict[str, np.ndarray]:
    weights, _ = read_module_graph(module)
    inputs = sample_inputs(weights.graph, batch=batch, seed=seed, time_steps=time)
    if type(module) in SORTED:  # its user sorts every batch by length
        order = np.argsort(-inputs["lengths"], kind="stable")
        inputs = {name: array[order] for name, array in inputs.items()}
    return inputs


def _own_forward(module, inputs: dict[str, np.ndarray]) -> np.ndarray:
    x, lengths = torch.from_numpy(inputs["x"]), torch.from_numpy(inputs["lengths"])
    with torch.no_grad():
        if type(module) in TIME_MAJOR_INPUT:
            return module(x.transpose(0, 1), lengths).numpy()
        return module(x, lengths).numpy()


def _assert_close(got: np.ndarray, expected: np.ndarray, dtype: str) -> None:
    bound = allowed_difference(TOLERANCES[dtype], float(np.abs(expected).max()))
    assert got.shape == expected.shape
    assert float(np.abs(got.astype(np.float64) - expected).max()) <= bound


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cls", list(LENGTHS_NETS), ids=lambda cls: cls.__name__)
def test_each_lengths_pattern_ports_through_the_module_api(cls, dtype):
    module = build(cls, dtype)
    keras_model = torch_module_to_keras(module)
    assert [tensor.name for tensor in keras_model.inputs] == ["x", "lengths"]
    for batch, time in ((6, 7), (2, 4)):
        inputs = _inputs(module, batch, seed=batch, time=time)
        feed = [inputs["x"], inputs["lengths"].astype("int32")]
        got = np.asarray(keras_model(feed, training=False))
        _assert_close(got, _own_forward(module, inputs), dtype)


@pytest.mark.slow
def test_variable_wrapped_zero_states_port():
    module = build(VariableInitialState, "float64")
    keras_model = torch_module_to_keras(module)
    x = np.random.default_rng(2).normal(size=(3, 5, 3))
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    _assert_close(np.asarray(keras_model(x, training=False)), expected, "float64")


def _plain(tmp_path, inputs) -> tuple[np.ndarray, np.ndarray]:
    """m.keras run by plain Keras and m.pt2 by plain torch, in a process blocking rnn-parity."""
    np.save(tmp_path / "x.npy", inputs["x"])
    np.save(tmp_path / "lengths.npy", inputs["lengths"])
    job = {name: str(tmp_path / f"{name}.npy") for name in ("x", "lengths", "keras_out")}
    job |= {"pt2_out": str(tmp_path / "pt2_out.npy"), "keras": str(tmp_path / "m.keras")}
    job |= {"pt2": str(tmp_path / "m.pt2")}
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [sys.executable, "-c", PLAIN, json.dumps(job)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,  # a hang guard only: the outcome does not depend on when it ends
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return np.load(tmp_path / "keras_out.npy"), np.load(tmp_path / "pt2_out.npy")


@pytest.mark.slow
def test_port_module_from_a_state_dict_writes_keras_and_pt2_that_run_plain(tmp_path, capsys):
    module = build(PackedLSTMFinal, "float64")
    torch.save(module.state_dict(), tmp_path / "m.pt")
    module_flag = ["--module", f"{HELPERS}:PackedLSTMFinal"]
    assert main(["port", str(tmp_path / "m.pt"), str(tmp_path / "m.keras"), *module_flag]) == 0
    summary = capsys.readouterr().out
    assert "input lengths: lengths ()" in summary and "length_mask" in summary
    steps = ["--time-steps", "4"]  # the export unrolls the masked loop: few steps
    assert (
        main(["port", str(tmp_path / "m.pt"), str(tmp_path / "m.pt2"), *module_flag, *steps]) == 0
    )
    inputs = _inputs(module, batch=5, seed=3, time=4)
    expected = _own_forward(module, inputs)
    in_keras, in_torch = _plain(tmp_path, inputs)
    _assert_close(in_keras, expected, "float64")
    _assert_close(in_torch, expected, "float64")


@pytest.mark.slow
def test_port_module_from_a_lightning_checkpoint(tmp_path):
    import keras

    module = build(LitPackedClassifier, "float32", hidden_dim=5)  # not the class's default
    _checkpoint(module, tmp_path / "lit.ckpt")
    argv = ["port", str(tmp_path / "lit.ckpt"), str(tmp_path / "lit.keras")]
    assert main([*argv, "--module", f"{HELPERS}:LitPackedClassifier"]) == 0
    loaded = keras.models.load_model(tmp_path / "lit.keras", safe_mode=True)
    inputs = _inputs(module, batch=4, seed=5, time=7)
    got = np.asarray(loaded([inputs["x"], inputs["lengths"].astype("int32")], training=False))
    _assert_close(got, _own_forward(module, inputs), "float32")


def test_a_last_valid_step_misread_as_the_last_step_is_refused_naming_the_node(monkeypatch):
    def last_step(builder, ref, node, floor=0):  # the planted mis-read: out[:, -1] of the pad
        return Ref(builder.add(node.name, Step("last"), [ref], node))

    monkeypatch.setattr(packing, "_final_under_mask", last_step)
    with pytest.raises(ModelFileError) as caught:
        torch_module_to_keras(build(TimeMajorPackedLastValid), time_steps=6)
    message = str(caught.value)
    assert "your model vs what was read" in message and "tolerance" in message
    assert "first diverging node: getitem" in message and "= step()(rnn)" in message
    assert "\n" not in message


@pytest.mark.slow
def test_an_example_input_for_a_lengths_forward_is_refused_in_one_line():
    example = np.zeros((2, 5, 3), dtype="float32")
    with pytest.raises(ModelFileError) as caught:
        torch_module_to_keras(build(PackedLSTMFinal), example_input=example)
    message = str(caught.value)
    assert "your forward takes (x, lengths)" in message and "\n" not in message
