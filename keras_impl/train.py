"""Training and prediction for Keras models, reported in the shared `FitHistory` form.

`fit` trains through Keras's own `model.fit`, so what is measured is what a Keras user runs,
and adds only what parity needs: a given sample order per epoch, every step's exact loss, the
weights after each epoch, an Adam variant with torch's epsilon placement, and exact float64.

Per-step losses. Keras's batch logs hold the epoch's running mean of the loss, not the batch's
loss, and differencing running means loses digits (float32 running sums). Instead a compiled
metric (`StepLossRecorder`) evaluates the compiled loss object on the same predictions the
train step differentiates (made before the update) and writes each value into a buffer
variable inside the compiled step; a callback reads the buffer at each epoch's end. The
model's class is untouched, no extra forward pass runs, and any `steps_per_execution` works.
Each value is the loss the gradient was taken of, in the model's dtype: the tests find it
bit-identical to Keras's own loss for a full batch, and equal to the numpy reference's loss
under the pre-step weights within 1e-6 (float32) and 1e-13 (float64).

Float64. Keras casts float arrays fed to `model.fit` to `floatx()`, and makes its optimizer's
learning rate and its loss at `floatx()`, so float64 models are compiled and trained inside
`floatx_scope("float64")` (restored afterwards), as if the user had set floatx globally.
"""

from __future__ import annotations

import math
import time
from typing import Any

import keras
import numpy as np
from keras import ops

from keras_impl.model import floatx_scope
from keras_impl.reading import spec_of
from keras_impl.translators.readout import crop_mask_warning_silenced
from keras_impl.weights import to_canonical
from shared.errors import DataError, SpecError
from shared.recipe import OptimizerSpec, TrainSpec
from shared.spec import ModelSpec
from shared.training import FitHistory, check_orders, check_xy

_LOSSES = {"mse": keras.losses.MeanSquaredError, "mae": keras.losses.MeanAbsoluteError}


@keras.saving.register_keras_serializable(package="rnn_parity")
class ParityAdam(keras.optimizers.Adam):
    """Adam with exact constants and a choice of where epsilon goes.

    epsilon_style "keras": Keras's update, w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v)
    + eps), written like `keras.optimizers.Adam.update_step` (so float32 results are bit-identical
    to it) except that beta_1 and beta_2 enter in the variable's dtype: stock Keras casts them
    through float32, which costs float64 training about 1e-8 of relative accuracy.

    epsilon_style "torch": torch.optim.Adam's update, w -= lr / (1 - b1^t) * m / (sqrt(v) /
    sqrt(1 - b2^t) + eps), with v updated as torch does (v * b2 + (1 - b2) * g^2) and the bias
    corrections formed in float64, then rounded to the variable's dtype, as torch forms them in
    Python floats. Epsilon is effectively sqrt(1 - b2^t) times smaller than in Keras's update.

    Create it under `floatx_scope("float64")` so the learning rate is held in float64 exactly.
    """

    def __init__(self, *args: Any, epsilon_style: str = "keras", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if epsilon_style not in ("keras", "torch"):
            raise SpecError(f"epsilon_style must be 'keras' or 'torch', got {epsilon_style!r}")
        if self.amsgrad:
            raise SpecError("ParityAdam does not implement amsgrad")
        self.epsilon_style = epsilon_style

    def update_step(self, gradient: Any, variable: keras.Variable, learning_rate: Any) -> None:
        """Update one variable from its gradient (called by `apply`, inside the compiled step)."""
        dtype = variable.dtype
        gradient = ops.cast(gradient, dtype)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        if self.epsilon_style == "keras":
            self._keras_update(gradient, variable, m, v, learning_rate)
        else:
            self._torch_update(gradient, variable, m, v, learning_rate)

    def _keras_update(
        self, gradient: Any, variable: keras.Variable, m: Any, v: Any, learning_rate: Any
    ) -> None:
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        step = ops.cast(self.iterations + 1, dtype)
        # convert_to_tensor keeps 0.9 exact in float64; ops.cast(0.9, ...) passes through float32
        beta_1_power = ops.power(ops.convert_to_tensor(self.beta_1, dtype), step)
        beta_2_power = ops.power(ops.convert_to_tensor(self.beta_2, dtype), step)
        alpha = lr * ops.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - self.beta_2))
        self.assign_sub(
            variable, ops.divide(ops.multiply(m, alpha), ops.add(ops.sqrt(v), self.epsilon))
        )

    def _torch_update(
        self, gradient: Any, variable: keras.Variable, m: Any, v: Any, learning_rate: Any
    ) -> None:
        dtype = variable.dtype
        # scalars in float64, as torch computes them in Python floats, then rounded once
        step = ops.cast(self.iterations + 1, "float64")
        lr = ops.cast(learning_rate, "float64")
        correction_1 = 1 - ops.power(ops.convert_to_tensor(self.beta_1, "float64"), step)
        correction_2 = 1 - ops.power(ops.convert_to_tensor(self.beta_2, "float64"), step)
        step_size = ops.cast(lr / correction_1, dtype)
        root_correction_2 = ops.cast(ops.sqrt(correction_2), dtype)
        # m.lerp_(g, 1 - b1) and v.mul_(b2).addcmul_(g, g, value=1 - b2), as torch writes them
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign(
            v,
            ops.add(
                ops.multiply(v, ops.convert_to_tensor(self.beta_2, dtype)),
                ops.multiply(ops.square(gradient), 1 - self.beta_2),
            ),
        )
        denominator = ops.add(ops.divide(ops.sqrt(v), root_correction_2), self.epsilon)
        self.assign_sub(variable, ops.divide(ops.multiply(m, step_size), denominator))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["epsilon_style"] = self.epsilon_style
        return config


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


