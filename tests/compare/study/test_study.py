"""The RMSE study: windows per preset, baselines on the same windows, honest divergence."""

import dataclasses

import numpy as np
import pytest

from compare.study.baselines import linear_ar, persistence, rmse
from compare.study.presets import PRESETS, Preset, baseline_records, prepare, training_record
from shared.recipe import OptimizerSpec, TrainSpec
from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import DenseSpec, ModelSpec


def test_presets_window_as_described():
    tutorial = prepare(PRESETS["tutorial"])
    assert tutorial.X_train.shape == (187, 12, 1) and tutorial.X_test.shape == (46, 12, 1)
    sliding = prepare(PRESETS["sliding"])
    # 2256 training values give 2256 - 12 windows with stride 1; 564 test values give 552.
    assert sliding.X_train.shape == (2244, 12, 1) and sliding.X_test.shape == (552, 12, 1)
    # scaling on the training part only: the training part spans exactly [0, 1]
    train_values = np.concatenate([sliding.X_train[0, :, 0], sliding.Y_train[:, 0]])
    assert train_values.min() == 0 and train_values.max() == pytest.approx(1, abs=1e-6)


def test_baselines_on_the_same_windows():
    data = prepare(PRESETS["tutorial"])
    records = {r["name"]: r for r in baseline_records(PRESETS["tutorial"], data)}
    expected = rmse(data.X_test[:, -1, :], data.Y_test)
    assert records["persistence"]["test_rmse_scaled"] == pytest.approx(expected)
    # sunspot units: the scaler maps [0, 1] onto [0, 253.8], so RMSE scales by 253.8
    assert records["persistence"]["test_rmse_units"] == pytest.approx(expected * 253.8, rel=1e-5)
    assert records["linear_ar"]["train_rmse_scaled"] < records["persistence"]["train_rmse_scaled"]


def test_linear_ar_recovers_a_linear_rule():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4, 1))
    Y = X[:, :, 0] @ np.array([[0.5], [-1.0], [2.0], [0.25]]) + 3.0
    assert rmse(linear_ar(X, Y, X), Y) < 1e-10
    assert persistence(X).shape == (50, 1)
    with pytest.raises(ValueError, match="differ in shape"):
        rmse(np.zeros((3, 1)), np.zeros(3))


@pytest.mark.slow
@pytest.mark.parametrize("framework", ["keras", "torch"])
def test_training_record_fields(framework):
    preset = PRESETS["tutorial"]
    record = training_record(framework, preset, prepare(preset), seed=0, epochs=1)
    assert not record["diverged"] and len(record["epoch_loss"]) == 1
    assert 0 < record["test_rmse_scaled"] < 1
    assert len(record["predicted_units"]) == len(record["actual_units"]) == 187 + 46
    assert record["n_train_windows"] == 187


@pytest.mark.slow
def test_a_diverging_run_is_marked_not_scored():
    # A linear RNN with a learning rate of 1e12 overflows to inf/NaN within a few steps.
    exploding = Preset(
        "exploding",
        "diverges on purpose",
        "all",
        None,
        ModelSpec(
            12, 1, (RecurrentLayerSpec("simple", 3, activation="linear"),), DenseSpec(1, "linear")
        ),
        TrainSpec(epochs=1, batch_size=1, optimizer=OptimizerSpec(learning_rate=1e12)),
    )
    data = prepare(dataclasses.replace(exploding))
    record = training_record("torch", exploding, data, seed=0)
    assert record["diverged"] and np.isnan(record["test_rmse_units"])
