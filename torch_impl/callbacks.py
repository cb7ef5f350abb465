"""Lightning callbacks that record a training run: epoch end times and per-epoch weights.

`fit` runs Lightning's own loop; these hooks read what parity and the speed study need at
each epoch's end without touching the loop's arithmetic (keras_impl/callbacks.py is the twin).
"""

from __future__ import annotations

from time import perf_counter

import lightning

from shared.weights import CanonicalWeights
from torch_impl.model import RNNModel
from torch_impl.weights import to_canonical


class EpochClock(lightning.Callback):
    """Appends `perf_counter()` to a list at each training epoch's end (for timing epochs)."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock

    def on_train_epoch_end(
        self, trainer: lightning.Trainer, pl_module: lightning.LightningModule
    ) -> None:
        self.clock.append(perf_counter())


class RecordWeights(lightning.Callback):
    """Keeps the model's canonical weights after every training epoch."""

    def __init__(self, model: RNNModel) -> None:
        self.model = model  # the trained model, also when Lightning runs a wrapper around it
        self.weights: list[CanonicalWeights] = []

    def on_train_epoch_end(
        self, trainer: lightning.Trainer, pl_module: lightning.LightningModule
    ) -> None:
        self.weights.append(to_canonical(self.model))
