"""Specs round-trip through JSON and refuse bad values; canonical weights validate and persist."""

import json
import zipfile

import numpy as np
import pytest

from shared.errors import SpecError, WeightFormatError
from shared.recipe import OptimizerSpec, TrainSpec
from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import DenseSpec, ModelSpec, tutorial_spec
from shared.weight_files import load_npz, save_npz
from shared.weights import CanonicalWeights, random_weights, zero_recurrent_bias

STACKED = ModelSpec(
    time_steps=6,
    features=2,
    layers=(
        RecurrentLayerSpec("lstm", 4, return_sequences=True, bidirectional=True),
        RecurrentLayerSpec("gru", 3, reset_after=False),
    ),
    head=DenseSpec(2, "tanh"),
    dtype="float64",
)


@pytest.mark.parametrize("spec", [tutorial_spec(), tutorial_spec("float64"), STACKED])
def test_model_spec_json_round_trip(spec):
    assert ModelSpec.from_json(spec.to_json()) == spec


def test_train_spec_json_round_trip():
    spec = TrainSpec(
        epochs=3, batch_size=8, optimizer=OptimizerSpec(epsilon=0.0, epsilon_style="torch")
    )
    assert TrainSpec.from_json(spec.to_json()) == spec


@pytest.mark.parametrize(
    "data,message",
    [
        ({"time_steps": 12, "features": 1, "layers": [], "bogus": 1}, "unknown key.*bogus"),
        (
            {"time_steps": 0, "features": 1, "layers": [{"kind": "simple", "units": 3}]},
            "time_steps",
        ),
        ({"time_steps": 12, "features": 1, "layers": [{"kind": "conv", "units": 3}]}, "kind"),
        ({"time_steps": 12, "features": 1, "layers": [{"kind": "simple", "units": 0}]}, "units"),
        (
            {
                "time_steps": 12,
                "features": 1,
                "layers": [{"kind": "simple", "units": 3, "activation": "swishy"}],
            },
            "activation",
        ),
        (
            {
                "time_steps": 12,
                "features": 1,
                "layers": [{"kind": "lstm", "units": 3, "activation": "relu"}],
            },
            "tanh",
        ),
        (
            {
                "time_steps": 12,
                "features": 1,
                "layers": [{"kind": "simple", "units": 3, "colour": "red"}],
            },
            "layer 0.*colour",
        ),
        ({"time_steps": 12, "features": 1, "layers": [{"units": 3}]}, "layer 0.*kind"),
        (
            {
                "time_steps": 12,
                "features": 1,
                "layers": [{"kind": "simple", "units": 3}, {"kind": "simple", "units": 3}],
            },
            "layer 0.*return_sequences",
        ),
        (
            {
                "time_steps": 12,
                "features": 1,
                "layers": [{"kind": "simple", "units": 3}],
                "dtype": "float16",
            },
            "dtype",
        ),
        ({"time_steps": 12, "layers": [{"kind": "simple", "units": 3}]}, "missing key 'features'"),
    ],
)
def test_bad_model_specs_name_the_problem(data, message):
    with pytest.raises(SpecError, match=message):
        ModelSpec.from_json(json.dumps(data))


@pytest.mark.parametrize(
    "data,message",
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": -1}, "batch_size"),
        ({"loss": "huber"}, "loss"),
        ({"optimizer": {"name": "adagrad"}}, "optimizer name"),
        ({"optimizer": {"beta_2": 1.0}}, "beta_2"),
        ({"optimizer": {"learning_rate": float("nan")}}, "learning_rate"),
        ({"optimizer": {"lr": 0.1}}, "unknown key.*lr"),
        ({"shuffle": "yes"}, "shuffle"),
    ],
)
def test_bad_train_specs_name_the_problem(data, message):
    with pytest.raises(SpecError, match=message):
        TrainSpec.from_dict(data)


def test_malformed_json_is_a_spec_error():
    with pytest.raises(SpecError, match="not valid JSON"):
        ModelSpec.from_json("{not json")


def test_random_weights_validate_and_are_not_constant():
    weights = random_weights(STACKED, seed=1)
    arrays = weights.to_arrays()
    # 2 directions x 4 params x 4 gates for the LSTM, 1 x 4 x 3 for the GRU, plus the head
    assert len(arrays) == 32 + 12 + 2
    assert all(np.unique(a).size == a.size for a in arrays.values())
    assert arrays["layer1/forward/W/r"].shape == (8, 3)  # input is the bidirectional concat


def test_npz_round_trip_is_bitwise(tmp_path):
    weights = random_weights(STACKED, seed=2)
    loaded = load_npz(save_npz(weights, tmp_path / "w.npz"))
    assert loaded.spec == STACKED and loaded.bitwise_equal(weights)
    assert not list(tmp_path.glob("*.partial*"))


def test_zero_recurrent_bias_only_touches_c():
    weights = random_weights(STACKED, seed=3)
    zeroed = zero_recurrent_bias(weights).to_arrays()
    for name, array in weights.to_arrays().items():
        if "/c/" in name:
            assert not zeroed[name].any()
        else:
            np.testing.assert_array_equal(zeroed[name], array)


def _broken(change):
    arrays = random_weights(STACKED, seed=4).to_arrays()
    change(arrays)
    return arrays


@pytest.mark.parametrize(
    "change,message",
    [
        (
            lambda a: a.update({"layer0/backward/U/g": np.zeros((4, 5))}),
            r"layer 0 \(lstm\) backward U\[g\]: expected shape \(4, 4\), got \(4, 5\)",
        ),
        (
            lambda a: a.update({"layer1/forward/b/z": np.zeros(3, dtype=np.float32)}),
            r"layer 1 \(gru\) forward b\[z\]: expected dtype float64",
        ),
        (lambda a: a.update({"head/W_y": np.full((3, 2), np.inf)}), "head W_y: holds NaN"),
        (lambda a: a.pop("layer1/forward/c/n"), "missing.*layer1/forward/c/n"),
        (lambda a: a.update({"layer2/forward/W/h": np.zeros((3, 3))}), "unexpected.*layer2"),
    ],
)
def test_misfit_weights_name_layer_gate_and_shape(change, message):
    with pytest.raises(WeightFormatError, match=message):
        CanonicalWeights.from_arrays(STACKED, _broken(change))


def test_load_npz_errors_name_the_file(tmp_path):
    with pytest.raises(WeightFormatError, match="no such weight file"):
        load_npz(tmp_path / "absent.npz")
    text = tmp_path / "text.npz"
    text.write_text("not a zip")
    with pytest.raises(WeightFormatError, match="text.npz: not a readable"):
        load_npz(text)
    no_spec = tmp_path / "nospec.npz"
    np.savez(no_spec, a=np.zeros(2))
    with pytest.raises(WeightFormatError, match="nospec.npz: holds no model spec"):
        load_npz(no_spec)
    truncated = tmp_path / "truncated.npz"
    save_npz(random_weights(STACKED), tmp_path / "good.npz")
    truncated.write_bytes((tmp_path / "good.npz").read_bytes()[:300])
    with pytest.raises(WeightFormatError, match="truncated.npz"):
        load_npz(truncated)
    assert zipfile.is_zipfile(tmp_path / "good.npz")


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, __spec_json__=np.array(STACKED.to_json()), evil=np.array([object()]))
    with pytest.raises(WeightFormatError, match="pickled.npz"):
        load_npz(path)
