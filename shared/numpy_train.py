"""SimpleRNN training in numpy: hand-written backpropagation through time and Keras's Adam.

A third training implementation, independent of both frameworks: no autodiff, no graph, no
data loader, every gradient written out below. It serves two purposes. The speed study's
`numpy_train` variant times it as a floor (what one training step costs with no framework
at all, so the rest of a framework's step is overhead), and a test holds its float64
trajectory to Keras's parity run within 1e-12 after 20 epochs, which checks both against a
derivation neither shares.

The model is the tutorial's: one SimpleRNN layer (no sequences out, one direction) and a Dense
head, in canonical weights (`shared.weights`), trained in place like the frameworks' `fit`:

    forward   a_t = x_t W + b + h_{t-1} U + c,   h_t = f(a_t),   o = g(h_T W_y + b_y)
    backward  dh_T = do g'(o) W_y^T;  for t = T..1:  da_t = dh_t f'(h_t),
              dU += h_{t-1}^T da_t,  dW += x_t^T da_t,  db += sum(da_t),  dh_{t-1} = da_t U^T

f' and g' are written in terms of the activation's output (tanh: 1 - y^2). The optimizer is
Keras 3's Adam, operation for operation (`keras.optimizers.Adam.update_step`, the same update
as `torch_impl.optim.KerasAdam`):

    alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)
    m += (g - m)(1 - beta_1);   v += (g^2 - v)(1 - beta_2);   w -= m alpha / (sqrt(v) + eps)

with every constant in the model's dtype. All parameters live in one flat vector (the arrays
of the `CanonicalWeights` are views into it while training), so one Adam update is a handful
of numpy calls whatever the number of arrays.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from shared.errors import SpecError
from shared.inputs import training_arrays
from shared.recipe import TrainSpec
from shared.training import FitHistory, check_orders, epoch_losses, epoch_orders
from shared.weights import CanonicalWeights

# Each activation's derivative from its output y = f(a): what backpropagation needs.
DERIVATIVES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": lambda y: 1 - y * y,
    "sigmoid": lambda y: y * (1 - y),
    "linear": lambda y: np.ones_like(y),
}
_FORWARD: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh,
    "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
    "linear": lambda a: a,
}
# "native" has no numpy Adam of its own to mean: it is the Keras update, the spec's default.
EPSILON_STYLES = ("native", "keras")


def check_trainable(weights: CanonicalWeights, train_spec: TrainSpec) -> None:
    """Raise SpecError unless this trainer implements the model and recipe.

    It trains one forward SimpleRNN layer returning its last state, with a tanh, sigmoid or
    linear activation and head, by Adam with Keras's epsilon placement on MSE or MAE.
    """
    spec = weights.spec
    layer = spec.layers[0]
    if len(spec.layers) != 1 or layer.kind != "simple":
        raise SpecError(
            f"numpy_train trains one SimpleRNN layer; the model has {len(spec.layers)} "
            f"layer(s), the first a {layer.kind}"
        )
    if layer.bidirectional or layer.return_sequences:
        raise SpecError("numpy_train: no bidirectional or sequence-returning layer")
    for where, name in (("recurrent", layer.activation), ("head", spec.head.activation)):
        if name not in DERIVATIVES:
            raise SpecError(
                f"numpy_train: {where} activation {name!r} not implemented; "
                f"known: {', '.join(DERIVATIVES)}"
            )
    optimizer = train_spec.optimizer
    if optimizer.name != "adam" or optimizer.epsilon_style not in EPSILON_STYLES:
        raise SpecError(
            f"numpy_train implements Adam with Keras's epsilon placement (epsilon_style "
            f"{' or '.join(EPSILON_STYLES)}); got {optimizer.name} / {optimizer.epsilon_style}"
        )


class _Params:
    """The trained arrays as views into one flat vector, and their gradients likewise."""

    def __init__(self, weights: CanonicalWeights, train_c: bool) -> None:
        direction = weights.layers[0]["forward"]
        dtype = np.dtype(weights.spec.dtype)
        sources = [direction.W["h"], direction.U["h"], direction.b["h"]]
        sources += [direction.c["h"]] if train_c else []
        sources += [weights.W_y, weights.b_y]
        sizes = [array.size for array in sources]
        self.flat = np.concatenate([array.ravel() for array in sources]).astype(dtype)
        self.grad = np.zeros_like(self.flat)
        ends = np.cumsum(sizes)
        starts = ends - sizes
        spans = list(zip(starts, ends, sources, strict=True))
        views = [self.flat[s:e].reshape(a.shape) for s, e, a in spans]
        grads = [self.grad[s:e].reshape(a.shape) for s, e, a in spans]
        self.W, self.U, self.b = views[:3]
        self.dW, self.dU, self.db = grads[:3]
        self.W_y, self.b_y = views[-2:]
        self.dW_y, self.db_y = grads[-2:]
        self.c = views[3] if train_c else direction.c["h"]
        self.dc = grads[3] if train_c else None
        # hand the views to the weights, so they are the trained arrays from now on
        direction.W["h"], direction.U["h"], direction.b["h"] = self.W, self.U, self.b
        if train_c:
            direction.c["h"] = self.c
        weights.W_y, weights.b_y = self.W_y, self.b_y


class _Adam:
    """Keras 3's Adam over one flat parameter vector, constants in its dtype."""

    def __init__(self, size: int, train_spec: TrainSpec, dtype: np.dtype) -> None:
        spec = train_spec.optimizer
        self.m = np.zeros(size, dtype)
        self.v = np.zeros(size, dtype)
        self.t = 0
        self.dtype = dtype
        self.lr = dtype.type(spec.learning_rate)
        self.beta_1, self.beta_2 = dtype.type(spec.beta_1), dtype.type(spec.beta_2)
        self.one_minus_beta_1 = dtype.type(1 - spec.beta_1)  # Python's 1 - beta, then cast
        self.one_minus_beta_2 = dtype.type(1 - spec.beta_2)
        self.epsilon = dtype.type(spec.epsilon)

    def step(self, flat: np.ndarray, grad: np.ndarray) -> None:
        self.t += 1
        step = self.dtype.type(self.t)
        one = self.dtype.type(1)
        beta_1_power = np.power(self.beta_1, step)
        beta_2_power = np.power(self.beta_2, step)
        alpha = self.lr * np.sqrt(one - beta_2_power) / (one - beta_1_power)
        self.m += (grad - self.m) * self.one_minus_beta_1
        self.v += (grad * grad - self.v) * self.one_minus_beta_2
        flat -= (self.m * alpha) / (np.sqrt(self.v) + self.epsilon)


