"""What both frameworks' `fit` share: the sample orders they are fed and the history they return.

Training parity needs both frameworks to see the same batches in the same order, so the
per-epoch permutations are drawn here, once, from one seeded numpy generator, and handed to both
`keras_impl.train.fit(..., order=...)` and `torch_impl.train.fit(..., order=...)`. Both return a
`FitHistory`, so `compare/` reads their results the same way, with its epoch losses formed from
the step losses by the one definition here (`epoch_losses`), as `shared.numpy_train` forms its.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from shared.errors import DataError
from shared.weights import CanonicalWeights


def epoch_orders(n_samples: int, epochs: int, seed: int) -> list[np.ndarray]:
    """One permutation of range(n_samples) per epoch, all drawn from one seeded generator.

    Returns:
        `epochs` int64 arrays of shape (n_samples,).
    """
    if n_samples < 1 or epochs < 1:
        raise DataError(f"need n_samples >= 1 and epochs >= 1, got {n_samples} and {epochs}")
    rng = np.random.default_rng(seed)
    return [rng.permutation(n_samples).astype(np.int64) for _ in range(epochs)]


def check_orders(order: list[np.ndarray] | None, n_samples: int, epochs: int) -> None:
    """Raise DataError unless `order` is None or one permutation of range(n_samples) per epoch."""
    if order is None:
        return
    if len(order) != epochs:
        raise DataError(
            f"order holds {len(order)} epoch(s) of indices, the train spec asks for {epochs}"
        )
    expected = np.arange(n_samples)
    for epoch, indices in enumerate(order):
        indices = np.asarray(indices)
        if indices.shape != (n_samples,) or not np.array_equal(np.sort(indices), expected):
            raise DataError(f"order for epoch {epoch} is not a permutation of range({n_samples})")


def check_xy(X: np.ndarray, Y: np.ndarray, time_steps: int, features: int) -> None:
    """Raise DataError naming the shape problem unless X is (n, time_steps, features), Y (n, k)."""
    X, Y = np.asarray(X), np.asarray(Y)
    if X.ndim != 3 or X.shape[1:] != (time_steps, features):
        raise DataError(f"X must be shaped (samples, {time_steps}, {features}), got {X.shape}")
    if Y.ndim not in (2, 3) or Y.shape[0] != X.shape[0]:
        raise DataError(
            f"Y must be shaped (samples, units) with {X.shape[0]} samples like X, got {Y.shape}"
        )
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Y))):
        raise DataError("X or Y holds NaN or infinite values")


def epoch_losses(step_loss: list[float], n_samples: int, batch_size: int) -> list[float]:
    """Each epoch's loss from its steps' pre-update batch losses: the parity contract.

    Keras's definition, which every `fit` reports: the batch-size-weighted mean of the epoch's
    step losses (batches of `batch_size`, the last one smaller when it does not divide
    `n_samples`), summed exactly in float64 (math.fsum), so it depends on the step losses only.

    Args:
        step_loss: every step's loss, epoch after epoch, ceil(n_samples / batch_size) per epoch.
        n_samples: samples per epoch.
        batch_size: the train spec's batch size.

    Raises:
        ValueError: if step_loss does not hold whole epochs.
    """
    sizes = [min(batch_size, n_samples - start) for start in range(0, n_samples, batch_size)]
    steps = len(sizes)
    return [
        math.fsum(size * loss for size, loss in zip(sizes, step_loss[k : k + steps], strict=True))
        / n_samples
        for k in range(0, len(step_loss), steps)
    ]


@dataclass
class FitHistory:
    """What one training run produced, in the same form for both frameworks.

    epoch_loss: per epoch, the batch-size-weighted mean of that epoch's pre-update batch losses
        (`epoch_losses`: Keras's definition of the epoch loss, which every fit reports).
    step_loss: every optimizer step's pre-update batch loss, in order, across all epochs.
    epoch_weights: canonical weights after each epoch, when fit was asked to record them.
    seconds: wall time of the training loop itself.
    """

    epoch_loss: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    epoch_weights: list[CanonicalWeights] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def diverged(self) -> bool:
        """True when any loss is NaN or infinite."""
        return not bool(np.all(np.isfinite(self.epoch_loss + self.step_loss)))
