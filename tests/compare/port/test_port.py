"""Porting models between Keras and torch, in memory and file to file, must change nothing.

`compare.port.files` is what a user trusts to carry a trained model across frameworks. These tests
prove that a ported model computes what its source computes (and what the numpy reference
computes) for every recurrent kind, structure and dtype, that Keras -> torch -> Keras gives back
the very same Keras weights, that every ordered pair of file formats round-trips, and that every
bad input is refused with one clear `ModelFileError` and leaves no destination file behind.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from compare.cli import main
from compare.port import files as port
from shared.errors import ModelFileError
from shared.recurrent_spec import RecurrentLayerSpec
from shared.reference import predict as reference_predict
from shared.spec import DenseSpec, ModelSpec
from shared.tolerances import TOLERANCES
from shared.weight_files import save_npz
from shared.weights import fold_single_bias, random_weights, zero_recurrent_bias
from tests.specs import (
    BATCH,
    DTYPES,
    KIND_IDS,
    KINDS,
    STRUCTURES,
    make_spec,
    mixed_spec,
)

FORMATS = (".keras", ".ckpt", ".pt", ".npz")


def _inputs(spec: ModelSpec, batch: int = BATCH, seed: int = 0) -> np.ndarray:
    """Standard-normal inputs (batch, time, features) in the spec's dtype."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, spec.time_steps, spec.features)).astype(spec.dtype)


