"""What records a Keras training run: every step's exact loss, and each epoch's end.

`fit` runs Keras's own `model.fit`; `StepLossRecorder` (a compiled metric) keeps every
batch's pre-update loss inside the compiled step, and `EpochEnd` (a callback) reads those
losses, the epoch's end time and the weights at each epoch's end (torch_impl/callbacks.py is
the twin). keras_impl/train.py's module docstring says why the losses are taken this way.
"""

from __future__ import annotations

import time
from typing import Any

import keras
from keras import ops

from keras_impl.weights import to_canonical
from shared.training import FitHistory


@keras.saving.register_keras_serializable(package="rnn_parity")
class StepLossRecorder(keras.metrics.Metric):
    """A metric that keeps every batch's loss of one epoch, exactly, in a buffer variable.

    `update_state` gets the batch's targets and the predictions the train step made before
    updating, evaluates the same loss object the model was compiled with, and writes the value
    at the next slot. `values()` reads the epoch's losses back; Keras resets the buffer at each
    epoch's start, so read it at the epoch's end.
    """

    def __init__(
        self,
        loss: keras.losses.Loss,
        capacity: int,
        dtype: str = "float32",
        name: str = "batch_loss",
    ) -> None:
        super().__init__(dtype=dtype, name=name)
        self._loss = loss
        self._capacity = capacity
        self._buffer = self.add_variable(
            shape=(capacity,), initializer="zeros", dtype=dtype, name="buffer"
        )
        self._count = self.add_variable(shape=(), initializer="zeros", dtype="int32", name="count")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        value = ops.cast(self._loss(y_true, y_pred), self.dtype)  # scalar, the batch's loss
        index = ops.reshape(self._count, (1, 1))
        self._buffer.assign(ops.scatter_update(self._buffer, index, ops.reshape(value, (1,))))
        self._count.assign_add(1)

    def result(self) -> Any:
        """The latest batch's loss (shown by Keras's progress bar as "batch_loss")."""
        return ops.take(self._buffer, ops.maximum(self._count - 1, 0))

    def values(self) -> list[float]:
        """The losses recorded since the last reset, in order, as Python floats."""
        count = int(ops.convert_to_numpy(self._count))
        return [float(value) for value in ops.convert_to_numpy(self._buffer)[:count]]

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dtype": self.dtype,
            "capacity": self._capacity,
            "loss": keras.saving.serialize_keras_object(self._loss),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> StepLossRecorder:
        config = dict(config)
        config["loss"] = keras.saving.deserialize_keras_object(config["loss"])
        return cls(**config)


class EpochEnd(keras.callbacks.Callback):
    """Collects each epoch's step losses (and weights) before Keras resets the metrics."""

    def __init__(
        self,
        recorder: StepLossRecorder,
        history: FitHistory,
        record_weights: bool,
        epoch_clock: list[float] | None = None,
    ) -> None:
        super().__init__()
        self._recorder = recorder
        self._history = history
        self._record_weights = record_weights
        self._epoch_clock = epoch_clock
        self.seconds_spent = 0.0  # time spent here, not training

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        start = time.perf_counter()
        if self._epoch_clock is not None:
            self._epoch_clock.append(start)  # the epoch's last step is done; nothing else timed
        self._history.step_loss.extend(self._recorder.values())
        if self._record_weights:
            self._history.epoch_weights.append(to_canonical(self.model))
        self.seconds_spent += time.perf_counter() - start
