"""ParityAdam's torch style against the real `torch.optim.Adam`, not a transcription of it.

test_optimizer.py checks ParityAdam against numpy written from both libraries' formulas; here
the oracle is torch itself. The same float64 weights and gradient sequence go through
`ParityAdam(epsilon_style="torch")` (as `make_optimizer` builds it) and `torch.optim.Adam`;
after every one of 60 steps the weights must agree to 1e-14 relative. Torch is imported first,
the order the project keeps whenever both frameworks share a process (Keras is imported inside
the helpers that use it).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shared.recipe import OptimizerSpec
from tests.optimizer_oracles import (
    LR,
    keras_trajectory,
    relative_gap,
    torch_trajectory,
    weights_and_gradients,
)

# Max |ours - torch| / max |torch| over the weights. torch forms its scalars in Python floats and
# writes m * step_size / denom as addcdiv; ParityAdam forms the same scalars in float64 and
# divides in another order, so each step may differ by ~1 ulp (1.1e-16 relative); 60 steps stay
# under ~1e-15 (measured: 1.4e-16). A misplaced epsilon or float32-rounded betas move the
# weights by >= 1e-10.
RELATIVE_BOUND = 1e-14


def parity_adam_trajectory(
    w0: np.ndarray, grads: list[np.ndarray], spec: OptimizerSpec
) -> list[np.ndarray]:
    """keras_impl's optimizer for `spec` on one float64 variable, weights after every step."""
    from keras_impl.optim import make_optimizer

    return keras_trajectory(lambda: make_optimizer(spec), w0, grads)


def torch_adam_trajectory(
    w0: np.ndarray, grads: list[np.ndarray], spec: OptimizerSpec
) -> list[np.ndarray]:
    """The real torch.optim.Adam on one float64 parameter, weights after every step."""
    return torch_trajectory(
        torch.optim.Adam,
        w0,
        grads,
        lr=spec.learning_rate,
        betas=(spec.beta_1, spec.beta_2),
        eps=spec.epsilon,
    )


@pytest.mark.slow
@pytest.mark.parametrize("eps", [1e-8, 1e-3])
def test_torch_style_parity_adam_follows_real_torch_adam_for_60_steps(eps):
    # betas 0.9 / 0.999 exactly: torch keeps them exact, and so must ParityAdam in float64
    spec = OptimizerSpec(learning_rate=LR, epsilon=eps, epsilon_style="torch")
    w0, grads = weights_and_gradients(seed=5)
    oracle = torch_adam_trajectory(w0, grads, spec)
    ours = parity_adam_trajectory(w0, grads, spec)
    gaps = [relative_gap(o, t) for o, t in zip(ours, oracle, strict=True)]
    assert max(gaps) <= RELATIVE_BOUND, f"worst step {int(np.argmax(gaps)) + 1}: {max(gaps):.1e}"
    assert relative_gap(oracle[-1], w0) > 1e-2  # the weights really moved


@pytest.mark.slow
def test_the_oracle_tells_torch_style_from_keras_style():
    # The bound has teeth: the keras-style update (epsilon on sqrt(v)) misses torch by far.
    w0, grads = weights_and_gradients(seed=5)
    torch_spec = OptimizerSpec(learning_rate=LR, epsilon=1e-8, epsilon_style="torch")
    keras_spec = OptimizerSpec(learning_rate=LR, epsilon=1e-8, epsilon_style="keras")
    oracle = torch_adam_trajectory(w0, grads, torch_spec)
    other = parity_adam_trajectory(w0, grads, keras_spec)
    assert relative_gap(other[-1], oracle[-1]) > 1e3 * RELATIVE_BOUND
