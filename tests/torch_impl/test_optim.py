"""KerasAdam repeats Keras's Adam update; optimizers and losses follow the spec."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shared.errors import DataError
from shared.recipe import OptimizerSpec
from torch_impl.optim import KerasAdam, checked_loss, make_loss, make_optimizer


def _numpy_keras_adam(w, grads, lr, beta_1, beta_2, eps):
    """Keras 3's Adam.update_step, written out by hand in numpy (float64)."""
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        alpha = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m = m + (g - m) * (1 - beta_1)
        v = v + (g * g - v) * (1 - beta_2)
        w = w - (m * alpha) / (np.sqrt(v) + eps)
    return w


def _run(optimizer_class, w0, grads, **kwargs) -> np.ndarray:
    param = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    optimizer = optimizer_class([param], **kwargs)
    for g in grads:
        param.grad = torch.from_numpy(g.copy())
        optimizer.step()
    return param.detach().numpy()


@pytest.mark.parametrize("steps", [1, 3])
def test_keras_adam_equals_handwritten_keras_update(steps):
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(4, 3))
    # small gradients, where epsilon placement matters most
    grads = [rng.normal(scale=1e-4, size=w0.shape) for _ in range(steps)]
    settings = {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-7}
    ours = _run(KerasAdam, w0, grads, **settings)
    expected = _numpy_keras_adam(w0, grads, 0.01, 0.9, 0.999, 1e-7)
    # float64 with the same operation order; only pow/sqrt rounding (~1e-16) may differ
    assert np.max(np.abs(ours - expected)) <= 1e-12
    assert np.max(np.abs(ours - w0)) > 1e-4  # it did move


def test_keras_adam_differs_from_torch_adam_where_epsilon_matters():
    rng = np.random.default_rng(1)
    w0 = rng.normal(size=(5,))
    grads = [rng.normal(scale=1e-6, size=w0.shape) for _ in range(3)]
    keras_like = _run(KerasAdam, w0, grads, lr=0.01, betas=(0.9, 0.999), eps=1e-7)
    torch_adam = _run(torch.optim.Adam, w0, grads, lr=0.01, betas=(0.9, 0.999), eps=1e-7)
    # gradients near epsilon: sqrt(v) + eps and sqrt(v_hat) + eps give visibly different steps
    assert np.max(np.abs(keras_like - torch_adam)) > 1e-4


def test_keras_adam_keeps_float32_in_float32():
    param = torch.nn.Parameter(torch.ones(3, dtype=torch.float32))
    optimizer = KerasAdam([param], lr=0.1)
    param.grad = torch.full((3,), 0.5)
    optimizer.step()
    assert param.dtype == torch.float32
    assert optimizer.state[param]["m"].dtype == torch.float32


def test_keras_adam_skips_parameters_without_gradients():
    frozen = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    optimizer = KerasAdam([frozen], lr=0.1)
    optimizer.step()
    assert torch.equal(frozen, torch.ones(2, dtype=torch.float64))


def test_make_optimizer_follows_the_spec():
    params = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2))]
    params[1].requires_grad_(False)
    adam = make_optimizer(params, OptimizerSpec(learning_rate=0.02, beta_1=0.8, epsilon=1e-6))
    assert type(adam) is torch.optim.Adam
    group = adam.param_groups[0]
    assert group["lr"] == 0.02 and group["betas"] == (0.8, 0.999) and group["eps"] == 1e-6
    assert len(group["params"]) == 1  # frozen parameters are left out
    torch_style = make_optimizer(params, OptimizerSpec(epsilon_style="torch"))
    assert type(torch_style) is torch.optim.Adam
    keras = make_optimizer(params, OptimizerSpec(epsilon_style="keras"))
    assert type(keras) is KerasAdam and keras.param_groups[0]["eps"] == 1e-7
    sgd = make_optimizer(params, OptimizerSpec(name="sgd", learning_rate=0.1, momentum=0.9))
    assert type(sgd) is torch.optim.SGD and sgd.param_groups[0]["momentum"] == 0.9


def test_losses_and_the_shape_guard():
    outputs = torch.tensor([[1.0], [3.0]])
    assert checked_loss(make_loss("mse"), outputs, torch.tensor([[0.0], [1.0]])).item() == 2.5
    assert checked_loss(make_loss("mae"), outputs, torch.tensor([[0.0], [1.0]])).item() == 1.5
    # (batch, 1) against (batch,) would broadcast to (batch, batch) without the guard
    with pytest.raises(DataError, match=r"\(2,\).*\(2, 1\)"):
        checked_loss(make_loss("mse"), outputs, torch.tensor([0.0, 1.0]))
