"""Training and prediction for Keras models, reported in the shared `FitHistory` form.

`fit` trains through Keras's own `model.fit`, so what is measured is what a Keras user runs,
and adds only what parity needs: a given sample order per epoch, every step's exact loss, the
weights after each epoch, an Adam variant with torch's epsilon placement (`keras_impl.optim`),
and exact float64.

Per-step losses. Keras's batch logs hold the epoch's running mean of the loss, not the batch's
loss, and differencing running means loses digits (float32 running sums). Instead a compiled
metric (`keras_impl.callbacks.StepLossRecorder`) evaluates the compiled loss object on the
same predictions the train step differentiates (made before the update) and writes each value
into a buffer variable inside the compiled step; a callback reads the buffer at each epoch's
end. The model's class is untouched, no extra forward pass runs, and any `steps_per_execution`
works.
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

import keras
import numpy as np
from keras import ops

from keras_impl.callbacks import EpochEnd, StepLossRecorder
from keras_impl.inputs import model_inputs, training_arrays
from keras_impl.model import check_backend_dtype, floatx_scope
from keras_impl.optim import make_loss, make_optimizer
from keras_impl.reading import spec_of
from keras_impl.translators.readout import crop_mask_warning_silenced
from shared.errors import SpecError
from shared.recipe import TrainSpec
from shared.spec import ModelSpec
from shared.training import FitHistory, check_orders, epoch_losses


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
    scan_steps: bool = False,
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
        scan_steps: on Keras's JAX backend only, run each execution's `steps_per_execution`
            steps as one jitted `jax.lax.scan` of Keras's own train step
            (`keras_impl.jax_scan`) instead of Keras's Python loop over a jitted step; speed
            only, the same steps.

    Returns:
        epoch_loss, step_loss, epoch_weights (if asked) and seconds of training wall time
        (time spent recording weights excluded).

    Raises:
        DataError: if X, Y or order do not fit the model and train spec.
        ModelFileError: if the model is outside the specs.
        SpecError: a float64 model on Keras's JAX backend without JAX's 64-bit mode, or
            scan_steps on another backend.
    """
    spec = spec_of(model)
    check_backend_dtype(spec.dtype)
    X, Y = training_arrays(spec, X, Y)
    n_samples = X.shape[0]
    check_orders(order, n_samples, train_spec.epochs)
    keras.utils.set_random_seed(train_spec.seed)
    with floatx_scope(spec.dtype):
        optimizer = make_optimizer(train_spec.optimizer)
        loss = make_loss(train_spec.loss)
        steps = math.ceil(n_samples / train_spec.batch_size)
        recorder = StepLossRecorder(loss, capacity=steps, dtype=spec.dtype)
    _compile(model, spec, optimizer, loss, [recorder], steps_per_execution, jit_compile)
    if scan_steps:  # model.fit keeps a train_function it finds (until the next compile)
        if keras.backend.backend() != "jax":
            raise SpecError(
                "scan_steps needs Keras's JAX backend (KERAS_BACKEND=jax before Keras is "
                f"imported); this process runs {keras.backend.backend()}"
            )
        from keras_impl.jax_scan import scanned_train_function

        model.train_function = scanned_train_function(model, steps_per_execution)
    history = FitHistory()
    callback = EpochEnd(recorder, history, record_weights, epoch_clock)
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
    history.epoch_loss = epoch_losses(history.step_loss, n_samples, train_spec.batch_size)
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
        SpecError: a float64 model on Keras's JAX backend without JAX's 64-bit mode, or
            scan_steps on another backend.
    """
    spec = spec_of(model)
    check_backend_dtype(spec.dtype)
    X = model_inputs(spec, X)
    with crop_mask_warning_silenced():
        outputs = model(X, training=False)
    return np.asarray(ops.convert_to_numpy(outputs), dtype=spec.dtype)
