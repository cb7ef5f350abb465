"""Training through keras_impl.fit: determinism, the order fed, exact step losses, optimizers."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_impl
from shared import reference
from shared.errors import DataError
from shared.recipe import OptimizerSpec, TrainSpec
from shared.spec import tutorial_spec
from shared.training import epoch_orders
from shared.weights import random_weights, zero_recurrent_bias
from tests.specs import KERAS_SIZES, make_spec


def _start(dtype: str = "float32", kind: str = "simple", seed: int = 0):
    """Canonical start weights for a 12-step, 1-feature, 3-unit model with a tanh head."""
    spec = tutorial_spec(dtype)
    if kind != "simple":
        spec = make_spec(
            {"kind": kind}, dtype=dtype, features=1, units=3, head=spec.head, sizes=KERAS_SIZES
        )
    return zero_recurrent_bias(random_weights(spec, seed=seed))


def _reference_loss(weights, X, Y, loss: str = "mse") -> float:
    errors = reference.predict(weights, X) - Y.astype(weights.spec.dtype)
    return float(np.mean(errors**2) if loss == "mse" else np.mean(np.abs(errors)))


@pytest.mark.slow
def test_loss_decreases_on_sunspots(sunspot_windows):
    X, Y = sunspot_windows
    model = keras_impl.from_canonical(_start())
    spec = TrainSpec(epochs=3, batch_size=1, optimizer=OptimizerSpec(learning_rate=0.01))
    history = keras_impl.fit(model, X, Y, spec)
    assert len(history.epoch_loss) == 3 and len(history.step_loss) == 3 * 16
    assert history.epoch_loss[-1] < history.epoch_loss[0]
    assert history.seconds > 0 and not history.diverged
    assert type(model) is keras.Sequential  # the user's model class is untouched


@pytest.mark.slow
def test_same_seed_twice_is_bit_identical(sunspot_windows):
    X, Y = sunspot_windows
    spec = TrainSpec(epochs=2, batch_size=4, shuffle=True, seed=3)  # Keras's own shuffling
    runs = []
    for _ in range(2):
        model = keras_impl.from_canonical(_start(kind="lstm"))
        history = keras_impl.fit(model, X, Y, spec)
        runs.append((keras_impl.to_canonical(model), history.step_loss))
    assert runs[0][0].bitwise_equal(runs[1][0])
    assert runs[0][1] == runs[1][1]


@pytest.mark.slow
def test_the_given_order_is_the_order_fed(sunspot_windows):
    """Batch size 1 and a step too small to move any float64 weight (1e-30 against weights of
    ~0.1, whose ulp is ~1e-17): step k of epoch e must then report exactly the loss of sample
    order[e][k] under the start weights, and the samples' losses are all distinct."""
    X, Y = sunspot_windows
    # every weight nonzero (GRU reset_after keeps a real c): a zero weight would move by 1e-30
    start = random_weights(
        make_spec(
            {"kind": "gru"},
            dtype="float64",
            features=1,
            units=3,
            head=tutorial_spec().head,
            sizes=KERAS_SIZES,
        ),
        seed=4,
    )
    model = keras_impl.from_canonical(start)
    order = epoch_orders(len(X), 2, seed=9)
    spec = TrainSpec(
        epochs=2, batch_size=1, optimizer=OptimizerSpec(name="sgd", learning_rate=1e-30)
    )
    history = keras_impl.fit(model, X, Y, spec, order)
    assert keras_impl.to_canonical(model).bitwise_equal(start)  # premise: nothing moved
    per_sample = np.array([_reference_loss(start, X[i : i + 1], Y[i : i + 1]) for i in range(16)])
    assert len(np.unique(per_sample)) == 16
    expected = np.concatenate([per_sample[indices] for indices in order])
    # 1e-15: each is one float64 squared error, computed by two libraries (~1e-16 relative)
    np.testing.assert_allclose(history.step_loss, expected, rtol=1e-12, atol=1e-15)
    assert not np.allclose(history.step_loss, np.concatenate([per_sample] * 2))  # not 0..15


@pytest.mark.slow
@pytest.mark.parametrize(
    "dtype, loss", [("float32", "mse"), ("float64", "mse"), ("float64", "mae")]
)
def test_step_loss_is_the_loss_the_gradient_was_taken_of(sunspot_windows, dtype, loss):
    """Full batches of 16 (one step per epoch): each step loss is bitwise Keras's own loss,
    and equals the reference loss under the weights before that step."""
    X, Y = sunspot_windows
    model = keras_impl.from_canonical(_start(dtype, kind="lstm"))
    before = [keras_impl.to_canonical(model)]
    spec = TrainSpec(
        epochs=3,
        batch_size=16,
        loss=loss,
        shuffle=False,
        optimizer=OptimizerSpec(learning_rate=0.05),
    )
    history = keras_impl.fit(model, X, Y, spec, record_weights=True)
    # Keras's epoch loss of one batch of 16 is (loss * 16) / 16: exact, so compare bitwise
    assert history.step_loss == model.history.history["loss"] == history.epoch_loss
    weights = before + history.epoch_weights[:-1]
    direct = [_reference_loss(w, X, Y, loss) for w in weights]
    # float32: the model's outputs differ from the reference by ~1e-7 (see test_forward);
    # float64: by ~1e-16, so the mean of 16 squared errors by ~1e-16. (Were X or Y rounded
    # through float32 on the way in, as Keras's array adapter does under floatx float32, the
    # float64 gap would be ~2e-9: this also proves float64 training sees float64 data.)
    tolerance = {"float32": 1e-6, "float64": 1e-13}[dtype]
    np.testing.assert_allclose(history.step_loss, direct, rtol=0, atol=tolerance)
    assert len(set(history.step_loss)) == 3  # the weights really moved between steps
    assert all(w.spec.dtype == dtype for w in history.epoch_weights)
    assert all(v.dtype == dtype for v in model.weights)  # float64 training stays float64


