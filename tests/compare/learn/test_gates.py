"""The gated walkthrough teaches by numbers: its table, its hand computation and its text are true.

`rnn-parity walkthrough --kind lstm|gru` shows which slice of which framework array is which
gate, and every gate and state by hand. These tests check the table against the arrays Keras
and torch really hold (random weights: constants hide swapped gates), catch a table with two
gate slices swapped (planted mutants), check the hand computation against the numpy reference
and against both frameworks in float32 and float64, and read the printed numbers back.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from compare.cli import main
from compare.learn.gate_tables import check_mapping, mapping, table_markdown
from compare.learn.gates import by_hand, compute_gated, demo_spec, render_gated
from shared.reference import forward
from shared.tolerances import TOLERANCES
from shared.weights import random_weights

VARIANTS = {"lstm": ("lstm", True), "gru": ("gru", True), "gru-reset-before": ("gru", False)}
# Printed with 8 decimals: within half a unit of the last digit; 1e-9 pads the conversion.
PRINT_PRECISION = 5e-9 + 1e-9


@pytest.fixture(scope="module")
def results(impls):
    """(variant, dtype) -> GatedResult, each computed once for the module."""
    return {
        (name, dtype): compute_gated(kind, reset_after, dtype=dtype)
        for name, (kind, reset_after) in VARIANTS.items()
        for dtype in ("float32", "float64")
    }


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS)
def test_the_table_matches_both_frameworks_arrays(results, variant):
    result = results[(variant, "float64")]
    assert result.problems == []
    assert (
        check_mapping(result.rows, result.keras_native, result.torch_native, result.weights) == []
    )
    # random weights, so every slice holds distinct values: a swap would show
    arrays = [
        array for name, array in result.weights.to_arrays().items() if name.startswith("layer0/")
    ]
    values = np.concatenate([a.ravel() for a in arrays if np.any(a != 0)])
    assert len(np.unique(values)) == len(values)


def _swap(rows, first: str, second: str, side: str):
    """A copy of the table with `side`'s slices of rows `first` and `second` swapped."""
    index = {row.canonical: number for number, row in enumerate(rows)}
    a, b = rows[index[first]], rows[index[second]]
    mutant = list(rows)
    mutant[index[first]] = dataclasses.replace(a, **{side: getattr(b, side)})
    mutant[index[second]] = dataclasses.replace(b, **{side: getattr(a, side)})
    return mutant


