"""Model files round-trip exactly, and every unusable or unsafe file is a ModelFileError."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shared.errors import ModelFileError
from shared.spec import (
    BatchNormSpec,
    DenseSpec,
    DropoutSpec,
    EmbeddingSpec,
    LayerNormSpec,
    MaskingSpec,
)
from shared.weights import random_weights
from tests.specs import TORCH_SIZES, grammar_spec, make_spec
from tests.torch_impl.helpers import masked_inputs
from torch_impl import from_canonical, load_model, predict, save_model, to_canonical
from torch_impl.model import RNNModel


@pytest.fixture
def model() -> RNNModel:
    spec = make_spec(
        {"kind": "gru", "reset_after": False}, "stacked-bidirectional", "float64", sizes=TORCH_SIZES
    )
    return from_canonical(random_weights(spec, seed=50))


class _Payload:
    """A custom class: unpickling it would need this module's code."""

    def __init__(self) -> None:
        self.value = 1


@pytest.mark.parametrize("suffix", [".ckpt", ".pt", ".pth", ".safetensors"])
def test_round_trip_gives_identical_predictions(model, suffix, tmp_path, inputs):
    path = save_model(model, tmp_path / f"model{suffix}")
    assert path == tmp_path / f"model{suffix}"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left
    loaded = load_model(path)
    assert loaded.spec == model.spec
    assert to_canonical(loaded).bitwise_equal(to_canonical(model))
    assert np.array_equal(predict(loaded, inputs), predict(model, inputs))


def test_ckpt_is_a_lightning_checkpoint(model, tmp_path, inputs):
    path = save_model(model, tmp_path / "model.ckpt")
    content = torch.load(path, weights_only=True)
    assert content["hyper_parameters"] == {"spec": model.spec.to_dict()}
    assert "pytorch-lightning_version" in content
    loaded = RNNModel.load_from_checkpoint(path, weights_only=True)
    assert np.array_equal(predict(loaded, inputs), predict(model, inputs))


def test_save_refuses_other_extensions(model, tmp_path):
    with pytest.raises(ModelFileError, match=r"\.ckpt or \.pt"):
        save_model(model, tmp_path / "model.h5")


def test_save_refuses_a_missing_folder(model, tmp_path):
    with pytest.raises(ModelFileError, match="folder .*no/such does not exist"):
        save_model(model, tmp_path / "no" / "such" / "model.safetensors")
    assert list(tmp_path.iterdir()) == []


def _expect_error(path, *words: str) -> str:
    with pytest.raises(ModelFileError) as error:
        load_model(path)
    message = str(error.value)
    assert path.name in message
    for word in words:
        assert word in message, (word, message)
    assert "\n" not in message  # one clear line, not a traceback's worth
    return message


def test_missing_file(tmp_path):
    _expect_error(tmp_path / "absent.pt", "no such model file")


def test_truncated_and_garbage_files(model, tmp_path):
    whole = save_model(model, tmp_path / "whole.pt").read_bytes()
    (tmp_path / "truncated.pt").write_bytes(whole[: len(whole) // 2])
    _expect_error(tmp_path / "truncated.pt", "not a readable torch model file")
    (tmp_path / "garbage.ckpt").write_bytes(b"not a checkpoint at all")
    _expect_error(tmp_path / "garbage.ckpt", "not a readable torch model file")


def test_unsafe_pickles_are_refused_without_running_code(model, tmp_path):
    torch.save(_Payload(), tmp_path / "object.pt")
    _expect_error(tmp_path / "object.pt", "refused", "_Payload", "weights_only=True")
    torch.save(model, tmp_path / "module.pt")  # a whole nn.Module: needs code to rebuild
    _expect_error(tmp_path / "module.pt", "refused")
    torch.save(
        {"spec_json": model.spec.to_json(), "state_dict": model.state_dict(), "extra": _Payload()},
        tmp_path / "mixed.ckpt",
    )
    _expect_error(tmp_path / "mixed.ckpt", "refused")


def test_missing_or_bad_spec(model, tmp_path):
    torch.save({"state_dict": model.state_dict()}, tmp_path / "nospec.pt")
    _expect_error(tmp_path / "nospec.pt", "no model spec")
    torch.save(
        {"spec_json": "{not json", "state_dict": model.state_dict()}, tmp_path / "badspec.pt"
    )
    _expect_error(tmp_path / "badspec.pt", "bad model spec")
    torch.save([1, 2, 3], tmp_path / "list.pt")
    _expect_error(tmp_path / "list.pt", "expected a dict")


def test_state_that_does_not_fit_the_spec(model, tmp_path):
    state = model.state_dict()
    name = "net.recurrent.1.rnn.weight_hh_l0_reverse"
    wrong_shape = {**state, name: state[name][:-1]}
    torch.save(
        {"state_dict": wrong_shape, "hyper_parameters": {"spec": model.spec.to_dict()}},
        tmp_path / "shape.ckpt",
    )
    _expect_error(tmp_path / "shape.ckpt", name, "(14, 5)", "(15, 5)")
    missing = {k: v for k, v in state.items() if k != name}
    torch.save({"spec_json": model.spec.to_json(), "state_dict": missing}, tmp_path / "keys.pt")
    _expect_error(tmp_path / "keys.pt", "missing", name)
    as_float32 = {k: v.float() for k, v in state.items()}
    torch.save({"spec_json": model.spec.to_json(), "state_dict": as_float32}, tmp_path / "dtype.pt")
    _expect_error(tmp_path / "dtype.pt", "float32", "float64")


def _grammar_model(front) -> RNNModel:
    """Every new layer kind at once: a front, a bidirectional last step, all head layers."""
    spec = grammar_spec(
        {"kind": "lstm"},
        "float32",
        bidirectional=True,
        front=front,
        readout="last_step",
        output_dropout=0.2,
        head_layers=(DenseSpec(4, "relu"), DropoutSpec(0.1), LayerNormSpec(), BatchNormSpec()),
    )
    return from_canonical(random_weights(spec, seed=51))


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".ckpt", ".pt", ".safetensors"])
@pytest.mark.parametrize(
    "front", [MaskingSpec(), EmbeddingSpec(7, 3, mask_zero=True)], ids=["masking", "embedding"]
)
def test_grammar_models_round_trip(front, suffix, tmp_path):
    model = _grammar_model(front)
    with torch.no_grad():  # a trained BatchNorm has counted its steps (an int64 buffer)
        model.net.head_layers[3].num_batches_tracked.fill_(12)
    X = masked_inputs(model.spec, "middle")
    loaded = load_model(save_model(model, tmp_path / f"model{suffix}"))
    assert loaded.spec == model.spec
    assert to_canonical(loaded).bitwise_equal(to_canonical(model))
    assert int(loaded.net.head_layers[3].num_batches_tracked) == 12
    assert np.array_equal(predict(loaded, X), predict(model, X))
    if suffix == ".ckpt":
        again = RNNModel.load_from_checkpoint(tmp_path / "model.ckpt", weights_only=True)
        assert np.array_equal(predict(again, X), predict(model, X))
