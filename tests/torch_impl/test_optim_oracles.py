"""KerasAdam against the real `keras.optimizers.Adam`, not a transcription of its formula.

test_optim.py checks KerasAdam against numpy written from Keras's source; that only proves it
matches our reading of Keras. Here the oracle is Keras itself: the same float64 parameters and
the same gradient sequence go through both optimizers, and the weights must agree to 1e-14
relative after every one of 60 steps. Torch is imported before Keras (TensorFlow), the order
the project keeps whenever both frameworks share a process.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.optimizer_oracles import (
    LR,
    keras_trajectory,
    relative_gap,
    torch_trajectory,
    weights_and_gradients,
)
from torch_impl.optim import KerasAdam

# Keras casts beta_1/beta_2 through float32 even for float64 variables, so the betas are ones
# float32 holds exactly (as compare.study.parity's recipes use); then both sides see the same
# values.
BETAS = (float(np.float32(0.9)), float(np.float32(0.999)))
# Max |ours - keras| / max |keras| over the weights. Same operation order in float64: only
# pow/sqrt may round differently (<= 1 ulp, 1.1e-16 relative each step), so 60 steps stay under
# ~1e-15 (measured: 0.0); a misplaced epsilon or a float32-rounded constant is >= 1e-9.
RELATIVE_BOUND = 1e-14


def keras_adam_trajectory(w0: np.ndarray, grads: list[np.ndarray], eps: float) -> list[np.ndarray]:
    """The real keras.optimizers.Adam on one float64 variable, weights after every step."""
    import keras  # here, after torch: the import order the project keeps

    def real_adam() -> keras.optimizers.Adam:
        return keras.optimizers.Adam(
            learning_rate=LR, beta_1=BETAS[0], beta_2=BETAS[1], epsilon=eps
        )

    return keras_trajectory(real_adam, w0, grads)


@pytest.mark.slow
@pytest.mark.parametrize("eps", [1e-7, 1e-3])
def test_keras_adam_follows_real_keras_adam_for_60_steps(eps):
    w0, grads = weights_and_gradients(seed=3)
    oracle = keras_adam_trajectory(w0, grads, eps)
    ours = torch_trajectory(KerasAdam, w0, grads, lr=LR, betas=BETAS, eps=eps)
    gaps = [relative_gap(o, k) for o, k in zip(ours, oracle, strict=True)]
    assert max(gaps) <= RELATIVE_BOUND, f"worst step {int(np.argmax(gaps)) + 1}: {max(gaps):.1e}"
    assert relative_gap(oracle[-1], w0) > 1e-2  # the weights really moved


@pytest.mark.slow
def test_the_oracle_tells_keras_adam_from_torch_adam():
    # The bound has teeth: torch's own Adam (epsilon on sqrt(v_hat)) misses it by far.
    w0, grads = weights_and_gradients(seed=3)
    oracle = keras_adam_trajectory(w0, grads, 1e-7)
    other = torch_trajectory(torch.optim.Adam, w0, grads, lr=LR, betas=BETAS, eps=1e-7)
    assert relative_gap(other[-1], oracle[-1]) > 1e3 * RELATIVE_BOUND
