"""shared.inputs and shared.training.epoch_losses: the input checks and the epoch loss that the
reference and both frameworks share, checked once here."""

from __future__ import annotations

import numpy as np
import pytest

from shared.errors import DataError
from shared.grammar import EmbeddingSpec
from shared.inputs import model_inputs, token_ids, training_arrays
from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import DenseSpec, ModelSpec
from shared.training import epoch_losses


def _spec(front: EmbeddingSpec | None = None) -> ModelSpec:
    features = 1 if front else 2
    layers = (RecurrentLayerSpec("simple", 2),)
    return ModelSpec(4, features, layers, DenseSpec(1), "float64", front=front)


def test_token_ids_accept_whole_numbers_and_a_trailing_axis():
    ids = token_ids(np.array([[[1.0], [2.0], [0.0]]]), vocab=3)
    assert ids.dtype == np.int64 and ids.tolist() == [[1, 2, 0]]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.array([[1, 3]]), r"in \[0, 3\)"),
        (np.array([[-1, 0]]), r"in \[0, 3\)"),
        (np.array([[1.5, 0]]), "whole numbers"),
        (np.array([[np.nan, 0]]), "whole numbers"),
        (np.array([["a", "b"]]), "integers"),
        (np.ones((1, 2, 2), dtype=int), "shaped"),
    ],
)
def test_bad_token_ids_are_one_line(bad, message):
    with pytest.raises(DataError, match=message) as error:
        token_ids(bad, vocab=3)
    assert "\n" not in str(error.value)


def test_model_inputs_cast_floats_and_take_any_length():
    X = model_inputs(_spec(), np.ones((3, 7, 2), dtype=np.float32))
    assert X.dtype == np.float64 and X.shape == (3, 7, 2)
    with pytest.raises(DataError, match=r"X must be shaped \(samples, time, 2\)"):
        model_inputs(_spec(), np.ones((3, 7, 1)))
    with pytest.raises(DataError, match="NaN"):
        model_inputs(_spec(), np.full((1, 4, 2), np.inf))
    ids = model_inputs(_spec(EmbeddingSpec(5, 2)), np.array([[1, 2, 3, 4]]))
    assert ids.dtype == np.int64


def test_training_arrays_hold_the_spec_time_steps_and_output_shape():
    X, Y = training_arrays(_spec(), np.ones((3, 4, 2)), np.ones((3, 1), dtype=np.float32))
    assert X.shape == (3, 4, 2) and Y.dtype == np.float64
    with pytest.raises(DataError, match=r"X must be shaped \(samples, 4, 2\)"):
        training_arrays(_spec(), np.ones((3, 5, 2)), np.ones((3, 1)))
    with pytest.raises(DataError, match=r"Y must be shaped \(samples, 1\)"):
        training_arrays(_spec(), np.ones((3, 4, 2)), np.ones((3, 2)))
    ids, _ = training_arrays(_spec(EmbeddingSpec(5, 2)), np.zeros((3, 4)), np.ones((3, 1)))
    assert ids.dtype == np.int64 and ids.shape == (3, 4)


def test_epoch_loss_is_the_batch_size_weighted_mean():
    # 5 samples in batches of 2: sizes 2, 2, 1 per epoch, two epochs
    step_loss = [1.0, 2.0, 4.0, 0.5, 0.5, 3.0]
    assert epoch_losses(step_loss, n_samples=5, batch_size=2) == [
        (2 * 1.0 + 2 * 2.0 + 1 * 4.0) / 5,
        (2 * 0.5 + 2 * 0.5 + 1 * 3.0) / 5,
    ]
    with pytest.raises(ValueError):
        epoch_losses(step_loss[:-1], n_samples=5, batch_size=2)  # not whole epochs
