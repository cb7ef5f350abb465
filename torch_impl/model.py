"""Build the network a `ModelSpec` describes as a PyTorch Lightning module.

`build_model` is the torch half of the project's one-spec-two-frameworks contract: it reads the
same `ModelSpec` as `keras_impl.build_model` and the numpy reference, and must compute exactly
what `shared.reference` computes, for every spec of the grammar:

    net.front          Embedding (nn.Embedding, token ids in) or Masking; absent without a front
    net.recurrent[k]   canonical layer k; its module is `net.recurrent[k].rnn` (nn.RNN, nn.LSTM,
                       nn.GRU, or a loop module from torch_impl.loops where torch's cannot)
    readout            "final" state, every step ("sequence") or out[:, -1] ("last_step")
    net.head_layers[i] Dense, Dropout, LayerNorm, BatchNorm (torch_impl.layers), per step for a
                       sequence
    net.head           the final nn.Linear, then the head's activation

Masks (from the front) reach every recurrent layer, which honours them exactly as Keras does
(torch_impl.masked). The names `net.recurrent.{k}.rnn.*` and `net.head.*` are today's, so
checkpoints written before the grammar load unchanged.
"""

from __future__ import annotations

from typing import Any

import lightning
import torch
from torch import nn

from shared.recipe import TrainSpec
from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import DenseSpec, ModelSpec
from torch_impl.activations import TORCH_ACTIVATIONS, torch_activation
from torch_impl.common import torch_dtype
from torch_impl.layers import FRONTS, HEAD_LAYERS, RecurrentLayer
from torch_impl.loops import LoopGRU, LoopSimpleRNN, recurrent_module
from torch_impl.optim import checked_loss, make_optimizer

# Re-exported: tests and callers have always found these here.
__all__ = [
    "TORCH_ACTIVATIONS",
    "LoopGRU",
    "LoopSimpleRNN",
    "RNNModel",
    "RecurrentNet",
    "build_model",
    "create_rnn",
    "recurrent_module",
    "spec_of",
    "torch_activation",
    "torch_dtype",
]


def _readout(spec: ModelSpec, sequence: torch.Tensor, finals: torch.Tensor) -> torch.Tensor:
    """What the head reads: finals (batch, F), the sequence (batch, time, F) or its last step."""
    if spec.readout == "sequence":
        return sequence
    if spec.readout == "last_step":  # torch's out[:, -1]: the backward half read one step only
        return sequence[:, -1, :]
    return finals


class RecurrentNet(nn.Module):
    """The plain torch network: [front], recurrent layers, head layers, then the dense head."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        dtype = torch_dtype(spec.dtype)
        self.spec = spec
        if spec.front is not None:
            self.front = FRONTS[type(spec.front)](spec.front, dtype)
        self.recurrent = nn.ModuleList(
            RecurrentLayer(layer, recurrent_module(layer, spec.input_size(index), dtype))
            for index, layer in enumerate(spec.layers)
        )
        if spec.head_layers:
            self.head_layers = nn.ModuleList(
                HEAD_LAYERS[type(layer)](layer, spec.head_input_size(index), dtype)
                for index, layer in enumerate(spec.head_layers)
            )
        head_in = spec.head_input_size(len(spec.head_layers))
        self.head = nn.Linear(head_in, spec.head.units, dtype=dtype)
        self.head_activation = torch_activation(spec.head.activation)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Map inputs (batch, time, features), or token ids (batch, time), to the outputs.

        Returns:
            (batch, head units), or (batch, time, head units) for readout "sequence".
        """
        sequence, mask = (inputs, None) if self.spec.front is None else self.front(inputs)
        finals = sequence
        for layer in self.recurrent:
            sequence, finals = layer(sequence, mask)
        features = _readout(self.spec, sequence, finals)
        for head_layer in getattr(self, "head_layers", ()):
            features = head_layer(features)
        # nn.Linear acts on the last axis, so a sequence gets the head at every step
        return self.head_activation(self.head(features))


