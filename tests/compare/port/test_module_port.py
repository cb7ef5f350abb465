"""Users' own torch models port to Keras through their forward, checked against that forward.

Each model is a plain nn.Module of tests/user_nets.py with random weights (no
rnn-parity builder). Every check runs the Keras model in plain Keras (`keras.models.load_model`
with safe_mode, `model(x)`) against the user's own forward called as the user calls it, within
1e-6 (float32) / 1e-12 (float64): a few ulps of summation-order drift, where a wrong readout
moves outputs by ~1e-2 and a swapped gate by ~1e-1 (shared/tolerances.py).
"""

from __future__ import annotations

import lightning
import numpy as np
import pytest
import torch

from compare.cli import main
from compare.port import port_with_module, torch_module_to_keras
from compare.port.agreement import random_inputs
from compare.testing import assert_same_outputs
from shared.errors import ModelFileError
from shared.tolerances import TOLERANCES
from tests.compare.port.plants import plant_final_readout
from tests.user_nets import (
    PORTED,
    PORTED_TIME_STEPS,
    BiLSTMLastStep,
    DataDependentBranch,
    GRUMultiOutput,
    LitForecaster,
    MLPHead,
    RandomInitialState,
    TimeMajorGRU,
    build,
)

HELPERS = "tests.user_nets"


def _own_forward(module, X: np.ndarray) -> np.ndarray:
    """The user's forward on batch-major X as the user calls it (time-major where it wants)."""
    inputs = torch.from_numpy(X)
    with torch.no_grad():
        if isinstance(module, TimeMajorGRU):
            return module(inputs.transpose(0, 1)).numpy()
        return module(inputs).numpy()


def _keras_outputs(keras_model, X: np.ndarray) -> np.ndarray:
    return np.asarray(keras_model(X, training=False))


def _plain_keras(path):
    import keras

    return keras.models.load_model(path, safe_mode=True)


def _gap(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max())


@pytest.mark.slow
@pytest.mark.parametrize("cls", list(PORTED), ids=lambda cls: cls.__name__)
def test_each_model_ports_through_the_module_api(impls, cls):
    dtype = "float64" if cls in (BiLSTMLastStep, TimeMajorGRU) else "float32"
    module = build(cls, dtype)
    keras_model = torch_module_to_keras(module, time_steps=PORTED_TIME_STEPS)
    X = random_inputs(impls[0].spec_of(keras_model), batch=16, seed=3)
    assert _gap(_keras_outputs(keras_model, X), _own_forward(module, X)) <= TOLERANCES[dtype]
    assert_same_outputs(keras_model, module, X)


