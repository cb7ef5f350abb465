"""Train and run a torch model from a `TrainSpec`: through Lightning, and as a plain loop.

`fit` is the torch half of the training-parity contract: it follows the same `TrainSpec` as
`keras_impl.train.fit`, can be handed the exact per-epoch sample orders (from
`shared.training.epoch_orders`) so both frameworks see the same batches, and returns the same
`FitHistory`. `fit_plain` does the identical computation with no Lightning at all; it is the
floor the speed study measures Lightning's overhead against, and a test holds the two
bit-identical.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from time import perf_counter

import lightning
import numpy as np
import torch
from lightning.fabric.utilities.warnings import PossibleUserWarning
from torch.utils.data import DataLoader, Sampler, TensorDataset

from shared.errors import DataError
from shared.recipe import TrainSpec
from shared.spec import ModelSpec
from shared.training import FitHistory, check_orders, check_xy
from shared.weights import CanonicalWeights
from torch_impl.inputs import model_inputs
from torch_impl.model import RNNModel
from torch_impl.optim import make_loss, make_optimizer
from torch_impl.weights import to_canonical

# Loggers whose INFO lines ("GPU available: False", "`Trainer.fit` stopped") fit silences.
_LIGHTNING_LOGGERS = (
    "lightning.pytorch",
    "lightning.fabric",
    "pytorch_lightning",
    "lightning_fabric",
)


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
        X: windows (samples, time, features), or token ids (samples, time) for an Embedding.
        Y: targets (samples, units) or (samples, time, units).
        spec: the model's spec; X (ids: int64) and Y are cast to its dtype once, as the numpy
            reference casts its inputs.
        train_spec: supplies batch_size, shuffle and seed.
        order: per epoch, the sample indices to feed (an `EpochOrderSampler`), or None
            for `shuffled_orders` drawn from train_spec's seed.
    """

    def __init__(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        spec: ModelSpec,
        train_spec: TrainSpec,
        order: list[np.ndarray] | None = None,
    ) -> None:
        super().__init__()
        self.inputs = torch.from_numpy(model_inputs(spec, X))
        self.targets = torch.from_numpy(np.ascontiguousarray(np.asarray(Y).astype(spec.dtype)))
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


def _check_inputs(
    model: RNNModel,
    X: np.ndarray,
    Y: np.ndarray,
    train_spec: TrainSpec,
    order: list[np.ndarray] | None,
) -> None:
    """Validate model, spec, X, Y and order before any training starts.

    Raises:
        DataError: naming the shape, order or value problem.
    """
    if not isinstance(model, RNNModel):
        raise TypeError(f"expected an RNNModel, got {type(model).__name__}")
    if not isinstance(train_spec, TrainSpec):
        raise TypeError(f"expected a TrainSpec, got {type(train_spec).__name__}")
    spec = model.spec
    if spec.embedded and np.ndim(X) == 2:  # token ids (samples, time): one feature per step
        X = np.asarray(X)[:, :, None]
    check_xy(X, Y, spec.time_steps, spec.features)
    Y = np.asarray(Y)
    if Y.shape[1:] != spec.output_shape:  # a (n,) or (n, 1) mix-up would broadcast in the loss
        raise DataError(
            f"Y must be shaped (samples, {', '.join(map(str, spec.output_shape))}) "
            f"to match the model's outputs, got {Y.shape}"
        )
    check_orders(order, np.asarray(X).shape[0], train_spec.epochs)


def _single_bias_parameters(model: RNNModel) -> list[torch.nn.Parameter]:
    """The recurrent-side biases (bias_hh*) of every layer whose Keras twin has one bias per gate.

    Simple, LSTM and GRU with reset_after=False add c right beside b (x W + b + h U + c, and
    for the GRU candidate x W_n + b_n + (r * h) U_n + c_n), so Keras keeps only b; a trained c
    would give the effective bias a second gradient step. GRU with reset_after=True keeps both:
    its c_n sits inside the reset gate, r * (h U_n + c_n), and Keras has it too.
    """
    frozen = []
    for layer_spec, layer in zip(model.spec.layers, model.net.recurrent, strict=True):
        if not (layer_spec.kind == "gru" and layer_spec.reset_after):
            frozen += [
                param for name, param in layer.rnn.named_parameters() if name.startswith("bias_hh")
            ]
    return frozen