class _EpochEnd(keras.callbacks.Callback):
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


def make_optimizer(optimizer: OptimizerSpec) -> keras.optimizers.Optimizer:
    """The Keras optimizer an `OptimizerSpec` describes.

    "adam" with epsilon_style "native" is stock `keras.optimizers.Adam`; "keras" and "torch" are
    `ParityAdam`, held in float64 so its learning rate is exact. "sgd" is `keras.optimizers.SGD`.
    Call it under `floatx_scope(model dtype)` so the learning rate has the model's precision.
    """
    if optimizer.name == "sgd":
        return keras.optimizers.SGD(
            learning_rate=float(optimizer.learning_rate), momentum=float(optimizer.momentum)
        )
    options = {
        "learning_rate": float(optimizer.learning_rate),
        "beta_1": float(optimizer.beta_1),
        "beta_2": float(optimizer.beta_2),
        "epsilon": float(optimizer.epsilon),
    }
    if optimizer.epsilon_style == "native":
        return keras.optimizers.Adam(**options)
    with floatx_scope("float64"):
        return ParityAdam(epsilon_style=optimizer.epsilon_style, **options)


def _compile(
    model: keras.Model,
    spec: ModelSpec,
    optimizer: keras.optimizers.Optimizer,
    loss: keras.losses.Loss,
    metrics: list[keras.metrics.Metric] | None,
    steps_per_execution: int = 1,
    jit_compile: bool | str = "auto",
) -> None:
    # Under the model's floatx so Keras's loss tracker and compiled loss keep its precision.
    with floatx_scope(spec.dtype):
        model.compile(
            optimizer=optimizer,
            loss=loss,
            metrics=metrics,
            steps_per_execution=steps_per_execution,
            jit_compile=jit_compile,
        )