@pytest.mark.slow
def test_epoch_loss_is_the_batch_size_weighted_mean(sunspot_windows):
    X, Y = sunspot_windows
    model = keras_impl.from_canonical(_start())
    history = keras_impl.fit(model, X, Y, TrainSpec(epochs=2, batch_size=5))  # batches 5,5,5,1
    sizes = np.array([5, 5, 5, 1])
    steps = np.array(history.step_loss).reshape(2, 4)
    np.testing.assert_allclose(history.epoch_loss, steps @ sizes / 16, rtol=1e-15)
    # Keras's own figure: the same mean, but summed in a float32 running total (~1e-7)
    np.testing.assert_allclose(history.epoch_loss, model.history.history["loss"], rtol=1e-6)


@pytest.mark.slow
def test_steps_per_execution_changes_nothing(sunspot_windows):
    X, Y = sunspot_windows
    order = epoch_orders(len(X), 2, seed=1)
    spec = TrainSpec(epochs=2, batch_size=4)
    results = []
    for steps_per_execution in (1, 3):
        model = keras_impl.from_canonical(_start(kind="gru"))
        history = keras_impl.fit(model, X, Y, spec, order, steps_per_execution=steps_per_execution)
        results.append((keras_impl.to_canonical(model), history.step_loss))
    assert results[0][0].bitwise_equal(results[1][0]) and results[0][1] == results[1][1]


@pytest.mark.slow
def test_xla_rounds_differently_but_lands_close(sunspot_windows):
    X, Y = sunspot_windows
    order = epoch_orders(len(X), 1, seed=2)
    finals = []
    for jit_compile in (False, True):
        model = keras_impl.from_canonical(_start(kind="lstm"))
        keras_impl.fit(
            model, X, Y, TrainSpec(epochs=1, batch_size=4), order, jit_compile=jit_compile
        )
        finals.append(keras_impl.to_canonical(model))
    # XLA fuses and approximates (tanh, sigmoid) its own way: float32 rounding-level gaps
    # (~3e-8 observed after 4 steps), not bit-identical; 1e-5 would still catch a wrong update
    assert finals[0].max_abs_diff(finals[1]) < 1e-5


@pytest.mark.slow
def test_torch_epsilon_style_changes_the_trajectory(sunspot_windows, capsys):
    X, Y = sunspot_windows
    finals = {}
    for style in ("native", "torch"):
        model = keras_impl.from_canonical(_start())
        optimizer = OptimizerSpec(epsilon=1e-4, epsilon_style=style)
        history = keras_impl.fit(
            model,
            X,
            Y,
            TrainSpec(epochs=2, batch_size=4, optimizer=optimizer),
            progress=style == "torch",
        )
        assert not history.diverged
        finals[style] = keras_impl.to_canonical(model)
    assert finals["native"].max_abs_diff(finals["torch"]) > 1e-6
    assert "Epoch 2/2" in capsys.readouterr().out  # progress=True shows Keras's progress


@pytest.mark.slow
def test_one_torch_style_step_matches_numpy_in_float64(sunspot_windows):
    X, Y = sunspot_windows
    model = keras_impl.from_canonical(_start("float64", kind="lstm"))
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError(dtype="float64")(Y, model(X, training=True))
    gradients = [g.numpy() for g in tape.gradient(loss, variables)]
    before = [v.numpy() for v in variables]
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-3
    optimizer = OptimizerSpec(learning_rate=lr, epsilon=eps, epsilon_style="torch")
    keras_impl.fit(model, X, Y, TrainSpec(epochs=1, batch_size=16, optimizer=optimizer))
    for w, g, after in zip(before, gradients, model.trainable_variables, strict=True):
        m, v = (1 - b1) * g, (1 - b2) * g * g  # first step from zero moments
        expected = w - lr / (1 - b1) * m / (np.sqrt(v) / np.sqrt(1 - b2) + eps)
        # 1e-12: one update of size <= 0.01 in float64 (~1e-18 rounding) plus the gradient
        # computed twice by TensorFlow (same graph, ~1e-16); torch/keras eps placement: ~1e-4
        np.testing.assert_allclose(after.numpy(), expected, rtol=0, atol=1e-12)


def test_bad_training_input_is_a_data_error(sunspot_windows):
    X, Y = sunspot_windows
    model = keras_impl.create_rnn(3, 1, (12, 1), ["tanh", "tanh"])
    spec = TrainSpec(epochs=2)
    with pytest.raises(DataError, match=r"X must be shaped \(samples, 12, 1\)"):
        keras_impl.fit(model, np.zeros((16, 12, 2)), Y, spec)
    with pytest.raises(DataError, match="16 samples"):
        keras_impl.fit(model, X, Y[:10], spec)
    with pytest.raises(DataError, match=r"Y must be shaped \(samples, 1\)"):
        keras_impl.fit(model, X, np.zeros((16, 2)), spec)
    with pytest.raises(DataError, match="not a permutation"):
        keras_impl.fit(model, X, Y, spec, [np.arange(16), np.zeros(16, dtype=int)])
    with pytest.raises(DataError, match="1 epoch"):
        keras_impl.fit(model, X, Y, spec, [np.arange(16)])
