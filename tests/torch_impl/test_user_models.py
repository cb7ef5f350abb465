"""A user's own torch weights, read without an rnn-parity spec, compute what the user's model does.

For every recurrent kind, one and two layers, one and two directions, both batch_first settings
and both dtypes, the user's state dict (in memory, as a plain .pt, as {"state_dict": ...} .pth
and as .safetensors) is read into canonical weights whose numpy reference forward pass must match
the user's own forward: within 1e-6 in float32 and 1e-12 in float64 (a few ulps of
summation-order drift; a swapped gate moves outputs by ~1e-1). Every refusal names the source
and the keys at fault.
"""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from shared.errors import ModelFileError
from shared.reference import predict as reference_predict
from shared.tolerances import TOLERANCES
from tests.specs import DTYPES_FLOAT64_SLOW
from tests.user_nets import (
    TIME_STEPS,
    UserLightning,
    UserNet,
    make_net,
    max_abs,
    outputs,
    user_inputs,
)
from torch_impl import canonical_from_state_dict, read_canonical, trace_module

KINDS = ("rnn", "lstm", "gru")
SPEC_KIND = {"rnn": "simple", "lstm": "lstm", "gru": "gru"}


def _save_all(net: nn.Module, folder) -> list:
    """The user's state dict saved the three ways users save one."""
    state = net.state_dict()
    paths = [folder / "plain.pt", folder / "wrapped.pth", folder / "tensors.safetensors"]
    torch.save(state, paths[0])
    torch.save({"state_dict": state, "epoch": 3}, paths[1])
    save_file({k: v.contiguous() for k, v in state.items()}, paths[2])
    return paths


@pytest.mark.parametrize("dtype", DTYPES_FLOAT64_SLOW)
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("kind", KINDS)
def test_user_state_dicts_compute_what_the_user_model_computes(
    tmp_path, kind, num_layers, bidirectional, dtype
):
    net = make_net(kind, num_layers, bidirectional, dtype, batch_first=num_layers == 1)
    # UserNet's head reads h_n of both directions: the user says so (--readout final)
    inferred = canonical_from_state_dict(net.state_dict(), time_steps=TIME_STEPS, readout="final")
    spec = inferred.weights.spec
    assert [layer.kind for layer in spec.layers] == [SPEC_KIND[kind]] * num_layers
    assert all(layer.bidirectional == bidirectional for layer in spec.layers)
    assert spec.dtype == dtype and spec.features == 2 and spec.head.units == 2
    X = user_inputs(dtype)
    assert max_abs(reference_predict(inferred.weights, X), outputs(net, X)) <= TOLERANCES[dtype]
    for path in _save_all(net, tmp_path):
        from_file = read_canonical(path, time_steps=TIME_STEPS, readout="final")
        assert from_file.weights.bitwise_equal(inferred.weights), path.name
        assert from_file.mapping == inferred.mapping


def test_mapping_and_assumptions_are_spelled_out():
    net = make_net("rnn", 2, True, "float32")
    inferred = canonical_from_state_dict(net.state_dict(), "relu", "tanh", 7, readout="final")
    assert inferred.mapping == [
        "rnn.*_l0 (nn.RNN) -> layer 0 forward: W, U, b, c per gate h",
        "rnn.*_l0_reverse (nn.RNN) -> layer 0 backward: W, U, b, c per gate h",
        "rnn.*_l1 (nn.RNN) -> layer 1 forward: W, U, b, c per gate h",
        "rnn.*_l1_reverse (nn.RNN) -> layer 1 backward: W, U, b, c per gate h",
        "fc.weight, fc.bias (nn.Linear) -> head W_y, b_y",
    ]
    text = "\n".join(inferred.assumptions)
    for words in (
        "nonlinearity: relu",
        "--activation",
        "head activation: tanh",
        "time steps: 7",
        "h_n of both directions (--readout final)",
    ):
        assert words in text
    spec = inferred.weights.spec
    assert spec.layers[0].activation == "relu" and spec.head.activation == "tanh"
    assert spec.time_steps == 7


