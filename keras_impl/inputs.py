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


def fit_orders(n_samples: int, epochs: int, seed: int, batch_size: int = 1) -> list[np.ndarray]:
    """The sample orders Keras's own `model.fit(shuffle=True)` feeds, after
    `keras.utils.set_random_seed(seed)` (what `keras_impl.train.fit` does without an order).

    Read from Keras's own epoch iterator (the TensorFlow trainer's, which `model.fit` builds), so
    it is Keras's draw, not a re-implementation: one `tf.random.shuffle` permutation made inside
    the data pipeline with seeds fixed when it is traced, which on Keras 3.15 / TensorFlow 2.21
    is the same permutation every epoch (torch draws a new one per epoch). Handing these orders
    to either `fit` reproduces Keras's shuffled run exactly (tests/keras_impl/test_fit_orders.py).
    The iterator is private Keras API: a Keras upgrade that moves it fails that test loudly.
    """
    import keras
    import tensorflow as tf
    from keras.src.backend.tensorflow.trainer import TFEpochIterator

    keras.utils.set_random_seed(seed)
    index = np.arange(n_samples, dtype="float32").reshape(n_samples, 1)  # each sample its index
    iterator = TFEpochIterator(
        distribute_strategy=tf.distribute.get_strategy(),
        x=index,
        y=index,
        batch_size=batch_size,
        shuffle=True,
        steps_per_execution=1,
    )
    orders = []
    for _ in range(epochs):
        seen: list[int] = []
        with iterator.catch_stop_iteration():
            for _, _, batches in iterator.enumerate_epoch():
                inputs, _ = next(batches)
                seen.extend(np.asarray(inputs).ravel().astype(np.int64).tolist())
        orders.append(np.asarray(seen, dtype=np.int64))
    return orders