class RNNModel(lightning.LightningModule):
    """The Lightning wrapper: `.net` (a RecurrentNet), `.spec`, and the training hooks.

    Hyperparameters hold only `{"spec": spec.to_dict()}`, plain JSON, so a checkpoint rebuilds
    the model with `RNNModel.load_from_checkpoint(path)` and no pickled code. The training
    recipe (`train_spec`) is set by `torch_impl.train.fit` for the duration of a run.
    """

    def __init__(self, spec: ModelSpec | dict[str, Any]) -> None:
        super().__init__()
        spec = spec if isinstance(spec, ModelSpec) else ModelSpec.from_dict(spec)
        self.save_hyperparameters({"spec": spec.to_dict()})
        self.spec = spec
        self.net = RecurrentNet(spec)
        self.train_spec: TrainSpec | None = None  # set by torch_impl.train.fit for one run
        self.loss_fn: nn.Module | None = None  # likewise
        self.step_losses: list[tuple[float, int]] = []  # (pre-update batch loss, batch size)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.net(inputs)

    def training_step(
        self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int
    ) -> torch.Tensor:
        """Return the batch loss (before this step's update) and record it with the batch size."""
        if self.loss_fn is None:
            raise RuntimeError("train this model with torch_impl.train.fit (no loss set)")
        inputs, targets = batch  # (batch, time, features), (batch, units)
        loss = checked_loss(self.loss_fn, self(inputs), targets)
        self.step_losses.append((loss.item(), inputs.shape[0]))
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        if self.train_spec is None:
            raise RuntimeError("train this model with torch_impl.train.fit (no train spec set)")
        return make_optimizer(self.parameters(), self.train_spec.optimizer)


def build_model(spec: ModelSpec, seed: int | None = None) -> RNNModel:
    """Build the Lightning model `spec` describes, parameters in the spec's dtype.

    Args:
        spec: the model to build.
        seed: when given, torch's initialisers are seeded with it (same seed, same weights);
            otherwise they draw from torch's global generator.

    Parameters start from torch's default initialisation; use
    `torch_impl.weights.set_canonical` to load known weights.
    """
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"build_model needs a ModelSpec, got {type(spec).__name__}")
    if seed is None:
        return RNNModel(spec)
    with torch.random.fork_rng(devices=[]):  # seed locally; leave the global generator as it was
        torch.manual_seed(seed)
        return RNNModel(spec)


def create_rnn(
    hidden_units: int, dense_units: int, input_shape: tuple[int, int], activation: list[str]
) -> RNNModel:
    """The tutorial's `create_RNN`: SimpleRNN(hidden_units, activation[0]) + Dense(activation[1]).

    Unlike Keras, torch's recurrent layer holds two bias vectors, `bias_ih` and `bias_hh`; the
    extra one has `hidden_units` values (zero when ported from Keras). For (3, 1, (12, 1)) the
    torch model therefore has 22 parameters where Keras has 19 (3 + 9 + 3 recurrent, 3 + 1 dense).

    Args:
        hidden_units: units of the simple RNN layer.
        dense_units: units of the dense head.
        input_shape: (time_steps, features).
        activation: [recurrent activation, dense activation], Keras names.

    Returns:
        The model, float32 as in the tutorial.
    """
    if len(activation) != 2:
        raise ValueError(f"activation must name [recurrent, dense] activations, got {activation}")
    time_steps, features = input_shape
    spec = ModelSpec(
        time_steps=time_steps,
        features=features,
        layers=(RecurrentLayerSpec(kind="simple", units=hidden_units, activation=activation[0]),),
        head=DenseSpec(units=dense_units, activation=activation[1]),
    )
    return build_model(spec)


def spec_of(model: RNNModel) -> ModelSpec:
    """The ModelSpec a model was built from."""
    return model.spec