@pytest.mark.slow
def test_a_trainer_written_lightning_checkpoint(tmp_path):
    import lightning

    module = UserLightning("gru", num_layers=2, bidirectional=True)
    data = torch.utils.data.TensorDataset(torch.randn(4, TIME_STEPS, 2), torch.randn(4, 2))
    trainer = lightning.Trainer(
        max_steps=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(module, torch.utils.data.DataLoader(data, batch_size=2))
    trainer.save_checkpoint(tmp_path / "user.ckpt")
    inferred = read_canonical(tmp_path / "user.ckpt", time_steps=TIME_STEPS, readout="final")
    assert inferred.mapping[0].startswith("model.rnn.*_l0 (nn.GRU) -> layer 0 forward")
    X = user_inputs("float32")
    # float32: few-ulp summation-order drift, see the module docstring
    assert max_abs(reference_predict(inferred.weights, X), outputs(module.eval(), X)) <= 1e-6


class _Chain(nn.Module):
    """Three recurrent modules in sequence, a relu nn.RNN among them, and an nn.Sigmoid head."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.LSTM(2, 3, bidirectional=True, batch_first=True)
        self.middle = nn.GRU(6, 4, batch_first=True)
        self.zeta = nn.RNN(4, 3, nonlinearity="relu", batch_first=True)
        self.head = nn.Linear(3, 1)
        self.squash = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.zeta(self.middle(self.encoder(x)[0])[0])[0]
        return self.squash(self.head(out[:, -1]))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_module_says_its_own_settings(dtype):
    """The traced route (the one route from a live module) reads the relu nonlinearity and the
    sigmoid head from the module and its forward, where a state dict must be told both."""
    torch.manual_seed(1)
    net = _Chain().to(getattr(torch, dtype))
    weights = trace_module(net, TIME_STEPS).weights
    spec = weights.spec
    assert [layer.kind for layer in spec.layers] == ["lstm", "gru", "simple"]
    assert spec.layers[2].activation == "relu" and spec.head.activation == "sigmoid"
    X = user_inputs(dtype)
    assert max_abs(reference_predict(weights, X), outputs(net, X)) <= TOLERANCES[dtype]
    from_keys = canonical_from_state_dict(net.state_dict(), "relu", "sigmoid", TIME_STEPS)
    assert from_keys.weights.bitwise_equal(weights)  # both routes read the same tensors


def test_safetensors_key_order_is_recovered_from_shapes(tmp_path):
    torch.manual_seed(2)
    net = _Chain()  # safetensors sorts keys: encoder, head, middle, zeta happens to be in order
    state = {f"z{k}" if k.startswith("encoder") else k: v for k, v in net.state_dict().items()}
    save_file(state, tmp_path / "chain.safetensors")  # now "zencoder" sorts after "middle"
    inferred = read_canonical(tmp_path / "chain.safetensors", "relu", "sigmoid", TIME_STEPS)
    assert "zencoder -> middle -> zeta (the only order whose shapes fit)" in "\n".join(
        inferred.assumptions
    )
    X = user_inputs("float32")
    assert max_abs(reference_predict(inferred.weights, X), outputs(net, X)) <= 1e-6


def test_bias_false_reads_as_zero_biases():
    torch.manual_seed(3)
    net = UserNet("lstm", 1, False)
    net.rnn = nn.LSTM(2, 3, batch_first=True, bias=False)
    inferred = canonical_from_state_dict(net.state_dict(), time_steps=TIME_STEPS)
    assert "no biases (bias=False) in rnn: zeros" in inferred.assumptions
    X = user_inputs("float32")
    assert max_abs(reference_predict(inferred.weights, X), outputs(net.eval(), X)) <= 1e-6


# ---------------------------------------------------------------------------------------------
# Refusals: one line, naming the source and what does not fit
# ---------------------------------------------------------------------------------------------


def _refused(state, *words: str) -> None:
    with pytest.raises(ModelFileError) as caught:
        canonical_from_state_dict(state, source="my.pt")
    message = str(caught.value)
    assert message.startswith("my.pt: ") and "\n" not in message
    for word in words:
        assert word in message, (word, message)


def _state(kind="lstm", **options):
    return dict(make_net(kind, 1, False, "float32", **options).state_dict())


def test_an_empty_state_dict_and_settings_no_spec_takes():
    _refused({}, "holds no tensors")
    with pytest.raises(ModelFileError, match=r"^my.pt: .*activation"):
        canonical_from_state_dict(_state("rnn"), "nonsense", source="my.pt")  # nn.RNN's
    with pytest.raises(ModelFileError, match=r"^my.pt: model: .*time_steps"):
        canonical_from_state_dict(_state(), time_steps=0, source="my.pt")


def test_a_bidirectional_last_module_is_not_guessed():
    """h_n of both directions or out[:, -1] differ in the backward half, and the
    keys cannot tell them apart: the reader asks rather than port the wrong one."""
    state = dict(make_net("lstm", 1, True, "float32").state_dict())
    _refused(state, "bidirectional", "--readout final", "--readout last_step", "--module")
    with pytest.raises(ModelFileError, match="readout must be one of final, last_step"):
        canonical_from_state_dict(state, readout="first")


def test_missing_tensors_are_named():
    state = _state()
    del state["rnn.weight_hh_l0"]
    _refused(state, "rnn.* has no weight_ih_l0 and weight_hh_l0")
    state = _state()
    del state["rnn.bias_hh_l0"]
    _refused(state, "rnn.bias_ih_l0 has no partner bias")
    two = dict(make_net("lstm", 2, False, "float32").state_dict())
    _refused(
        {k: v for k, v in two.items() if k != "rnn.weight_ih_l1"}, "rnn.weight_ih_l1 is missing"
    )
    skipped = {k.replace("_l1", "_l2"): v for k, v in two.items()}  # layer 1 renamed layer 2
    _refused(skipped, "rnn.* is missing layer(s) [(1, '_l0')] of its 3 layers")


def test_keys_that_fit_no_layout_are_listed():
    state = _state()
    state["norm.running_mean"] = torch.zeros(3)
    state["embedding.weight_x"] = torch.zeros(3, 2)
    _refused(state, "fit no nn.RNN/LSTM/GRU/Linear layout", "norm.running_mean", "embedding")


def test_more_than_one_candidate_head():
    state = _state()
    state["extra.weight"], state["extra.bias"] = torch.zeros(2, 3), torch.zeros(2)
    _refused(state, "2 nn.Linear layers (fc.weight, extra.weight)", "--module")


def test_no_head_and_no_recurrent_module():
    _refused({k: v for k, v in _state().items() if not k.startswith("fc")}, "candidate heads: none")
    _refused({"fc.weight": torch.zeros(1, 3)}, "no nn.RNN, nn.LSTM or nn.GRU weights")


def test_proj_size_is_refused():
    net = nn.LSTM(2, 4, proj_size=2, batch_first=True)
    _refused({**net.state_dict(), "fc.weight": torch.zeros(1, 2)}, "weight_hr_l0", "proj_size")
    with pytest.raises(ModelFileError, match=r"self.rnn \(LSTM\) has proj_size=2"):
        trace_module(_Projected(), TIME_STEPS)


class _Projected(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.LSTM(2, 4, proj_size=2, batch_first=True)
        self.fc = nn.Linear(2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.rnn(x)[0][:, -1])


def test_mismatched_shapes():
    state = _state()
    state["rnn.weight_hh_l0"] = torch.zeros(12, 5)  # 12 rows are no whole number of gates
    _refused(state, "mismatched shapes", "rnn.weight_hh_l0 is (12, 5)")
    state = _state()
    state["rnn.bias_hh_l0"] = torch.zeros(11)
    _refused(state, "mismatched shapes", "rnn.bias_hh_l0 is (11,)", "(12,)")
    state = _state()
    state["fc.weight"] = torch.zeros(2, 5)  # head expects 5 inputs, the LSTM gives 3
    _refused(state, "mismatched shapes", "cannot chain", "head of 5 inputs")


def test_mixed_and_unsupported_dtypes():
    state = _state()
    state["fc.bias"] = state["fc.bias"].double()
    _refused(state, "all float32 or all float64", "fc.bias")
    _refused({k: v.half() for k, v in _state().items()}, "float16")
    state = _state()
    state["fc.bias"] = state["fc.bias"].long()  # would be cast into the model unseen
    _refused(state, "fc.bias is a torch.int64 tensor")
    _refused({**_state(), "epoch": 3}, "epoch is a int, not a tensor")


class _NormFirst(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(2)
        self.gru = nn.GRU(2, 3, batch_first=True)
        self.fc = nn.Linear(3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.gru(self.norm(x))[0][:, -1])


def test_a_module_the_chain_cannot_carry_is_refused_by_node():
    with pytest.raises(ModelFileError, match=r"before the recurrent layers.*\(LayerNorm\)"):
        trace_module(_NormFirst(), TIME_STEPS)


def test_read_state_dict_refuses_files_without_one(tmp_path):
    torch.save({"epoch": 1, "note": "no weights"}, tmp_path / "meta.pt")
    with pytest.raises(ModelFileError, match="meta.pt: holds no state_dict"):
        read_canonical(tmp_path / "meta.pt")
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 20)
    with pytest.raises(ModelFileError, match="not a readable .safetensors file"):
        read_canonical(tmp_path / "bad.safetensors")
