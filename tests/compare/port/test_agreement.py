"""The forward-agreement measurement must report every quantity it promises, and be able to fail.

`compare.port.agreement.measure` is the project's evidence that Keras, torch and the numpy reference
compute the same thing. A check that always says "ok" proves nothing, so besides the all-ok runs
on every kind these tests show that its probes read exact hidden states, that its arithmetic is
right on hand-made arrays, and that a deliberately wrong model (GRU gates r and z swapped) is
reported as not ok.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from compare.port import agreement
from compare.port.agreement import (
    PAIRS,
    difference,
    measure,
    probe_weights,
    random_inputs,
    sunspot_inputs,
)
from compare.port.shapes import SHAPES
from shared.errors import DataError
from shared.reference import forward
from shared.reference import predict as reference_predict
from shared.tolerances import TOLERANCES
from shared.weights import CanonicalWeights, DirectionWeights, random_weights
from tests.specs import DTYPES, KIND_IDS, KINDS, make_spec

PAIR_NAMES = [f"{a} vs {b}" for a, b in PAIRS]


@pytest.mark.slow
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer", [layer for _, layer in KINDS], ids=KIND_IDS)
def test_measure_all_ok_on_every_kind(impls, layer, dtype):
    spec = make_spec(layer, "stacked", dtype)
    weights = random_weights(spec, seed=3)
    report = measure(weights, random_inputs(spec, batch=8, seed=1), "random (8)")
    assert report.ok, report.format_table()
    assert all(row.tolerance == TOLERANCES[dtype] for row in report.rows)
    quantities = [row.quantity for row in report.rows]
    assert quantities == ["outputs"] * 3 + ["layer 0 forward h"] * 3 + ["layer 1 forward h"] * 3
    assert [row.pair for row in report.rows] == PAIR_NAMES * 3
    for row in report.rows[3:]:  # hidden states carry a per-step view
        assert len(row.per_step) == spec.time_steps
        assert row.worst_step == int(np.argmax(row.per_step))
        assert max(row.per_step) == row.max_abs


@pytest.mark.slow
def test_measure_rows_for_stacked_bidirectional(impls):
    spec = make_spec({"kind": "lstm"}, "stacked-bidirectional", "float64")
    report = measure(random_weights(spec, seed=4), random_inputs(spec, batch=6, seed=2))
    # outputs, then per layer and direction one row per pair
    names = ["outputs"] + [f"layer {k} {d} h" for k in range(2) for d in ("forward", "backward")]
    assert len(report.rows) == 3 * (1 + 2 * 2) == 15
    assert [row.quantity for row in report.rows] == [n for n in names for _ in PAIRS]
    assert [row.pair for row in report.rows] == PAIR_NAMES * 5
    assert report.ok, report.format_table()
    assert report.rows[0].worst_step is None  # outputs of a non-sequence model: no time axis
    as_dict = report.to_dict()
    assert as_dict["ok"] is True and len(as_dict["rows"]) == 15
    assert as_dict["spec"] == spec.to_dict() and as_dict["inputs"] == "random"
    table = report.format_table()
    assert "layer 1 backward h (worst t=" in table and "NO" not in table.split("\n", 2)[2]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("structure", ["stacked", "stacked-bidirectional"])
@pytest.mark.parametrize("layer", [layer for _, layer in KINDS], ids=KIND_IDS)
def test_probe_outputs_are_exactly_the_hidden_states(layer, structure, dtype):
    spec = make_spec(layer, structure, dtype)
    weights = random_weights(spec, seed=5)
    X = random_inputs(spec, batch=4, seed=3)
    trace = forward(weights, X)
    for index, layer_spec in enumerate(spec.layers):
        probe = probe_weights(weights, index)
        assert probe.spec.layers[-1].return_sequences
        assert len(probe.spec.layers) == index + 1
        assert probe.spec.head.activation == "linear"
        hidden = np.concatenate([trace.hidden[index][d] for d in layer_spec.directions], axis=2)
        # x @ I + 0 is exact in floating point: bitwise equal, no tolerance
        outputs = reference_predict(probe, X)
        assert outputs.dtype == hidden.dtype
        assert np.array_equal(outputs, hidden)


def _swap_r_and_z(weights: CanonicalWeights) -> CanonicalWeights:
    """The same weights with GRU gates r and z exchanged: what a wrong gate order would load."""
    layers = []
    for directions in weights.layers:
        swapped = {}
        for direction, w in directions.items():
            params = {}
            for name in ("W", "U", "b", "c"):
                gates = dict(w.param(name))
                gates["r"], gates["z"] = gates["z"], gates["r"]
                params[name] = gates
            swapped[direction] = DirectionWeights(**params)
        layers.append(swapped)
    return CanonicalWeights(weights.spec, layers, weights.W_y, weights.b_y).validate()


@pytest.mark.slow
def test_swapped_gates_are_reported(impls, monkeypatch):
    _, torch_impl = impls
    spec = make_spec({"kind": "gru", "reset_after": True}, "single", "float32")
    weights = random_weights(spec, seed=6)
    X = random_inputs(spec, batch=8, seed=4)
    expected = reference_predict(weights, X)

    wrong = torch_impl.predict(torch_impl.from_canonical(_swap_r_and_z(weights)), X)
    row = difference("outputs", "torch vs reference", wrong, expected, TOLERANCES["float32"])
    assert not row.ok
    assert row.max_abs > 1e-3  # a real error, not rounding
    right = torch_impl.predict(torch_impl.from_canonical(weights), X)
    assert difference("outputs", "torch vs reference", right, expected, 1e-6).ok

    # measure() itself flags a framework that loads the gates in the wrong order
    real_from_canonical = torch_impl.from_canonical
    monkeypatch.setattr(
        torch_impl, "from_canonical", lambda w: real_from_canonical(_swap_r_and_z(w))
    )
    report = measure(weights, X)
    assert not report.ok
    failed = {(row.quantity, row.pair) for row in report.rows if not row.ok}
    assert ("outputs", "torch vs reference") in failed
    assert ("outputs", "keras vs torch") in failed
    assert ("layer 0 forward h", "torch vs reference") in failed
    assert all(row.ok for row in report.rows if "torch" not in row.pair)
    assert "NO" in report.format_table()


def test_difference_on_hand_made_arrays():
    b = np.zeros((2, 3, 2))  # (batch, time, units)
    b[0, 0, 0] = -4.0  # max |b| = 4
    a = b.copy()
    a[1, 1, 1] += 0.5  # step 1 off by 0.5
    a[0, 2, 0] -= 0.25  # step 2 off by 0.25
    row = difference("layer 0 forward h", "keras vs torch", a, b, 0.3, scaled=False)
    assert row.max_abs == 0.5
    assert row.max_rel == 0.5 / 4.0  # normwise: max |a - b| / max |b|
    assert row.per_step == [0.0, 0.5, 0.25]
    assert row.worst_step == 1
    assert not row.ok
    assert difference("q", "p", a, b, 0.5, scaled=False).ok  # the tolerance itself is allowed
    # scaled (the default): the bound grows with max |b| = 4 above 1, so 0.3 allows 1.2
    assert difference("q", "p", a, b, 0.3).tolerance == pytest.approx(1.2)
    assert difference("q", "p", a, b, 0.1).ok is False  # 0.5 > 0.4

    flat = difference("outputs", "p", np.array([[1.0], [3.0]]), np.array([[1.0], [2.0]]), 0.0)
    assert (flat.max_abs, flat.max_rel, flat.worst_step, flat.per_step) == (1.0, 0.5, None, [])

    zeros = np.zeros((1, 2, 1))
    assert difference("q", "p", zeros, zeros, 0.0).max_rel == 0.0
    assert difference("q", "p", zeros, zeros, 0.0).ok  # 0 <= 0
    assert math.isinf(difference("q", "p", zeros + 1.0, zeros, 1.0).max_rel)

    # float32 arrays are compared in float64, so the difference is not rounded away
    a32 = np.array([1.0 + 2**-23], dtype=np.float32)
    assert difference("q", "p", a32, np.array([1.0], np.float32), 0.0).max_abs == 2**-23

    with pytest.raises(ValueError, match="shapes differ"):
        difference("q", "p", np.zeros((2, 1)), np.zeros((1, 2)), 0.0)


def test_sunspot_inputs_need_one_feature():
    spec = make_spec({"kind": "simple"}, "single", "float64", time_steps=12, features=1)
    X = sunspot_inputs(spec, batch=5)
    assert X.shape == (5, 12, 1) and X.dtype == np.float64
    assert X.min() >= 0.0 and X.max() <= 1.0  # scaled series
    with pytest.raises(DataError, match="one real value per step; the spec takes 2 features"):
        sunspot_inputs(make_spec({"kind": "simple"}, "single", "float32", features=2))
    with pytest.raises(DataError, match="the spec takes token ids"):
        sunspot_inputs(SHAPES["embedding + mask_zero"]("float32"))


def test_random_inputs_are_seeded_and_typed():
    spec = make_spec({"kind": "lstm"}, "single", "float32")
    X = random_inputs(spec, batch=3, seed=9)
    assert X.shape == (3, spec.time_steps, spec.features) and X.dtype == np.float32
    assert np.array_equal(X, random_inputs(spec, batch=3, seed=9))
    assert not np.array_equal(X, agreement.random_inputs(spec, batch=3, seed=10))


def test_random_inputs_fit_the_front_and_pad_at_end_middle_and_start():
    """Masked specs get padding in all three places, so both torch mask routes are exercised."""
    masked = SHAPES["masking + bidirectional"]("float64")
    inputs = random_inputs(masked, batch=16, seed=1)
    padding = masked.front.mask_value
    keep = np.any(inputs != padding, axis=2)  # (batch, time)
    trailing = [row for row in keep if not row[-1] and row[0]]
    leading = [row for row in keep if not row[0] and row[-1]]
    middle = [row for row in keep if row[0] and row[-1] and not row.all()]
    assert trailing and leading and middle and keep.any(axis=1).all()
    ids = random_inputs(SHAPES["embedding + mask_zero"]("float32"), batch=16, seed=1)
    assert ids.dtype == np.int64 and ids.shape == (16, 10)
    assert ids.min() == 0 and ids.max() < 30 and (ids != 0).any(axis=1).all()