def _step(
    p: _Params, X: np.ndarray, Y: np.ndarray, activations: tuple[str, str], loss: str
) -> float:
    """Forward, loss and gradients of one batch X (B, T, F), Y (B, K) into p.grad.

    Returns:
        The batch loss before the update, as a Python float.
    """
    act, head = activations
    f, g = _FORWARD[act], _FORWARD[head]
    batch, steps, _ = X.shape
    xw = X @ p.W + p.b  # (B, T, units): Keras adds the input bias before h U
    hs = np.zeros((steps + 1, batch, p.U.shape[0]), X.dtype)  # hs[t + 1] = h_t, hs[0] = 0
    for t in range(steps):
        hs[t + 1] = f(xw[:, t] + hs[t] @ p.U + p.c)
    out = g(hs[steps] @ p.W_y + p.b_y)  # (B, K)
    diff = out - Y
    count = out.dtype.type(diff.size)
    if loss == "mse":
        value = np.mean(diff * diff)
        d_out = (diff + diff) / count
    else:  # mae; the gradient of |x| at 0 is 0, as in Keras and torch
        value = np.mean(np.abs(diff))
        d_out = np.sign(diff) / count
    dz = d_out * DERIVATIVES[head](out)  # (B, K)
    np.matmul(hs[steps].T, dz, out=p.dW_y)
    p.db_y[...] = dz.sum(axis=0)
    dh = dz @ p.W_y.T  # (B, units)
    da = np.empty_like(xw)  # (B, T, units)
    p.dU[...] = 0
    derivative = DERIVATIVES[act]
    for t in range(steps - 1, -1, -1):
        da_t = dh * derivative(hs[t + 1])
        da[:, t] = da_t
        p.dU += hs[t].T @ da_t
        dh = da_t @ p.U.T
    features = X.shape[2]
    np.matmul(X.reshape(-1, features).T, da.reshape(-1, da.shape[2]), out=p.dW)
    p.db[...] = da.sum(axis=(0, 1))
    if p.dc is not None:
        p.dc[...] = p.db
    return float(value)


