"""Porting the models people have: their own torch files and modules, and legacy Keras .h5.

A user's state dict (plain .pt, .safetensors, or their LightningModule's checkpoint) is ported
to .keras and back to a torch file, and both must compute what the user's own forward computes:
within 1e-6 in float32 and 1e-12 in float64 (a few ulps of summation-order drift, see
shared/tolerances.py). The cases cover every kind, one and two layers, one and two
directions, every file kind and both dtypes (each pair of them at least once, not the whole
product: each case builds several Keras models). A ported .keras loads in a process that never
imports rnn-parity, and every refusal is one line that writes nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from compare.cli import main
from compare.port import (
    Assumptions,
    load_weights,
    port_file,
    predict_file,
    torch_module_to_keras,
)
from compare.port.agreement import random_inputs
from compare.testing import assert_same_outputs
from shared.errors import ModelFileError
from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import DenseSpec, ModelSpec
from shared.tolerances import TOLERANCES
from shared.weights import random_weights
from tests.user_nets import (
    PORTED_TIME_STEPS,
    TIME_STEPS,
    BiLSTMFinal,
    BiLSTMLastStep,
    UserLightning,
    build,
    make_net,
    max_abs,
    outputs,
    user_inputs,
)

STEPS = Assumptions(time_steps=TIME_STEPS, readout="final")  # UserNet's head reads h_n


def _save_user_file(net: torch.nn.Module, path) -> None:
    """Save `net` as a user would for `path`'s extension."""
    if path.suffix == ".safetensors":
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, path)
    elif path.suffix == ".ckpt":  # the user's LightningModule, holding the net as .model
        holder = UserLightning()
        holder.model = net
        torch.save(
            {"state_dict": holder.state_dict(), "hyper_parameters": dict(holder.hparams)}, path
        )
    else:
        torch.save(net.state_dict(), path)


CASES = [  # kind, layers, bidirectional, file, dtype
    ("rnn", 1, False, ".pt", "float32"),
    ("rnn", 2, True, ".safetensors", "float64"),
    ("lstm", 2, False, ".ckpt", "float32"),
    ("lstm", 1, True, ".pt", "float64"),
    ("gru", 1, True, ".safetensors", "float32"),
    ("gru", 2, False, ".ckpt", "float64"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "layers", "bidirectional", "suffix", "dtype"),
    CASES,
    ids=["-".join(map(str, case)) for case in CASES],
)
def test_user_file_to_keras_and_back(tmp_path, kind, layers, bidirectional, suffix, dtype):
    net = make_net(kind, layers, bidirectional, dtype, batch_first=not bidirectional)
    source = tmp_path / f"user{suffix}"
    _save_user_file(net, source)
    X = user_inputs(dtype, batch=16)
    expected = outputs(net, X)

    result = port_file(source, tmp_path / "ported.keras", assumptions=STEPS)
    assert any(line.startswith(("rnn.", "model.rnn.")) for line in result.mapping)
    keras_gap = max_abs(predict_file(tmp_path / "ported.keras", X), expected)
    port_file(tmp_path / "ported.keras", tmp_path / "back.pt")
    back_gap = max_abs(predict_file(tmp_path / "back.pt", X), expected)
    print(
        f"{kind} {layers} {'bi' if bidirectional else 'uni'} {suffix} {dtype}: "
        f"keras {keras_gap:.1e}, back {back_gap:.1e}"
    )
    assert keras_gap <= TOLERANCES[dtype]
    assert back_gap <= TOLERANCES[dtype]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [source.name, "ported.keras", "back.pt"]
    )


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_module_to_keras(dtype):
    net = make_net("lstm", 2, True, dtype)
    keras_model = torch_module_to_keras(net, time_steps=TIME_STEPS)
    X = user_inputs(dtype)
    assert max_abs(keras_model(X, training=False).numpy(), outputs(net, X)) <= TOLERANCES[dtype]
    assert_same_outputs(keras_model, net, X)


# ---------------------------------------------------------------------------------------------
# Legacy Keras .h5 sources. The fixtures come from Keras 3's `model.save("x.h5")`, its legacy
# HDF5 writer: the same layout (model_config JSON + model_weights groups) Keras 2 wrote, so they
# cover the checks and the loader path, though not every Keras 2 config spelling.
# ---------------------------------------------------------------------------------------------


