"""Numpy inputs as a Keras model reads them: `shared.inputs`'s checks, then Keras's own step.

The checks (shape, NaN, token ids in the vocabulary) live once, in `shared.inputs`. What is
Keras's own: the model's `keras.Input` has a fixed time axis (the spec's time_steps) and takes
token ids as int32, so X is checked against that length and ids are handed over as int32.
"""

from __future__ import annotations

import numpy as np

from shared import inputs
from shared.errors import DataError
from shared.spec import ModelSpec


def model_inputs(spec: ModelSpec, X: np.ndarray) -> np.ndarray:
    """X as `spec`'s Keras model reads it (see `shared.inputs.model_inputs`), ids as int32.

    Raises:
        DataError: naming the shape or value problem, or a time axis other than the spec's.
    """
    return _keras_step(spec, inputs.model_inputs(spec, X))


def training_arrays(spec: ModelSpec, X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """X and Y checked for training (see `shared.inputs.training_arrays`), ids as int32.

    Raises:
        DataError: naming the shape or value problem.
    """
    X, Y = inputs.training_arrays(spec, X, Y)
    return _keras_step(spec, X), Y


def _keras_step(spec: ModelSpec, X: np.ndarray) -> np.ndarray:
    """Checked X as the model's `keras.Input` takes it: the spec's time steps, ids as int32."""
    if X.shape[1] != spec.time_steps:
        raise DataError(
            f"X must have the model's {spec.time_steps} time steps (its keras.Input's), "
            f"got {X.shape}"
        )
    return X.astype("int32") if spec.embedded else X
