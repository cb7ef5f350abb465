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
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from time import perf_counter

import lightning
import numpy as np
import torch
from lightning.fabric.utilities.warnings import PossibleUserWarning

from shared.inputs import model_inputs, training_arrays
from shared.recipe import TrainSpec
from shared.training import FitHistory, check_orders, epoch_losses
from shared.weights import CanonicalWeights
from torch_impl.callbacks import EpochClock, RecordWeights
from torch_impl.common import evaluating
from torch_impl.inputs import WindowDataModule
from torch_impl.model import RNNModel
from torch_impl.optim import make_loss, make_optimizer
from torch_impl.translators import RECURRENT
from torch_impl.weights import to_canonical

# Loggers whose INFO lines ("GPU available: False", "`Trainer.fit` stopped") fit silences.
_LIGHTNING_LOGGERS = (
    "lightning.pytorch",
    "lightning.fabric",
    "pytorch_lightning",
    "lightning_fabric",
)


def _check_inputs(
    model: RNNModel,
    X: np.ndarray,
    Y: np.ndarray,
    train_spec: TrainSpec,
    order: list[np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Validate model, spec, X, Y and order before any training starts.

    Returns:
        X and Y as the model trains on them (`shared.inputs.training_arrays`).

    Raises:
        DataError: naming the shape, order or value problem.
    """
    if not isinstance(model, RNNModel):
        raise TypeError(f"expected an RNNModel, got {type(model).__name__}")
    if not isinstance(train_spec, TrainSpec):
        raise TypeError(f"expected a TrainSpec, got {type(train_spec).__name__}")
    X, Y = training_arrays(model.spec, X, Y)
    check_orders(order, X.shape[0], train_spec.epochs)
    return X, Y


def _single_bias_parameters(model: RNNModel) -> list[torch.nn.Parameter]:
    """The recurrent-side biases (canonical c) of each layer whose Keras twin has one bias a gate.

    Simple, LSTM and GRU with reset_after=False add c right beside b (x W + b + h U + c, and
    for the GRU candidate x W_n + b_n + (r * h) U_n + c_n), so Keras keeps only b; a trained c
    would give the effective bias a second gradient step. GRU with reset_after=True keeps both:
    its c_n sits inside the reset gate, r * (h U_n + c_n), and Keras has it too.
    """
    frozen = []
    for layer_spec, layer in zip(model.spec.layers, model.net.recurrent, strict=True):
        if not (layer_spec.kind == "gru" and layer_spec.reset_after):
            frozen += [
                param
                for name, param in layer.rnn.named_parameters()
                if name.startswith(RECURRENT.prefix("c"))
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


def _history(
    model: RNNModel,
    n_samples: int,
    train_spec: TrainSpec,
    epoch_weights: list[CanonicalWeights],
    seconds: float,
) -> FitHistory:
    step_loss = [loss for loss, _ in model.step_losses]
    return FitHistory(
        epoch_loss=epoch_losses(step_loss, n_samples, train_spec.batch_size),
        step_loss=step_loss,
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
    X, Y = _check_inputs(model, X, Y, train_spec, order)
    accelerator, devices = _accelerator(device)
    if not isinstance(steps_per_execution, int) or steps_per_execution < 1:
        raise ValueError(f"steps_per_execution must be an int >= 1, got {steps_per_execution!r}")
    # the loader's batches hold steps_per_execution of the recipe's batches, in order
    loader_spec = dataclasses.replace(
        train_spec, batch_size=train_spec.batch_size * steps_per_execution
    )
    data = WindowDataModule(X, Y, loader_spec, order)
    module = model if steps_per_execution == 1 else _SeveralSteps(model, train_spec.batch_size)
    recorder = RecordWeights(model)
    callbacks: list[lightning.Callback] = [recorder] if record_weights else []
    if epoch_clock is not None:
        callbacks.append(EpochClock(epoch_clock))
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
    return _history(model, len(data.inputs), train_spec, recorder.weights, seconds)


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
    X, Y = _check_inputs(model, X, Y, train_spec, order)
    _accelerator(device)  # same names as fit accepts
    target = torch.device(device)
    loader = WindowDataModule(X, Y, train_spec, order).train_dataloader()
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
    return _history(model, len(loader.dataset), train_spec, epoch_weights, seconds)


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
    with evaluating(model):
        return model(inputs).cpu().numpy()
