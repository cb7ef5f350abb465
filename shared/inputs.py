"""Numpy inputs as a model reads them, checked once for the reference and both frameworks.

Every `predict` and `fit` (numpy reference, keras_impl, torch_impl) hands X to its model
through `model_inputs`, and every `fit` checks X and Y through `training_arrays`, so a bad X is
the same one-line `DataError` everywhere (shape, NaN, ids outside the vocabulary) instead of a
deep framework error (nn.Embedding's "index out of range in self").
"""

from __future__ import annotations

import numpy as np

from shared.errors import DataError
from shared.spec import ModelSpec
from shared.training import check_xy


def token_ids(X: np.ndarray, vocab: int) -> np.ndarray:
    """Integer ids (batch, time) as int64, from (batch, time) or (batch, time, 1), in [0, vocab).

    Whole-number floats are accepted as ids.

    Raises:
        DataError: for another shape, fractional or non-finite values, or ids out of range.
    """
    ids = np.asarray(X)
    if ids.ndim == 3 and ids.shape[2] == 1:
        ids = ids[:, :, 0]
    if ids.ndim != 2 or ids.shape[1] < 1:
        raise DataError(f"token ids must be shaped (samples, time), got {np.shape(X)}")
    if ids.dtype.kind == "f":
        if not np.all(np.isfinite(ids)) or np.any(ids != np.round(ids)):
            raise DataError("token ids must be whole numbers")
    elif ids.dtype.kind not in "iu":
        raise DataError(f"token ids must be integers, got dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= vocab):
        raise DataError(f"token ids must lie in [0, {vocab}), got {ids.min()} .. {ids.max()}")
    return np.ascontiguousarray(ids.astype(np.int64))


def model_inputs(spec: ModelSpec, X: np.ndarray) -> np.ndarray:
    """X as `spec`'s model reads it: int64 ids (batch, time) with an Embedding front, else
    (batch, time, features) cast to the spec's dtype. Any number of time steps >= 1.

    Raises:
        DataError: naming the shape or value problem.
    """
    if spec.embedded:
        return token_ids(X, spec.front.vocab)
    X = np.asarray(X)
    if X.ndim != 3 or X.shape[1] < 1 or X.shape[2] != spec.features:
        raise DataError(f"X must be shaped (samples, time, {spec.features}), got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise DataError("X holds NaN or infinite values")
    return np.ascontiguousarray(X.astype(spec.dtype))


def training_arrays(spec: ModelSpec, X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """X and Y checked for training `spec`'s model: X as `model_inputs` returns it, with exactly
    the spec's time steps, and Y cast to the spec's dtype, shaped as the model's outputs.

    Raises:
        DataError: naming the shape or value problem; a (n,) or (n, 1) mix-up in Y is refused,
            as it would broadcast silently in the loss.
    """
    if spec.embedded and np.ndim(X) == 2:  # token ids (samples, time): one feature per step
        check_xy(np.asarray(X)[:, :, None], Y, spec.time_steps, spec.features)
    else:
        check_xy(X, Y, spec.time_steps, spec.features)
    Y = np.asarray(Y)
    if Y.shape[1:] != spec.output_shape:
        raise DataError(
            f"Y must be shaped (samples, {', '.join(map(str, spec.output_shape))}) "
            f"to match the model's outputs, got {Y.shape}"
        )
    return model_inputs(spec, X), np.ascontiguousarray(Y.astype(spec.dtype))
