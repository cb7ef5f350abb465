"""Numpy training data as Lightning's data module, fed in given or seeded per-epoch orders.

Both `fit` and `fit_plain` hand X and Y, checked by `shared.inputs.training_arrays`, to the
model through `WindowDataModule`: the same batches, epoch for epoch, whether Lightning runs the loop
or a plain one. Given orders (`shared.training.epoch_orders`) let torch see exactly the batches
Keras sees; without them `shuffled_orders` draws every epoch up front from one seeded generator.
"""

from __future__ import annotations

from collections.abc import Iterator

import lightning
import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler, TensorDataset

from shared.recipe import TrainSpec


class EpochOrderSampler(Sampler[int]):
    """Yields exactly `order[epoch]`, the sample indices of the current epoch, in that order.

    `set_epoch` is the hook Lightning's fit loop calls on a sampler at the start of each epoch
    (as for DistributedSampler); `fit_plain` calls it the same way.
    """

    def __init__(self, order: list[np.ndarray]) -> None:
        self.order = [np.asarray(indices, dtype=np.int64) for indices in order]
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        return iter(self.order[self.epoch].tolist())

    def __len__(self) -> int:
        return len(self.order[self.epoch])


class WindowDataModule(lightning.LightningDataModule):
    """Numpy windows as Lightning's training data: batches in the given or a seeded order.

    Args:
        X: checked inputs as `shared.inputs.training_arrays` returns them: windows (samples,
            time, features) in the model's dtype, or int64 token ids (samples, time).
        Y: checked targets (samples, units) or (samples, time, units), in the model's dtype.
        train_spec: supplies batch_size, shuffle and seed.
        order: per epoch, the sample indices to feed (an `EpochOrderSampler`), or None
            for `shuffled_orders` drawn from train_spec's seed.
    """

    def __init__(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        train_spec: TrainSpec,
        order: list[np.ndarray] | None = None,
    ) -> None:
        super().__init__()
        self.inputs = torch.from_numpy(X)
        self.targets = torch.from_numpy(Y)
        self.train_spec = train_spec
        self.order = order

    def train_dataloader(self) -> DataLoader:
        spec = self.train_spec
        order = self.order
        if order is None:
            order = shuffled_orders(len(self.inputs), spec.epochs, spec.seed, spec.shuffle)
        return DataLoader(
            TensorDataset(self.inputs, self.targets),
            batch_size=spec.batch_size,
            sampler=EpochOrderSampler(order),
            # the loader's own base seed comes from here, not from torch's global generator
            generator=torch.Generator().manual_seed(spec.seed),
        )


def shuffled_orders(n_samples: int, epochs: int, seed: int, shuffle: bool) -> list[np.ndarray]:
    """Per-epoch sample orders when fit is given none: seeded permutations, or 0..n-1.

    All epochs are drawn up front from one seeded torch generator, so the order never depends
    on how often (or when) a training loop creates data-loader iterators: Lightning creates
    them on its own schedule, and a shared generator would then drift from `fit_plain`'s.
    """
    if not shuffle:
        return [np.arange(n_samples, dtype=np.int64) for _ in range(epochs)]
    generator = torch.Generator().manual_seed(seed)
    return [torch.randperm(n_samples, generator=generator).numpy() for _ in range(epochs)]