def _max_abs(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


def _one_bias(layer: dict) -> bool:
    """Whether Keras holds one bias per gate for this layer (all but GRU reset_after=True)."""
    return not (layer["kind"] == "gru" and layer.get("reset_after", True))


# ---------------------------------------------------------------------------------------------
# In memory: every kind x structure x dtype x direction
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("structure", STRUCTURES)
@pytest.mark.parametrize("layer", [layer for _, layer in KINDS], ids=KIND_IDS)
def test_keras_to_torch_and_back(impls, layer, structure, dtype):
    keras_impl, torch_impl = impls
    spec = make_spec(layer, structure, dtype, units=3)
    weights = random_weights(spec, seed=11)
    # A Keras one-bias layer cannot hold c; GRU reset_after=True keeps its (random) c.
    if _one_bias(layer):
        weights = zero_recurrent_bias(weights)
    source = keras_impl.from_canonical(weights)
    assert keras_impl.to_canonical(source).bitwise_equal(weights)

    ported = port.keras_to_torch(source)
    assert torch_impl.spec_of(ported) == spec
    X = _inputs(spec)
    keras_out = keras_impl.predict(source, X)
    torch_out = torch_impl.predict(ported, X)
    expected = reference_predict(weights, X)
    assert torch_out.dtype == np.dtype(dtype)
    # TOLERANCES: few-ulp drift from each framework's own summation order (see shared/tolerances.py)
    assert _max_abs(torch_out, keras_out) <= TOLERANCES[dtype]
    assert _max_abs(torch_out, expected) <= TOLERANCES[dtype]

    back = port.torch_to_keras(ported)
    assert keras_impl.to_canonical(back).bitwise_equal(keras_impl.to_canonical(source))
    start, final = keras_impl.native_weights(source), keras_impl.native_weights(back)
    assert list(start) == list(final)
    for name in start:  # Keras's own arrays, bit for bit
        assert start[name].dtype == final[name].dtype, name
        assert np.array_equal(start[name], final[name]), name
    # identical weights and architecture: identical outputs
    assert np.array_equal(keras_impl.predict(back, X), keras_out)


@pytest.mark.slow
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("structure", STRUCTURES)
@pytest.mark.parametrize("layer", [layer for _, layer in KINDS], ids=KIND_IDS)
def test_torch_to_keras(impls, layer, structure, dtype):
    keras_impl, torch_impl = impls
    spec = make_spec(layer, structure, dtype, units=4)
    weights = random_weights(spec, seed=12)  # every c random: torch holds both biases
    source = torch_impl.from_canonical(weights)

    ported = port.torch_to_keras(source)
    assert keras_impl.spec_of(ported) == spec
    # Keras writes b + c for one-bias layers (the same one rounding fold_single_bias does)
    # and keeps both biases for GRU reset_after=True.
    assert keras_impl.to_canonical(ported).bitwise_equal(fold_single_bias(weights))
    X = _inputs(spec, seed=1)
    keras_out = keras_impl.predict(ported, X)
    torch_out = torch_impl.predict(source, X)
    expected = reference_predict(weights, X)
    assert keras_out.dtype == np.dtype(dtype)
    # TOLERANCES: few-ulp drift from summation order, plus the half-ulp rounding of b + c
    assert _max_abs(keras_out, torch_out) <= TOLERANCES[dtype]
    assert _max_abs(keras_out, expected) <= TOLERANCES[dtype]


@pytest.mark.slow
@settings(max_examples=10, deadline=None)
@given(
    units=st.integers(1, 6),
    features=st.integers(1, 3),
    time_steps=st.integers(1, 6),
    batch=st.integers(1, 5),
    kind=st.sampled_from(KIND_IDS),
    structure=st.sampled_from(STRUCTURES),
    seed=st.integers(0, 2**16),
)
def test_keras_to_torch_any_size_float64(
    impls, units, features, time_steps, batch, kind, structure, seed
):
    keras_impl, torch_impl = impls
    layer = dict(KINDS)[kind]
    spec = make_spec(
        layer, structure, "float64", units=units, features=features, time_steps=time_steps
    )
    weights = random_weights(spec, seed=seed)
    if _one_bias(layer):
        weights = zero_recurrent_bias(weights)
    source = keras_impl.from_canonical(weights)
    ported = port.keras_to_torch(source)
    X = _inputs(spec, batch=batch, seed=seed)
    torch_out = torch_impl.predict(ported, X)
    # float64 ulp is 2.2e-16; differing summation orders drift by a few ulps, far below 1e-12
    assert _max_abs(torch_out, keras_impl.predict(source, X)) <= 1e-12
    assert _max_abs(torch_out, reference_predict(weights, X)) <= 1e-12


# ---------------------------------------------------------------------------------------------
# File to file
# ---------------------------------------------------------------------------------------------


def _write(weights, path):
    """A model file of `path`'s format holding `weights` (through the port's own writer)."""
    return port.save_weights(weights, path)


@pytest.mark.slow
@pytest.mark.parametrize(
    "source_ext, destination_ext",
    list(itertools.permutations(FORMATS, 2)),
    ids=[f"{a[1:]}-to-{b[1:]}" for a, b in itertools.permutations(FORMATS, 2)],
)
def test_file_round_trip(impls, tmp_path, source_ext, destination_ext):
    spec = mixed_spec("float32")
    source = _write(random_weights(spec, seed=21), tmp_path / f"model{source_ext}")
    original = port.load_weights(source)
    destination = tmp_path / f"ported{destination_ext}"

    result = port.port_file(source, destination)

    assert destination.is_file()
    # no temporary or partial file left beside them
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([source.name, destination.name])
    assert result.source == source and result.destination == destination
    assert result.weights.spec == spec
    assert [row.pair for row in result.agreement] == [
        "source vs reference",
        "destination vs reference",
    ]
    assert all(row.ok for row in result.agreement)
    # b + c is computed once on either side in the same dtype, so folded weights are identical
    assert result.weights_max_abs_diff == 0.0
    X = _inputs(spec, batch=16, seed=5)
    # few-ulp drift between frameworks' summation orders (see shared/tolerances.py)
    gap = _max_abs(port.predict_file(destination, X), port.predict_file(source, X))
    assert gap <= TOLERANCES["float32"]

    back = tmp_path / f"back{source_ext}"
    port.port_file(destination, back)
    assert fold_single_bias(port.load_weights(back)).bitwise_equal(fold_single_bias(original))


@pytest.mark.slow
def test_file_round_trip_float64_keeps_every_bit(impls, tmp_path):
    spec = make_spec({"kind": "gru", "reset_after": True}, "stacked", "float64")
    weights = random_weights(spec, seed=22)
    source = save_npz(weights, tmp_path / "model.npz")
    result = port.port_file(source, tmp_path / "model.ckpt")
    assert all(row.ok and row.tolerance == 1e-12 for row in result.agreement)
    # GRU reset_after=True holds both biases in every format: nothing is folded, nothing moves
    assert port.load_weights(tmp_path / "model.ckpt").bitwise_equal(weights)
    port.port_file(tmp_path / "model.ckpt", tmp_path / "model.keras")
    assert port.load_weights(tmp_path / "model.keras").bitwise_equal(weights)
    X = _inputs(spec, seed=8)
    # float64: ulp 2.2e-16, a few ulps of summation-order drift is far below 1e-12
    outputs = port.predict_file(tmp_path / "model.keras", X)
    assert _max_abs(outputs, reference_predict(weights, X)) <= 1e-12


# ---------------------------------------------------------------------------------------------
# Bad input: one clear ModelFileError, no destination left behind
# ---------------------------------------------------------------------------------------------


class _Payload:
    """A custom class: unpickling an instance would need this module's code."""

    def __init__(self) -> None:
        self.value = 1


@pytest.fixture(scope="module")
def small_weights():
    return random_weights(make_spec({"kind": "lstm"}, "single", "float32"), seed=31)


def _refused(source, destination, *words: str) -> str:
    """port_file must raise one-line ModelFileError naming `words` and write no destination."""
    with pytest.raises(ModelFileError) as caught:
        port.port_file(source, destination)
    message = str(caught.value)
    for word in words:
        assert word in message, (word, message)
    assert "\n" not in message
    assert not destination.exists()
    assert not [
        p for p in destination.parent.iterdir() if "partial" in p.name or "porting" in p.name
    ]
    return message


def test_unknown_source_extension(tmp_path):
    source = tmp_path / "model.onnx"
    source.write_bytes(b"whatever")
    _refused(source, tmp_path / "out.keras", "model.onnx", "unknown extension '.onnx'", ".keras")
    bare = tmp_path / "model"
    bare.write_bytes(b"whatever")
    _refused(bare, tmp_path / "out.npz", "unknown extension '(none)'")


def test_unknown_destination_extension(tmp_path, small_weights):
    source = save_npz(small_weights, tmp_path / "model.npz")
    _refused(source, tmp_path / "out.onnx", "out.onnx", "unknown extension '.onnx'")


def test_missing_source(tmp_path):
    _refused(tmp_path / "absent.ckpt", tmp_path / "out.keras", "absent.ckpt", "no such file")


def test_source_equals_destination(tmp_path, small_weights):
    source = save_npz(small_weights, tmp_path / "model.npz")
    before = source.read_bytes()
    with pytest.raises(ModelFileError, match="source and destination are the same file"):
        port.port_file(source, source)
    with pytest.raises(ModelFileError, match="same file"):  # the same file by another spelling
        port.port_file(source, tmp_path / "sub" / ".." / "model.npz")
    assert source.read_bytes() == before  # untouched


@pytest.mark.slow
@pytest.mark.parametrize("ext", FORMATS)
def test_corrupt_and_truncated_files(impls, tmp_path, small_weights, ext):
    whole = _write(small_weights, tmp_path / f"whole{ext}").read_bytes()
    truncated = tmp_path / f"truncated{ext}"
    truncated.write_bytes(whole[: len(whole) // 2])
    garbage = tmp_path / f"garbage{ext}"
    garbage.write_bytes(b"this is not a model file at all")
    destination_ext = ".npz" if ext != ".npz" else ".keras"
    for bad in (truncated, garbage):
        _refused(bad, tmp_path / f"out{destination_ext}", bad.name)


def test_a_graph_cannot_go_to_a_lightning_checkpoint(impls, tmp_path):
    import keras

    model = keras.Sequential(
        [
            keras.Input((5, 2)),
            keras.layers.Conv1D(2, 3, name="conv1d"),
            keras.layers.LSTM(3),
            keras.layers.Dense(1),
        ]
    )
    source = tmp_path / "conv.keras"
    model.save(source)  # plain Keras: a Conv1D front is a graph, not a chain
    _refused(source, tmp_path / "out.ckpt", "out.ckpt", "graph model files end in .pt")


@pytest.mark.parametrize("ext", [".pt", ".ckpt"])
def test_pickle_needing_code_is_refused(impls, tmp_path, ext):
    source = tmp_path / f"object{ext}"
    torch.save(_Payload(), source)
    _refused(source, tmp_path / "out.keras", source.name, "refused", "_Payload")


@pytest.mark.slow
def test_failed_verification_writes_nothing_and_keeps_an_old_file(
    impls, tmp_path, small_weights, monkeypatch
):
    source = save_npz(small_weights, tmp_path / "model.npz")
    destination = tmp_path / "out.pt"
    destination.write_bytes(b"an older file the user still has")
    real = port.predict_file

    def wrong_for_written_file(path, inputs, *assumptions):
        outputs = real(path, inputs, *assumptions)
        return outputs + 0.5 if path.suffix == ".pt" else outputs

    monkeypatch.setattr(port, "predict_file", wrong_for_written_file)
    with pytest.raises(ModelFileError, match="out.pt: ported outputs disagree.*not written"):
        port.port_file(source, destination)
    assert destination.read_bytes() == b"an older file the user still has"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz", "out.pt"]


# ---------------------------------------------------------------------------------------------
# `rnn-parity port`
# ---------------------------------------------------------------------------------------------


def test_cli_bad_extension_is_one_line_exit_2(tmp_path, capsys, small_weights):
    source = save_npz(small_weights, tmp_path / "model.npz")
    assert main(["port", str(source), str(tmp_path / "out.onnx")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("rnn-parity port: error: ")
    assert "out.onnx" in lines[0] and "unknown extension '.onnx'" in lines[0]
    assert not (tmp_path / "out.onnx").exists()


@pytest.mark.slow
def test_cli_prints_the_mapping_summary(impls, tmp_path, capsys):
    spec = ModelSpec(
        5,
        2,
        (
            RecurrentLayerSpec("gru", 3, return_sequences=True, bidirectional=True),
            RecurrentLayerSpec("lstm", 4),
        ),
        DenseSpec(1, "linear"),
        "float64",
    )
    source = save_npz(random_weights(spec, seed=41), tmp_path / "model.npz")
    destination = tmp_path / "model.keras"
    assert main(["port", str(source), str(destination), "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert destination.is_file()
    assert f"ported {source} (canonical) -> {destination} (keras), float64" in out
    assert re.search(
        r"layer 0 gru\s+forward\s+gates r, z, n: W \(2, 3\), U \(3, 3\), b \(3,\), c \(3,\) each",
        out,
    )
    assert re.search(r"layer 0 gru\s+backward\s+gates r, z, n:", out)
    assert re.search(r"layer 1 lstm\s+forward\s+gates i, f, g, o: W \(6, 4\), U \(4, 4\)", out)
    assert "head dense linear: W_y (4, 1), b_y (1,)" in out
    assert "weights read back from the destination: max abs diff 0.00e+00" in out
    assert re.search(r"outputs source vs reference: max abs diff \S+ \(tolerance \S+e-12\) ok", out)
    assert re.search(
        r"outputs destination vs reference: max abs diff \S+ \(tolerance \S+e-12\) ok", out
    )
    assert "FAILED" not in out