@pytest.mark.slow
@pytest.mark.parametrize("cls", list(PORTED), ids=lambda cls: cls.__name__)
def test_each_model_ports_from_its_state_dict_with_module(impls, tmp_path, capsys, cls):
    dtype = "float64" if cls is MLPHead else "float32"
    module = build(cls, dtype)
    torch.save(module.state_dict(), tmp_path / "model.pt")
    argv = ["port", str(tmp_path / "model.pt"), str(tmp_path / "out.keras")]
    argv += ["--module", f"{HELPERS}:{cls.__name__}", "--time-steps", str(PORTED_TIME_STEPS)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "Keras model vs your forward" in printed and "not checked" not in printed
    keras_model = _plain_keras(tmp_path / "out.keras")
    assert impls[0].spec_of(keras_model).dtype == dtype  # a float64 file made a float64 module
    X = random_inputs(impls[0].spec_of(keras_model), batch=16, seed=4)
    assert _gap(_keras_outputs(keras_model, X), _own_forward(module, X)) <= TOLERANCES[dtype]


def _checkpoint(module: lightning.LightningModule, path) -> None:
    """A checkpoint as Lightning's Trainer writes it (state_dict and hyper_parameters)."""
    trainer = lightning.Trainer(logger=False, enable_checkpointing=False, accelerator="cpu")
    trainer.strategy.connect(module)
    trainer.save_checkpoint(path)


@pytest.mark.slow
def test_a_lightning_checkpoint_rebuilds_the_module_from_its_hyper_parameters(impls, tmp_path):
    module = build(LitForecaster, hidden_dim=5, num_layers=3)  # not the class's defaults
    _checkpoint(module, tmp_path / "lit.ckpt")
    argv = ["port", str(tmp_path / "lit.ckpt"), str(tmp_path / "out.keras")]
    assert main([*argv, "--module", f"{HELPERS}:LitForecaster", "--time-steps", "6"]) == 0
    keras_model = _plain_keras(tmp_path / "out.keras")
    spec = impls[0].spec_of(keras_model)
    assert [layer.units for layer in spec.layers] == [5, 5, 5]
    X = random_inputs(spec, batch=16, seed=5)
    assert _gap(_keras_outputs(keras_model, X), _own_forward(module, X)) <= TOLERANCES["float32"]


@pytest.mark.slow
def test_module_kwargs_build_the_class(impls, tmp_path):
    module = build(GRUMultiOutput, hidden=6, outputs=2)
    torch.save(module.state_dict(), tmp_path / "gru.pt")
    result = port_with_module(
        tmp_path / "gru.pt",
        tmp_path / "gru.npz",
        f"{HELPERS}:GRUMultiOutput",
        {"hidden": 6, "outputs": 2},
        PORTED_TIME_STEPS,
    )
    assert result.forward_checked and result.weights.spec.layers[0].units == 6
    assert all(row.ok for row in result.agreement)
    with pytest.raises(ModelFileError, match="does not fit GRUMultiOutput: size mismatch"):
        port_with_module(tmp_path / "gru.pt", tmp_path / "x.keras", f"{HELPERS}:GRUMultiOutput")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gru.npz", "gru.pt"]


@pytest.mark.slow
def test_a_planted_misport_is_caught_before_a_file_is_written(impls, tmp_path, monkeypatch):
    """Swap the readout after tracing (the old guess: cat(h_n[-2], h_n[-1]) for out[:, -1])."""
    _, torch_impl = impls
    module = build(BiLSTMLastStep)
    torch.save(module.state_dict(), tmp_path / "bi.pt")
    plant_final_readout(torch_impl, monkeypatch)
    with pytest.raises(ModelFileError) as caught:
        port_with_module(tmp_path / "bi.pt", tmp_path / "bi.keras", f"{HELPERS}:BiLSTMLastStep")
    message = str(caught.value)
    assert message.startswith("the Keras model differs from your forward: max abs difference ")
    assert "every hidden state agrees; first diverging layer: readout (last_step)" in message
    assert message.endswith("nothing written")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bi.pt"]


def test_without_module_two_linear_layers_are_refused_naming_the_keys(tmp_path, capsys):
    torch.save(build(MLPHead).state_dict(), tmp_path / "mlp.pt")
    assert main(["port", str(tmp_path / "mlp.pt"), str(tmp_path / "mlp.keras")]) == 2
    error = capsys.readouterr().err.strip()
    assert "head.0.weight, head.2.weight" in error and "--module" in error
    assert "\n" not in error and sorted(p.name for p in tmp_path.iterdir()) == ["mlp.pt"]


@pytest.mark.parametrize(
    ("cls", "words"),
    [
        (RandomInitialState, "initial state of self.gru is not zeros"),
        (DataDependentBranch, "data-dependent branch (`if` on a traced tensor): call_function gt"),
    ],
)
def test_module_refusals_name_the_node_and_leave_no_file(tmp_path, capsys, cls, words):
    torch.save(build(cls).state_dict(), tmp_path / "m.pt")
    argv = ["port", str(tmp_path / "m.pt"), str(tmp_path / "m.keras")]
    assert main([*argv, "--module", f"{HELPERS}:{cls.__name__}"]) == 2
    error = capsys.readouterr().err.strip()
    assert words in error and "\n" not in error and "Traceback" not in error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt"]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--module", "no_colon"], "expected package.module:Class"),
        (["--module", "tests.no_such_module:X"], "cannot import tests.no_such_module"),
        (["--module", f"{HELPERS}:TIME_STEPS"], "has no nn.Module TIME_STEPS"),
        (["--module-kwargs", "{}"], "--module-kwargs needs --module"),
    ],
)
def test_bad_module_arguments_are_one_line(tmp_path, capsys, argv, words):
    torch.save(build(MLPHead).state_dict(), tmp_path / "m.pt")
    assert main(["port", str(tmp_path / "m.pt"), str(tmp_path / "m.keras"), *argv]) == 2
    error = capsys.readouterr().err.strip()
    assert words in error and "\n" not in error


@pytest.mark.slow
def test_a_bare_state_dict_port_says_it_was_not_checked_against_the_forward(tmp_path, capsys):
    torch.save(build(GRUMultiOutput).state_dict(), tmp_path / "gru.pt")
    assert main(["port", str(tmp_path / "gru.pt"), str(tmp_path / "gru.npz")]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("not checked against your forward") and "--module" in last


@pytest.mark.slow
def test_assert_same_outputs_names_the_first_diverging_head_layer(impls):
    module = build(MLPHead)
    keras_model = torch_module_to_keras(module, time_steps=PORTED_TIME_STEPS)
    with torch.no_grad():
        module.head[0].bias += 0.5
    with pytest.raises(AssertionError) as caught:
        assert_same_outputs(keras_model, module)
    message = str(caught.value)
    assert "every hidden state agrees; first diverging layer: head layer 0 (dense)" in message
