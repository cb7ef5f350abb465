"""What both optimizer-oracle tests feed the optimizers, and how they measure the gap.

tests/keras_impl/test_optimizer_oracles.py holds keras_impl's torch-style ParityAdam to the real
`torch.optim.Adam`; tests/torch_impl/test_optim_oracles.py holds torch_impl's KerasAdam to the
real `keras.optimizers.Adam`. Both run the same gradient sequence through the same steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch  # before Keras, the order the project keeps when both share a process

STEPS = 60
LR = 1e-2  # large enough that 60 steps move every weight far past rounding


def gradient_sequence(shape: tuple[int, ...], seed: int) -> list[np.ndarray]:
    """STEPS float64 gradients with sizes spread from 1e-9 to 1, so epsilon (1e-7, 1e-8)
    matters for some of them."""
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) * 10 ** rng.uniform(-9, 0, size=shape) for _ in range(STEPS)]


def relative_gap(ours: np.ndarray, oracle: np.ndarray) -> float:
    """Max |ours - oracle| / max |oracle|: rounding-sized when the updates agree."""
    return float(np.max(np.abs(ours - oracle)) / np.max(np.abs(oracle)))


def weights_and_gradients(seed: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """A float64 (4, 5) start and the gradient sequence both optimizers are fed from it."""
    w0 = np.random.default_rng(seed).normal(size=(4, 5))
    return w0, gradient_sequence(w0.shape, seed=seed + 1)


def torch_trajectory(
    optimizer_class: type[torch.optim.Optimizer],
    w0: np.ndarray,
    grads: list[np.ndarray],
    **settings: object,
) -> list[np.ndarray]:
    """A torch optimizer on one float64 parameter, weights after every step."""
    param = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    optimizer = optimizer_class([param], **settings)
    trajectory = []
    for g in grads:
        param.grad = torch.from_numpy(g.copy())
        optimizer.step()
        trajectory.append(param.detach().numpy().copy())
    return trajectory


def keras_trajectory(
    make_optimizer: Callable[[], Any], w0: np.ndarray, grads: list[np.ndarray]
) -> list[np.ndarray]:
    """A Keras optimizer (built by `make_optimizer` under float64, as keras_impl.fit builds one
    for a float64 model, so its learning rate is held in float64) on one float64 variable,
    weights after every step."""
    import keras  # here, after torch: the import order the project keeps

    from keras_impl.model import floatx_scope

    with floatx_scope("float64"):
        optimizer = make_optimizer()
        variable = keras.Variable(w0.copy(), dtype="float64")
        trajectory = []
        for g in grads:
            optimizer.apply_gradients([(keras.ops.convert_to_tensor(g), variable)])
            trajectory.append(keras.ops.convert_to_numpy(variable).copy())
    return trajectory
