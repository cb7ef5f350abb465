"""Every route checks a port against its SOURCE model, and the check has teeth.

A reader that silently drops an option rebuilds a model that agrees with itself, with torch and
with the reference, while the user's model computes something else. These tests plant such a
mis-read (the Keras reader reports a layer's option wrongly) in a scratch model and show that
`keras_to_torch`, `port` and `check FILE` each refuse it, naming the layer; that a planted error
well under 1e-3 (a BatchNorm epsilon off) is refused with the tolerance stated, so a loosened
tolerance fails here; that the API route `torch_module_to_keras` runs its check; and that the
tolerance scales with the outputs' size: a correct float32 port at magnitude 1,500 passes, a
wrong one at magnitude 1e-2 still fails.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch

from compare.cli import main
from compare.port import keras_to_torch, port_file, torch_module_to_keras, torch_to_keras
from compare.port.agreement import difference
from keras_impl.translators import head, recurrent
from shared.errors import ModelFileError
from shared.grammar import BatchNormSpec
from shared.recurrent_spec import RecurrentLayerSpec
from shared.tolerances import TOLERANCES, allowed_difference
from tests.compare.port.plants import plant_final_readout
from tests.user_nets import BiLSTMLastStep, build


def _randomised(model: keras.Model, seed: int = 0, scale: float = 0.5) -> keras.Model:
    """Every weight random and non-constant (a constant initialiser hides a mis-read)."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        shape = tuple(variable.shape)
        if "moving_variance" in variable.path:
            variable.assign(rng.uniform(0.5, 1.5, size=shape).astype(variable.dtype))
        else:
            variable.assign((rng.normal(size=shape) * scale).astype(variable.dtype))
    return model


def _sigmoid_rnn() -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input((6, 2)),
            keras.layers.SimpleRNN(3, activation="sigmoid", name="rnn"),
            keras.layers.Dense(1, name="out"),
        ]
    )
    return _randomised(model)


@pytest.fixture
def misread_activation(monkeypatch):
    """The Keras reader reports every recurrent layer's activation as tanh (a planted bug)."""
    original = recurrent.spec_or_refusal

    def misread(layer, make, **kwargs):
        if make is RecurrentLayerSpec:
            kwargs["activation"] = "tanh"
        return original(layer, make, **kwargs)

    monkeypatch.setattr(recurrent, "spec_or_refusal", misread)


@pytest.mark.slow  # builds and ports real Keras and torch models
def test_a_faithful_port_passes_every_route(impls, tmp_path):
    model = _sigmoid_rnn()
    ported = keras_to_torch(model)
    assert isinstance(ported, torch.nn.Module)
    torch_to_keras(ported)
    model.save(tmp_path / "rnn.keras")
    assert main(["port", str(tmp_path / "rnn.keras"), str(tmp_path / "rnn.pt")]) == 0
    assert main(["check", str(tmp_path / "rnn.keras")]) == 0


@pytest.mark.slow  # builds and ports real Keras and torch models
def test_keras_to_torch_runs_the_source_and_names_the_misread_layer(impls, misread_activation):
    with pytest.raises(ModelFileError) as caught:
        keras_to_torch(_sigmoid_rnn())
    message = str(caught.value)
    assert message.startswith("the torch model differs from your model: max abs difference")
    assert "first diverging layer: layer 'rnn' (SimpleRNN) of your model" in message
    assert "tolerance 1.0e-06" in message and message.endswith("nothing returned")


@pytest.mark.slow  # builds and ports real Keras and torch models
def test_port_refuses_the_misread_layer_and_leaves_no_file(
    impls, tmp_path, capsys, misread_activation
):
    _sigmoid_rnn().save(tmp_path / "rnn.keras")
    assert main(["port", str(tmp_path / "rnn.keras"), str(tmp_path / "rnn.pt")]) == 2
    error = capsys.readouterr().err.strip()
    assert "source vs reference" in error and "layer 'rnn' (SimpleRNN)" in error, error
    assert "\n" not in error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rnn.keras"]