@contextmanager
def _training_run(model: RNNModel, train_spec: TrainSpec) -> Iterator[None]:
    """Give the model its recipe for one run; freeze single-bias parameters; undo afterwards."""
    model.train_spec = train_spec
    model.loss_fn = make_loss(train_spec.loss)
    model.step_losses = []
    frozen = _single_bias_parameters(model) if train_spec.single_bias else []
    with torch.no_grad():
        for param in frozen:
            param.zero_()  # Keras has no such bias: it is zero there, and stays zero here
            param.requires_grad_(False)
    try:
        yield
    finally:
        for param in frozen:
            param.requires_grad_(True)
        model.train_spec = None
        model.loss_fn = None


@contextmanager
def _quiet_lightning() -> Iterator[None]:
    """Silence Lightning's INFO banners and its hints for tiny CPU runs, for one block only."""
    loggers = [logging.getLogger(name) for name in _LIGHTNING_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            # e.g. "The 'train_dataloader' does not have many workers": true, and irrelevant
            # for a few hundred 12-step windows held in memory.
            warnings.filterwarnings("ignore", category=PossibleUserWarning)
            # Lightning 2.6 still builds torch's deprecated LeafSpec; nothing for us to change
            warnings.filterwarnings(
                "ignore", message=r".*LeafSpec.*deprecated", category=FutureWarning
            )
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _epoch_losses(step_losses: list[tuple[float, int]], epochs: int) -> list[float]:
    """Each epoch's batch-size-weighted mean of its step losses (Keras's epoch loss)."""
    steps_per_epoch = len(step_losses) // epochs
    losses = []
    for epoch in range(epochs):
        steps = step_losses[epoch * steps_per_epoch : (epoch + 1) * steps_per_epoch]
        total = sum(size for _, size in steps)
        losses.append(math.fsum(loss * size for loss, size in steps) / total)
    return losses


def _history(
    model: RNNModel, epochs: int, epoch_weights: list[CanonicalWeights], seconds: float
) -> FitHistory:
    return FitHistory(
        epoch_loss=_epoch_losses(model.step_losses, epochs),
        step_loss=[loss for loss, _ in model.step_losses],
        epoch_weights=epoch_weights,
        seconds=seconds,
    )


def _accelerator(device: str) -> tuple[str, int | list[int]]:
    """Lightning's (accelerator, devices) for a torch device name: "cpu", "cuda" or "cuda:N".

    Raises:
        ValueError: for any other name.
    """
    kind, _, index = device.partition(":")
    if kind == "cpu" and not index:
        return "cpu", 1
    if kind == "cuda" and (not index or index.isdigit()):
        return "cuda", [int(index)] if index else 1
    raise ValueError(f"device must be 'cpu', 'cuda' or 'cuda:N', got {device!r}")


class _EpochClock(lightning.Callback):
    """Appends `perf_counter()` to a list at each training epoch's end (for timing epochs)."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock

    def on_train_epoch_end(
        self, trainer: lightning.Trainer, pl_module: lightning.LightningModule
    ) -> None:
        self.clock.append(perf_counter())


class _RecordWeights(lightning.Callback):
    """Keeps the model's canonical weights after every training epoch."""

    def __init__(self, model: RNNModel) -> None:
        self.model = model  # the trained model, also when Lightning runs a wrapper around it
        self.weights: list[CanonicalWeights] = []

    def on_train_epoch_end(
        self, trainer: lightning.Trainer, pl_module: lightning.LightningModule
    ) -> None:
        self.weights.append(to_canonical(self.model))


class _SeveralSteps(lightning.LightningModule):
    """Runs several optimizer steps of the wrapped model per Lightning `training_step`.

    Keras's `steps_per_execution` for Lightning: the loader hands over `steps` batches at once
    (one batch of steps x batch_size consecutive samples of the epoch's order) and this module
    splits it back into the same batches and steps through them with manual optimization, in
    `fit_plain`'s order (zero grads, loss, backward, step). Lightning's per-call overhead is
    paid once per group of steps; the arithmetic is the default path's, step for step.
    """

    def __init__(self, model: RNNModel, batch_size: int) -> None:
        super().__init__()
        self.inner = model
        self.batch_size = batch_size
        self.automatic_optimization = False

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return self.inner.configure_optimizers()

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        optimizer = self.optimizers(use_pl_optimizer=False)
        inputs, targets = batch  # (steps * batch, time, features), (steps * batch, units)
        size = self.batch_size
        for start in range(0, inputs.shape[0], size):
            optimizer.zero_grad(set_to_none=True)
            part = (inputs[start : start + size], targets[start : start + size])
            loss = self.inner.training_step(part, batch_idx)
            # fit's Trainer always runs default precision ("32-true") on one device, where
            # manual_backward is loss.backward() plus per-call hook dispatch (measured ~0.5 ms
            # per step at this size): the same arithmetic without the dispatch
            loss.backward()
            optimizer.step()


def fit(
    model: RNNModel,
    X: np.ndarray,
    Y: np.ndarray,
    train_spec: TrainSpec,
    order: list[np.ndarray] | None = None,
    *,
    record_weights: bool = False,
    progress: bool = False,
    device: str = "cpu",
    barebones: bool = False,
    steps_per_execution: int = 1,
    epoch_clock: list[float] | None = None,
) -> FitHistory:
    """Train `model` in place with a Lightning Trainer, as `train_spec` says.

    Args:
        model: from build_model / from_canonical; its weights are the starting point.
        X: windows (samples, time_steps, features).
        Y: targets (samples, head units), or (samples, time_steps, head units) for sequences.
        train_spec: epochs, batch size, optimizer, loss, seed, shuffle, single_bias.
        order: per epoch, the sample indices to feed, in order (see shared.training); None
            shuffles (train_spec.shuffle) with a generator seeded by train_spec.seed.
        record_weights: keep canonical weights after every epoch in the history.
        progress: show Lightning's progress bar.
        device: "cpu", "cuda" or "cuda:N"; Lightning moves the model there for training and
            back to the CPU afterwards.
        barebones: Lightning's `Trainer(barebones=True)`, every feature that may cost speed
            off; speed only, same results (tests/compare/test_bench.py holds them
            bit-identical). Needs progress=False.
        steps_per_execution: optimizer steps per Lightning `training_step`, as Keras's
            option of that name (`_SeveralSteps`, manual optimization); speed only, the
            same batches and steps (tests/compare/test_bench.py holds them bit-identical).
        epoch_clock: when given, `perf_counter()` is appended to it at each epoch's end (a
            Lightning callback), so a caller can time whole epochs; speed only.

    Returns:
        FitHistory with every step's pre-update batch loss, the epoch losses and wall time.

    Raises:
        DataError: if X, Y or order do not fit the model and spec.
        ValueError: for an unknown device name.
    """
    _check_inputs(model, X, Y, train_spec, order)
    accelerator, devices = _accelerator(device)
    if not isinstance(steps_per_execution, int) or steps_per_execution < 1:
        raise ValueError(f"steps_per_execution must be an int >= 1, got {steps_per_execution!r}")
    # the loader's batches hold steps_per_execution of the recipe's batches, in order
    loader_spec = dataclasses.replace(
        train_spec, batch_size=train_spec.batch_size * steps_per_execution
    )
    data = WindowDataModule(X, Y, model.spec, loader_spec, order)
    module = model if steps_per_execution == 1 else _SeveralSteps(model, train_spec.batch_size)
    recorder = _RecordWeights(model)
    callbacks: list[lightning.Callback] = [recorder] if record_weights else []
    if epoch_clock is not None:
        callbacks.append(_EpochClock(epoch_clock))
    torch.manual_seed(train_spec.seed)  # nothing random should remain; if it does, repeat it
    with tempfile.TemporaryDirectory() as root, _quiet_lightning():
        trainer = lightning.Trainer(
            accelerator=accelerator,
            devices=devices,
            max_epochs=train_spec.epochs,
            logger=False,
            enable_checkpointing=False,
            enable_model_summary=False,
            enable_progress_bar=progress,
            num_sanity_val_steps=0,
            default_root_dir=root,  # anything Lightning writes lands here and is deleted
            callbacks=callbacks,
            barebones=barebones,
        )
        with _training_run(model, train_spec):
            start = perf_counter()
            trainer.fit(module, datamodule=data)
            seconds = perf_counter() - start
    return _history(model, train_spec.epochs, recorder.weights, seconds)


def fit_plain(
    model: RNNModel,
    X: np.ndarray,
    Y: np.ndarray,
    train_spec: TrainSpec,
    order: list[np.ndarray] | None = None,
    *,
    record_weights: bool = False,
    device: str = "cpu",
    fused: bool = False,
    epoch_clock: list[float] | None = None,
) -> FitHistory:
    """Train exactly as `fit` does, in a plain PyTorch loop with no Lightning.

    Same loader, loss, optimizer and step order (zero grads, loss, backward, step), so the
    weights come out bit-identical to `fit`'s; only the framework overhead differs. Arguments
    and result are `fit`'s; like `fit`, a model trained on "cuda" is moved back to the CPU.
    `fused=True` uses torch.optim.Adam's fused kernel (native or torch epsilon style only):
    speed only, the same update up to rounding (the speed study judges its results within
    the default's seed spread).
    """
    _check_inputs(model, X, Y, train_spec, order)
    _accelerator(device)  # same names as fit accepts
    target = torch.device(device)
    loader = WindowDataModule(X, Y, model.spec, train_spec, order).train_dataloader()
    epoch_weights: list[CanonicalWeights] = []
    torch.manual_seed(train_spec.seed)
    model.to(target)  # before the optimizer is made, so its state lives there too
    with _training_run(model, train_spec):
        start = perf_counter()
        optimizer = make_optimizer(model.parameters(), train_spec.optimizer, fused=fused)
        model.train()
        for epoch in range(train_spec.epochs):
            loader.sampler.set_epoch(epoch)  # as Lightning's fit loop does each epoch
            for batch_index, (inputs, targets) in enumerate(loader):
                optimizer.zero_grad(set_to_none=True)
                loss = model.training_step((inputs.to(target), targets.to(target)), batch_index)
                loss.backward()
                optimizer.step()
            if epoch_clock is not None:
                epoch_clock.append(perf_counter())
            if record_weights:
                epoch_weights.append(to_canonical(model))
        seconds = perf_counter() - start
    model.to("cpu")  # as Lightning's teardown does
    return _history(model, train_spec.epochs, epoch_weights, seconds)


def predict(model: RNNModel, X: np.ndarray, *, device: str = "cpu") -> np.ndarray:
    """Run the model on X in eval mode (Dropout off, BatchNorm's moving statistics), no gradients.

    Args:
        model: the model; moved to `device` if it is elsewhere, and left there (so repeated
            calls on "cuda" copy only X and the outputs).
        X: windows (samples, time, features), or token ids (samples, time) for a model with an
            Embedding front.
        device: "cpu", "cuda" or "cuda:N".

    Returns:
        Outputs in the model's dtype: (samples, head units) or (samples, time, head units),
        as a CPU numpy array.

    Raises:
        DataError: if X is not 3-D with the model's features, or holds NaN/inf (token ids:
            not whole numbers in [0, vocab)).
        ValueError: for an unknown device name.
    """
    _accelerator(device)
    target = torch.device(device)
    inputs = torch.from_numpy(model_inputs(model.spec, X)).to(target)
    if model.device != target:
        model.to(target)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(inputs).cpu().numpy()
    finally:
        model.train(was_training)