def _legacy_h5(impls, path, dtype: str, functional: bool):
    """A Keras model with random weights, saved as legacy HDF5; Sequential or Functional."""
    keras_impl, _ = impls
    import keras

    layers = (
        RecurrentLayerSpec("lstm", 3, return_sequences=True, bidirectional=True),
        RecurrentLayerSpec("gru", 2, reset_after=False),
    )
    weights = random_weights(ModelSpec(TIME_STEPS, 2, layers, DenseSpec(1, "tanh"), dtype), 4)
    if functional:  # written by hand, as a Keras 2 user would
        inputs = keras.Input((TIME_STEPS, 2), dtype=dtype)
        lstm = keras.layers.LSTM(3, return_sequences=True, dtype=dtype)
        hidden = keras.layers.Bidirectional(lstm, dtype=dtype)(inputs)
        hidden = keras.layers.GRU(2, reset_after=False, dtype=dtype)(hidden)
        model = keras.Model(inputs, keras.layers.Dense(1, "tanh", dtype=dtype)(hidden))
        keras_impl.set_canonical(model, weights)
    else:
        model = keras_impl.from_canonical(weights)
    model.save(path)
    return model


@pytest.mark.slow
@pytest.mark.parametrize(
    ("functional", "dtype", "destination"),
    [(False, "float32", "ported.ckpt"), (True, "float64", "ported.keras")],
    ids=["sequential-f32", "functional-f64"],
)
def test_legacy_h5_source(impls, tmp_path, functional, dtype, destination):
    model = _legacy_h5(impls, tmp_path / "old.h5", dtype, functional)
    port_file(tmp_path / "old.h5", tmp_path / destination)
    X = user_inputs(dtype)
    expected = impls[0].predict(model, X)
    assert max_abs(predict_file(tmp_path / destination, X), expected) <= TOLERANCES[dtype]


def test_legacy_h5_refusals(impls, tmp_path):
    import keras

    inputs = keras.Input((TIME_STEPS, 2))
    doubled = keras.layers.Lambda(lambda x: x * 2)(inputs)
    outputs_ = keras.layers.Dense(1)(keras.layers.SimpleRNN(3)(doubled))
    keras.Model(inputs, outputs_).save(tmp_path / "lambda.h5")
    with pytest.raises(
        ModelFileError, match=r"lambda.h5: layer 'lambda' \(Lambda\) is not allowed"
    ):
        port_file(tmp_path / "lambda.h5", tmp_path / "out.keras")
    keras.Model(inputs, outputs_).save_weights(tmp_path / "only.weights.h5")
    with pytest.raises(ModelFileError, match="holds no model_config"):
        port_file(tmp_path / "only.weights.h5", tmp_path / "out.keras")
    with pytest.raises(ModelFileError, match=r"out.h5: legacy HDF5 \(.h5\) is a source only"):
        port_file(tmp_path / "lambda.h5", tmp_path / "out.h5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lambda.h5", "only.weights.h5"]


# ---------------------------------------------------------------------------------------------
# A ported .keras is plain Keras
# ---------------------------------------------------------------------------------------------

_PLAIN_KERAS = textwrap.dedent(
    """
    import sys
    import numpy as np
    import keras
    model = keras.models.load_model(sys.argv[1])  # no custom_objects
    np.save(sys.argv[3], model.predict(np.load(sys.argv[2]), verbose=0))
    ours = {"compare", "shared", "keras_impl", "torch_impl"}
    assert not ours & {name.split(".")[0] for name in sys.modules}, "rnn-parity was imported"
    """
)


@pytest.mark.slow
def test_a_ported_keras_file_loads_without_rnn_parity(tmp_path):
    net = make_net("gru", 2, True, "float32")
    _save_user_file(net, tmp_path / "user.pt")
    port_file(tmp_path / "user.pt", tmp_path / "model.keras", assumptions=STEPS)
    X = user_inputs("float32")
    np.save(tmp_path / "x.npy", X)
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {**os.environ, "PYTHONPATH": str(empty), "TF_CPP_MIN_LOG_LEVEL": "3"}
    env["KERAS_BACKEND"] = "tensorflow"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _PLAIN_KERAS,
            str(tmp_path / "model.keras"),
            str(tmp_path / "x.npy"),
            str(tmp_path / "y.npy"),
        ],
        cwd=empty,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,  # a hang guard only: the outcome does not depend on when it ends
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # float32: few-ulp summation-order drift between torch and Keras
    assert max_abs(np.load(tmp_path / "y.npy"), outputs(net, X)) <= 1e-6


