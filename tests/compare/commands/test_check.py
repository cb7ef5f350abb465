"""`rnn-parity check` end to end: the table, the verdict, its exit status, files, JSON and errors.

The check command is how a user asks "does Keras compute what torch and the reference compute
for my model?". Its exit status is the answer scripts rely on, so these tests make sure it is 0
when everything agrees, 1 when a difference passes the tolerance (shown with a zero tolerance,
which float32 rounding always exceeds), and 2 with one clear line for bad input.
"""

from __future__ import annotations

import json

import pytest

from compare.cli import main
from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import DenseSpec, ModelSpec
from shared.weight_files import save_npz
from shared.weights import random_weights

pytestmark = pytest.mark.slow  # every test builds Keras and torch models through the CLI

HEADER_WORDS = ("quantity", "pair", "max abs", "max rel", "tol", "ok")


def _table_rows(out: str) -> list[str]:
    """The table's data lines (between the dashed rule and the verdict)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if set(line) == {"-"}) + 1
    return [line for line in lines[start:] if line.startswith(("outputs", "layer"))]


def test_flags_model_all_agree(capsys):
    argv = ["check", "--kind", "lstm", "--units", "4", "--layers", "2", "--bidirectional"]
    assert main([*argv, "--dtype", "float64"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "model: random weights from flags: lstm(4, bidirectional, seq) -> lstm(4, bidirectional) "
        "-> dense(1, linear) [float64, (12, 1)]; inputs: random (64 sequences)"
    )
    assert all(word in out for word in HEADER_WORDS)
    rows = _table_rows(out)
    assert len(rows) == 3 * (1 + 2 * 2)  # outputs + 2 layers x 2 directions, 3 pairs each
    assert all(row.endswith("yes") for row in rows)
    for quantity in ("layer 0 backward h", "layer 1 forward h", "layer 1 backward h"):
        assert quantity in out
    assert out.rstrip().endswith("all agree (tolerance 1e-12 x max(1, max |values|) per quantity)")


def test_zero_tolerance_fails_on_float32(capsys):
    # float32 keeps ~7 digits and the three computations sum in different orders, so some
    # hidden state differs by a few ulps (measured ~1e-7 to 1.8e-7 for this default model):
    # a zero tolerance must be exceeded, and the command must say so with exit status 1.
    assert main(["check", "--dtype", "float32", "--atol", "0"]) == 1
    out = capsys.readouterr().out
    rows = _table_rows(out)
    assert any(row.endswith("NO") for row in rows)
    assert "difference(s) past tolerance (tolerance 0e+00 absolute)" in out
    assert "all agree" not in out


def test_model_file(tmp_path, capsys):
    spec = ModelSpec(
        6,
        2,
        (RecurrentLayerSpec("gru", 3, reset_after=False),),
        DenseSpec(2, "tanh"),
        "float64",
    )
    path = save_npz(random_weights(spec, seed=7), tmp_path / "model.npz")
    assert main(["check", str(path), "--batch", "10"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        f"model: {path}: gru(3, reset_after=False) -> dense(2, tanh) [float64, (6, 2)]"
    )
    assert "random (10 sequences)" in out
    rows = _table_rows(out)
    assert len(rows) == 7  # the file's own model first, then outputs and states of each pair
    assert "your file vs reference" in rows[0]
    assert "all agree (tolerance 1e-12 x max(1, max |values|) per quantity)" in out


def test_json_output(tmp_path, capsys):
    target = tmp_path / "check.json"
    argv = ["check", "--kind", "gru", "--reset-after", "false", "--layers", "2"]
    assert main([*argv, "--json", str(target), "--dtype", "float64"]) == 0
    capsys.readouterr()
    data = json.loads(target.read_text())
    assert data["ok"] is True
    assert data["spec"]["dtype"] == "float64"
    assert [layer["reset_after"] for layer in data["spec"]["layers"]] == [False, False]
    assert len(data["rows"]) == 9
    first = data["rows"][0]
    assert set(first) >= {"quantity", "pair", "max_abs", "max_rel", "tolerance", "ok"}
    assert first["quantity"] == "outputs" and first["pair"] == "keras vs reference"
    assert all(row["ok"] and row["max_abs"] <= row["tolerance"] for row in data["rows"])


def test_sunspot_inputs(capsys):
    assert main(["check", "--inputs", "sunspots", "--batch", "16", "--dtype", "float64"]) == 0
    out = capsys.readouterr().out
    assert "inputs: sunspots (16 sequences)" in out
    assert "all agree" in out


def test_sunspots_with_two_features_is_one_line_exit_2(capsys):
    assert main(["check", "--inputs", "sunspots", "--features", "2"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert lines == [
        "rnn-parity check: error: sunspot windows are one real value per step; the spec takes "
        "2 features"
    ]


def test_bad_model_file_is_one_line_exit_2(tmp_path, capsys):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"not an archive")
    assert main(["check", str(path)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rnn-parity check: error: ")
    assert "broken.npz" in lines[0]