def model_inputs(X: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """X checked against the spec: floats (samples, time_steps, features) cast to the spec's
    dtype, or, with an Embedding front, int32 token ids (samples, time_steps) within the vocab.

    Raises:
        DataError: naming the shape, dtype or value problem.
    """
    X = np.asarray(X)
    if not spec.embedded:
        if X.ndim != 3 or X.shape[1:] != (spec.time_steps, spec.features):
            raise DataError(
                f"X must be shaped (samples, {spec.time_steps}, {spec.features}), got {X.shape}"
            )
        X = X.astype(spec.dtype)
        if not np.all(np.isfinite(X)):
            raise DataError("X holds NaN or infinite values")
        return X
    if X.ndim != 2 or X.shape[1] != spec.time_steps:
        raise DataError(f"X must be token ids shaped (samples, {spec.time_steps}), got {X.shape}")
    if X.dtype.kind == "f" and np.all(np.isfinite(X)) and np.all(np.round(X) == X):
        X = X.astype(np.int64)  # whole numbers held as floats are ids, as the reference reads them
    if X.dtype.kind not in "iu":
        raise DataError(f"X must hold integer token ids, got dtype {X.dtype}")
    vocab = spec.front.vocab
    if X.size and (X.min() < 0 or X.max() >= vocab):
        raise DataError(f"X holds token ids outside 0..{vocab - 1} (the embedding's vocab)")
    return X.astype("int32")


def _training_arrays(
    X: np.ndarray, Y: np.ndarray, spec: ModelSpec
) -> tuple[np.ndarray, np.ndarray]:
    """X (see `model_inputs`) and Y checked against the spec, Y cast to its dtype."""
    X = model_inputs(X, spec)
    # token ids (samples, time) are checked as (samples, time, 1): one id per step
    check_xy(X[..., None] if spec.embedded else X, Y, spec.time_steps, spec.features)
    Y = np.asarray(Y, dtype=spec.dtype)
    if Y.shape[1:] != spec.output_shape:
        # Keras would broadcast a misfit Y silently; refuse instead.
        raise DataError(
            f"Y must be shaped (samples, {', '.join(map(str, spec.output_shape))}) for this "
            f"model, got {Y.shape}"
        )
    return X, Y


def _epoch_losses(step_loss: list[float], n_samples: int, batch_size: int) -> list[float]:
    """Batch-size-weighted mean of each epoch's step losses, summed in float64 (math.fsum)."""
    sizes = [min(batch_size, n_samples - start) for start in range(0, n_samples, batch_size)]
    steps = len(sizes)
    means = []
    for start in range(0, len(step_loss), steps):
        losses = step_loss[start : start + steps]
        means.append(math.fsum(s * loss for s, loss in zip(sizes, losses, strict=True)) / n_samples)
    return means


def fit(
    model: keras.Model,
    X: np.ndarray,
    Y: np.ndarray,
    train_spec: TrainSpec,
    order: list[np.ndarray] | None = None,
    *,
    record_weights: bool = False,
    progress: bool = False,
    steps_per_execution: int = 1,
    jit_compile: bool | str = "auto",
    epoch_clock: list[float] | None = None,
) -> FitHistory:
    """Train `model` in place with Keras's `model.fit` and report a `FitHistory`.

    The model is recompiled with the train spec's optimizer (fresh state) and loss. Keras's
    global seeds (Python, numpy, TensorFlow) are set from `train_spec.seed` first, so the same
    call twice from the same weights gives bit-identical weights on CPU.

    With `order`, epoch e feeds exactly X[order[e]] in that order, in batches of batch_size
    (the last may be smaller), Keras's shuffling off: one `model.fit(epochs=1)` per epoch on
    the same compiled model, so the optimizer's state carries over. Without it, one
    `model.fit` runs all epochs with Keras's own `shuffle=train_spec.shuffle`.

    `train_spec.single_bias` is ignored: Keras layers have one bias per gate already (GRU with
    reset_after=True has two, and both are real in torch too).

    Precision: `step_loss` holds every step's pre-update batch loss exactly as the gradient
    was taken of it (see the module docstring), in the model's dtype, widened to Python floats.
    `epoch_loss` is Keras's epoch loss, the batch-size-weighted mean of those step losses,
    summed exactly in float64 (math.fsum); Keras's own running total in the model's dtype
    (its `history["loss"]`) agrees within 1e-6 relative, exactly for one full batch per epoch.
    Keras's global float setting is float64 while a float64 model trains (module docstring).

    Args:
        model: a model `spec_of` accepts; trained in place, then left compiled with the train
            spec's optimizer (its state kept) and loss.
        X: inputs (samples, time_steps, features), or token ids (samples, time_steps).
        Y: targets (samples, head units), or (samples, time_steps, head units) for sequences.
        train_spec: epochs, batch size, optimizer, loss, seed, shuffle.
        order: optional, one permutation of range(samples) per epoch.
        record_weights: keep `to_canonical(model)` after every epoch.
        progress: show Keras's progress bar (verbose=1); silent by default.
        steps_per_execution: train steps per compiled call; speed only, same results.
        jit_compile: XLA compilation as in `model.compile`; "auto" means off on CPU. XLA may
            round differently from TensorFlow's own kernels, so True is not bit-identical.
        epoch_clock: when given, `time.perf_counter()` is appended to it at each epoch's end
            (before any recording), so a caller can time whole epochs (the speed study does);
            speed only, same results.

    Returns:
        epoch_loss, step_loss, epoch_weights (if asked) and seconds of training wall time
        (time spent recording weights excluded).

    Raises:
        DataError: if X, Y or order do not fit the model and train spec.
        ModelFileError: if the model is outside the specs.
    """
    spec = spec_of(model)
    X, Y = _training_arrays(X, Y, spec)
    n_samples = X.shape[0]
    check_orders(order, n_samples, train_spec.epochs)
    keras.utils.set_random_seed(train_spec.seed)
    with floatx_scope(spec.dtype):
        optimizer = make_optimizer(train_spec.optimizer)
        loss = _LOSSES[train_spec.loss]()
        steps = math.ceil(n_samples / train_spec.batch_size)
        recorder = StepLossRecorder(loss, capacity=steps, dtype=spec.dtype)
    _compile(model, spec, optimizer, loss, [recorder], steps_per_execution, jit_compile)
    history = FitHistory()
    callback = _EpochEnd(recorder, history, record_weights, epoch_clock)
    options = {
        "batch_size": train_spec.batch_size,
        "verbose": 1 if progress else 0,
        "callbacks": [callback],
    }
    start = time.perf_counter()
    # Under the model's floatx: Keras's array adapter casts every float array to floatx(), so a
    # float64 model would otherwise be trained on float32-rounded X and Y.
    with floatx_scope(spec.dtype), crop_mask_warning_silenced():
        if order is None:
            model.fit(X, Y, epochs=train_spec.epochs, shuffle=train_spec.shuffle, **options)
        else:
            for epoch, indices in enumerate(order):
                if progress:
                    print(f"Epoch {epoch + 1}/{train_spec.epochs} (given order)")
                indices = np.asarray(indices)
                model.fit(X[indices], Y[indices], epochs=1, shuffle=False, **options)
    history.seconds = time.perf_counter() - start - callback.seconds_spent
    history.epoch_loss = _epoch_losses(history.step_loss, n_samples, train_spec.batch_size)
    # Leave an ordinary compiled model behind: same optimizer (and its state), no recorder.
    _compile(model, spec, optimizer, loss, None, steps_per_execution, jit_compile)
    return history


def predict(model: keras.Model, X: np.ndarray) -> np.ndarray:
    """The model's outputs for X, in the model's dtype, computed in one batch.

    Calls the model directly (`model(X, training=False)`, no compiled function, no XLA). Over
    every kind and arrangement the tests cover (outputs up to ~2) it agrees with
    `shared.reference.predict` within 2.4e-7 in float32 and 9e-16 in float64.

    Args:
        model: a model `spec_of` accepts.
        X: (samples, time_steps, features), cast to the model's dtype; or, for an Embedding
            model, integer token ids (samples, time_steps).

    Returns:
        (samples, head units), or (samples, time_steps, head units) for sequence models, in
        the model's dtype.

    Raises:
        DataError: if X is not shaped for the model, holds NaN or infinite values, or token
            ids outside the vocabulary.
    """
    spec = spec_of(model)
    X = model_inputs(X, spec)
    with crop_mask_warning_silenced():
        outputs = model(X, training=False)
    return np.asarray(ops.convert_to_numpy(outputs), dtype=spec.dtype)