# ---------------------------------------------------------------------------------------------
# The command line: flags, and refusals as one line that leave every file as it was
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_flags_set_what_a_state_dict_cannot_say(tmp_path, capsys, impls):
    net = make_net("rnn", 1, False, "float32", nonlinearity="relu")
    torch.save(net.state_dict(), tmp_path / "user.pt")
    arguments = ["--activation", "relu", "--head-activation", "tanh", "--time-steps", "4"]
    assert main(["port", str(tmp_path / "user.pt"), str(tmp_path / "m.keras"), *arguments]) == 0
    printed = capsys.readouterr().out
    for words in (
        "rnn.*_l0 (nn.RNN) -> layer 0 forward",
        "nonlinearity: relu",
        "head activation: tanh",
        "time steps: 4",
    ):
        assert words in printed, words
    spec = impls[0].spec_of(impls[0].load_model(tmp_path / "m.keras"))
    assert spec.layers[0].activation == "relu" and spec.head.activation == "tanh"
    assert spec.time_steps == 4


def _bad_state_dicts() -> dict[str, tuple[dict, str]]:
    state = make_net("lstm", 1, False, "float32").state_dict()
    projected = torch.nn.LSTM(2, 4, proj_size=2).state_dict()
    return {
        "unknown-keys": ({**state, "norm.running_var": torch.ones(3)}, "norm.running_var"),
        "two-heads": ({**state, "fc2.weight": torch.zeros(1, 3)}, "(fc.weight, fc2.weight)"),
        "proj-size": ({**projected, "fc.weight": torch.zeros(1, 2)}, "proj_size"),
        "shapes": ({**state, "rnn.bias_ih_l0": torch.zeros(5)}, "mismatched shapes"),
    }


@pytest.mark.parametrize("case", list(_bad_state_dicts()))
def test_cli_refusals_are_one_line_and_touch_nothing(tmp_path, capsys, case):
    state, words = _bad_state_dicts()[case]
    torch.save(state, tmp_path / "user.pt")
    (tmp_path / "out.keras").write_bytes(b"an older file the user keeps")
    assert main(["port", str(tmp_path / "user.pt"), str(tmp_path / "out.keras")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"rnn-parity port: error: {tmp_path / 'user.pt'}: ")
    assert words in error and "\n" not in error and "Traceback" not in error
    assert (tmp_path / "out.keras").read_bytes() == b"an older file the user keeps"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.keras", "user.pt"]


def test_cli_missing_destination_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.save(make_net("gru", 1, False, "float32").state_dict(), "model.pt")
    assert main(["port", "model.pt", "no/such/dir/x.ckpt"]) == 2
    error = capsys.readouterr().err.strip()
    assert error == (
        "rnn-parity port: error: no/such/dir/x.ckpt: destination folder no/such/dir does not exist"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


# ---------------------------------------------------------------------------------------------
# A bidirectional last module: the readout a state dict cannot say is asked for, never guessed
# ---------------------------------------------------------------------------------------------


def test_a_bidirectional_state_dict_without_readout_is_refused_naming_both_ways(tmp_path, capsys):
    """`out[:, -1]` and h_n differ in the backward half: a guess would port a
    model that computes something else, with an "ok" under it."""
    torch.save(build(BiLSTMLastStep).state_dict(), tmp_path / "bi.pt")
    assert main(["port", str(tmp_path / "bi.pt"), str(tmp_path / "bi.keras")]) == 2
    error = capsys.readouterr().err.strip()
    assert "the last recurrent module (lstm) is bidirectional" in error
    assert "--readout final" in error and "--readout last_step" in error
    assert "--module" in error and "\n" not in error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bi.pt"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("cls", "readout"), [(BiLSTMLastStep, "last_step"), (BiLSTMFinal, "final")]
)
def test_readout_given_ports_as_told_and_computes_the_users_forward(
    tmp_path, capsys, impls, cls, readout
):
    module = build(cls)
    torch.save(module.state_dict(), tmp_path / "bi.pt")
    argv = ["port", str(tmp_path / "bi.pt"), str(tmp_path / "bi.keras"), "--readout", readout]
    assert main([*argv, "--time-steps", str(PORTED_TIME_STEPS)]) == 0
    assert f"(--readout {readout})" in capsys.readouterr().out
    X = random_inputs(load_weights(tmp_path / "bi.keras").spec, batch=8, seed=1)
    with torch.no_grad():
        own = module(torch.from_numpy(X)).numpy()
    # float32: few-ulp summation-order drift (shared/tolerances.py)
    assert max_abs(predict_file(tmp_path / "bi.keras", X), own) <= TOLERANCES["float32"]