def fit(
    weights: CanonicalWeights,
    X: np.ndarray,
    Y: np.ndarray,
    train_spec: TrainSpec,
    order: list[np.ndarray] | None = None,
    *,
    record_weights: bool = False,
    epoch_clock: list[float] | None = None,
) -> FitHistory:
    """Train `weights` in place, as keras_impl.fit and torch_impl.fit train their models.

    Args:
        weights: canonical weights of a model `check_trainable` accepts; their arrays are
            replaced by the trained ones.
        X: windows (samples, time_steps, features); cast to the spec's dtype.
        Y: targets (samples, head units).
        train_spec: epochs, batch size, Adam settings, loss, seed, shuffle, single_bias
            (True: c stays at zero and untrained, as in Keras's one-bias layer).
        order: per epoch, the sample indices to feed, in order; None draws
            `shared.training.epoch_orders` from train_spec.seed (or 0..n-1 without shuffle).
        record_weights: keep a copy of the weights after every epoch.
        epoch_clock: when given, `time.perf_counter()` is appended at each epoch's end.

    Returns:
        FitHistory: every step's pre-update loss, epoch losses, weights, wall seconds.

    Raises:
        SpecError: for a model or recipe this trainer does not implement.
        DataError: if X, Y or order do not fit the model and spec.
    """
    spec = weights.validate().spec
    check_trainable(weights, train_spec)
    X, Y = training_arrays(spec, X, Y)
    n = X.shape[0]
    check_orders(order, n, train_spec.epochs)
    if order is None:
        order = (
            epoch_orders(n, train_spec.epochs, train_spec.seed)
            if train_spec.shuffle
            else [np.arange(n)] * train_spec.epochs
        )
    if train_spec.single_bias:
        weights.layers[0]["forward"].c["h"][...] = 0  # Keras's one bias: c is zero, and stays
    params = _Params(weights, train_c=not train_spec.single_bias)
    adam = _Adam(params.flat.size, train_spec, np.dtype(spec.dtype))
    activations = (spec.layers[0].activation, spec.head.activation)
    batch = train_spec.batch_size
    history = FitHistory()
    start = time.perf_counter()
    for indices in order:
        Xe, Ye = X[indices], Y[indices]  # this epoch's samples, in order
        for first in range(0, n, batch):
            loss = _step(
                params, Xe[first : first + batch], Ye[first : first + batch], activations,
                train_spec.loss,
            )  # fmt: skip
            adam.step(params.flat, params.grad)
            history.step_loss.append(loss)
        if epoch_clock is not None:
            epoch_clock.append(time.perf_counter())
        if record_weights:
            copies = {name: array.copy() for name, array in weights.to_arrays().items()}
            history.epoch_weights.append(CanonicalWeights.from_arrays(spec, copies))
    history.seconds = time.perf_counter() - start
    history.epoch_loss = epoch_losses(history.step_loss, n, batch)
    return history