MUTANTS = [
    ("gru", "W[r]", "W[z]", "keras"),  # the classic: Keras z, r, h read as r, z, h
    ("gru", "U[z]", "U[n]", "torch"),
    ("gru", "b[n]", "c[n]", "keras"),  # bias rows 0 and 1 of Keras's (2, 3*units) bias
    ("lstm", "W[f]", "W[g]", "torch"),
    ("lstm", "b[i]", "b[o]", "keras"),
    ("gru-reset-before", "U[r]", "U[z]", "keras"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("variant", "first", "second", "side"), MUTANTS)
def test_a_swapped_gate_slice_is_caught(results, variant, first, second, side):
    result = results[(variant, "float64")]
    mutant = _swap(result.rows, first, second, side)
    assert mutant != result.rows
    problems = check_mapping(mutant, result.keras_native, result.torch_native, result.weights)
    framework = "Keras" if side == "keras" else "torch"
    assert len(problems) == 2, problems
    assert problems[0].startswith(f"{first}: {framework}")
    assert problems[1].startswith(f"{second}: {framework}")


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_hand_computation_equals_keras_torch_and_the_reference(results, variant, dtype):
    result = results[(variant, dtype)]
    tolerance = TOLERANCES[dtype]  # 1e-6 / 1e-12: see shared/tolerances.py
    hand = np.stack([step["h"] for step in result.steps])  # (time 3, units 2)
    assert hand.dtype == np.dtype(dtype)
    trace = forward(result.weights, np.array(result.inputs, dtype).reshape(1, 3, 1))
    assert np.max(np.abs(hand - trace.hidden[0]["forward"][0])) <= tolerance
    if result.kind == "lstm":
        cells = np.stack([step["c"] for step in result.steps])
        assert np.max(np.abs(cells - trace.cell[0]["forward"][0])) <= tolerance
    assert abs(result.hand_output - trace.outputs[0, 0]) <= tolerance
    for framework in ("keras", "torch"):
        states = result.framework_states[framework]
        assert states.shape == (3, 2) and states.dtype == np.dtype(dtype)
        assert np.max(np.abs(states.astype(np.float64) - hand)) <= tolerance
        assert abs(result.framework_output[framework] - result.hand_output) <= tolerance
    assert np.min(np.abs(hand)) > 1e-3  # not a degenerate demo: the states move


def test_hand_computation_with_nonzero_recurrent_biases():
    # after a Keras round trip one-bias layers have c = 0; raw random weights exercise c too
    for kind, reset_after in VARIANTS.values():
        weights = random_weights(demo_spec(kind, 3, "float64", reset_after, 4), seed=5)
        steps, output = by_hand(weights, [0.5, -1.0, 2.0, 1.5])
        trace = forward(weights, np.array([0.5, -1.0, 2.0, 1.5]).reshape(1, 4, 1))
        hand = np.stack([step["h"] for step in steps])
        assert np.max(np.abs(hand - trace.hidden[0]["forward"][0])) <= 1e-12  # float64
        assert abs(output - trace.outputs[0, 0]) <= 1e-12


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS)
def test_printed_gates_and_states_are_the_computed_ones(results, variant):
    result = results[(variant, "float64")]
    text = render_gated(result)
    for step, values in enumerate(result.steps, start=1):
        for name, value in values.items():
            match = re.search(rf"^  {name}_{step} = \[([^\]]*)\]$", text, re.MULTILINE)
            assert match, f"{name}_{step} not printed"
            printed = np.array([float(v) for v in match.group(1).split(",")])
            assert np.max(np.abs(printed - value)) <= PRINT_PRECISION
    for row in result.rows:  # every canonical array has its table line, with both slices
        keras = row.keras.text(2) if row.keras else "(none: c = 0)"
        assert re.search(
            rf"^  {re.escape(row.canonical)}\s+{re.escape(keras)} .*{re.escape(row.torch.text(2))}",
            text,
            re.MULTILINE,
        )
    assert "every slice holds its canonical array exactly" in text


@pytest.mark.slow
def test_reset_before_explains_and_measures_why_nn_gru_cannot(results):
    result = results[("gru-reset-before", "float64")]
    text = render_gated(result)
    gap = float(re.search(r"off by up to (\S+)\.$", text, re.MULTILINE).group(1))
    hand = np.stack([step["h"] for step in result.steps])
    assert gap == pytest.approx(np.max(np.abs(result.nn_gru_states - hand)), rel=1e-2)
    assert gap > 1e-3  # a real difference, not rounding (the exact LoopGRU is within 1e-12)
    assert "LoopGRU" in text
    assert "nn.GRU cannot" not in render_gated(results[("gru", "float64")])


def test_symbolic_tables_name_the_frameworks_orders():
    gru = "\n".join(table_markdown("gru"))
    assert "| `W[r]` | `kernel[:, H:2H]` (r) | `weight_ih_l0[0:H].T` (r) |" in gru
    assert "| `c[n]` | `bias[1, 2H:3H]` (h) | `bias_hh_l0[2H:3H]` (n) |" in gru
    lstm = "\n".join(table_markdown("lstm"))
    assert "| `W[g]` | `kernel[:, 2H:3H]` (c) | `weight_ih_l0[2H:3H].T` (g) |" in lstm
    assert "| `c[i]` | none (c = 0) | `bias_hh_l0[0:H]` (i) |" in lstm
    assert [row.canonical for row in mapping("gru", 2)][:3] == ["W[r]", "W[z]", "W[n]"]


@pytest.mark.slow
def test_walkthrough_command_kinds_and_bad_input(impls, capsys):
    assert main(["walkthrough", "--kind", "lstm", "--dtype", "float64", "--units", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("The gated walkthrough: LSTM(3) + Dense(1, linear)")
    assert re.search(r"^  c_3 = \[[^,\]]+,[^,\]]+,[^,\]]+\]$", out, re.MULTILINE)  # 3 units
    assert main(["walkthrough", "--kind", "lstm", "--reset-before"]) == 2
    assert capsys.readouterr().err.strip() == (
        "rnn-parity walkthrough: error: --reset-before is a GRU variant; --kind lstm has no "
        "reset gate"
    )