@pytest.mark.slow  # builds and ports real Keras and torch models
def test_check_runs_the_files_own_model_and_names_the_misread_layer(
    impls, tmp_path, capsys, misread_activation
):
    _sigmoid_rnn().save(tmp_path / "rnn.keras")
    assert main(["check", str(tmp_path / "rnn.keras")]) == 1
    out = capsys.readouterr().out
    assert "your file vs reference" in out
    assert "first diverging layer: layer 'rnn' (SimpleRNN) of your model" in out
    assert "1 difference(s) past tolerance" in out  # the rebuilt models agree among themselves


@pytest.mark.slow  # builds and ports real Keras and torch models
def test_a_planted_batch_norm_epsilon_is_refused_with_its_tolerance(impls, monkeypatch):
    """Epsilon 1e-3 read as torch's 1e-5: outputs move by ~1e-4, under a 1000x looser bound."""
    model = _randomised(
        keras.Sequential(
            [
                keras.Input((5, 2)),
                keras.layers.LSTM(4, name="lstm"),
                keras.layers.BatchNormalization(epsilon=1e-3, name="bn"),
                keras.layers.Dense(1, name="out"),
            ]
        )
    )
    original = head.spec_or_refusal

    def misread(layer, make, **kwargs):
        if make is BatchNormSpec:
            kwargs["epsilon"] = 1e-5
        return original(layer, make, **kwargs)

    monkeypatch.setattr(head, "spec_or_refusal", misread)
    with pytest.raises(ModelFileError) as caught:
        keras_to_torch(model)
    message = str(caught.value)
    gap = float(message.split("max abs difference ")[1].split(" ")[0])
    assert 1e-6 < gap < 1e-3, message  # a planted error a 1000x looser tolerance would pass
    assert "tolerance 1.0e-06" in message
    assert "first diverging layer: layer 'bn' (BatchNormalization) of your model" in message


@pytest.mark.slow  # builds and ports real Keras and torch models
def test_torch_module_to_keras_checks_against_the_users_forward(impls, monkeypatch):
    """The API route, not only `port --module`: a readout swapped after tracing is refused."""
    _, torch_impl = impls
    module = build(BiLSTMLastStep)
    plant_final_readout(torch_impl, monkeypatch)
    with pytest.raises(ModelFileError, match="differs from your forward"):
        torch_module_to_keras(module)


@pytest.mark.slow  # builds and ports real Keras and torch models
def test_a_correct_float32_port_at_magnitude_1500_passes(impls, tmp_path):
    """An unscaled forecaster: one float32 ulp at 1,500 is 1.2e-4, and the port is exact."""
    model = _randomised(
        keras.Sequential(
            [keras.Input((12, 1)), keras.layers.LSTM(8, name="lstm"), keras.layers.Dense(1)]
        )
    )
    dense = model.layers[-1]
    dense.kernel.assign(np.full((8, 1), 300.0, dtype="float32"))
    dense.bias.assign(np.array([1500.0], dtype="float32"))
    keras_to_torch(model)
    model.save(tmp_path / "forecaster.keras")
    result = port_file(tmp_path / "forecaster.keras", tmp_path / "forecaster.pt")
    assert all(row.ok for row in result.agreement)
    assert max(row.tolerance for row in result.agreement) > 1e-4


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_tolerance_scales_with_the_outputs_size_and_only_above_one(dtype):
    base = TOLERANCES[dtype]
    rng = np.random.default_rng(0)
    large = 1500 + rng.normal(size=(32, 1))
    ulps = np.spacing(large.astype(dtype)).astype(np.float64)
    assert difference("o", "p", large + 2 * ulps, large, base).ok  # rounding at 1,500: passes
    small = 1e-2 * rng.normal(size=(32, 1))
    wrong = small + 100 * base  # a real error at magnitude 1e-2
    assert not difference("o", "p", wrong, small, base).ok
    assert allowed_difference(base, 0.3) == base
    assert allowed_difference(base, 1500.0) == pytest.approx(1500 * base)
    absolute = difference("o", "p", large + 2 * ulps, large, base, scaled=False)
    assert absolute.tolerance == base
