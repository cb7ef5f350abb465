"""Build the network a `ModelSpec` describes as a PyTorch Lightning module.

`build_model` is the torch half of the project's one-spec-two-frameworks contract: it reads the
same `ModelSpec` as `keras_impl.build_model` and the numpy reference, and must compute exactly
what `shared.reference` computes. Each recurrent spec layer becomes one recurrent module, so
canonical layer k maps to `model.net.recurrent[k].rnn` and nowhere else:

* `nn.RNN` (tanh or relu), `nn.LSTM` and `nn.GRU` (reset_after=True) where torch's fused modules
  express the spec exactly;
* explicit time-step loops where they cannot: a simple RNN with any Keras-named activation
  (`LoopSimpleRNN`) and a GRU that applies the reset gate before the recurrent matmul
  (`LoopGRU`, Keras's reset_after=False).

The loop modules name and lay out their parameters exactly as torch's fused modules do
(`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, `_reverse` for the backward
direction), so `torch_impl.weights` translates every layer with one mapping.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lightning
import torch
import torch.nn.functional as F  # noqa: N812 - the universal torch spelling
from torch import nn

from shared.activations import ACTIVATIONS
from shared.spec import DenseSpec, ModelSpec, RecurrentLayerSpec, TrainSpec
from torch_impl.optim import checked_loss, make_optimizer

_TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}
# Activations nn.RNN implements itself; any other simple-RNN activation needs the loop.
_FUSED_SIMPLE_ACTIVATIONS = ("tanh", "relu")


def torch_dtype(name: str) -> torch.dtype:
    """Map a spec dtype name ("float32", "float64") to the torch dtype."""
    return _TORCH_DTYPES[name]


def _softplus(x: torch.Tensor) -> torch.Tensor:
    # log(1 + e^x) without F.softplus's linear cut-off above 20, to mirror np.logaddexp(0, x).
    return torch.logaddexp(torch.zeros_like(x), x)


def _hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    # Keras 3: relu6(x + 3) / 6 (not Keras 2's 0.2 x + 0.5).
    return F.relu6(x + 3.0) / 6.0


# Torch mirrors of shared.activations.ACTIVATIONS, name for name (tests check every one).
TORCH_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "linear": lambda x: x,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "relu6": F.relu6,
    "leaky_relu": lambda x: F.leaky_relu(x, negative_slope=0.2),  # Keras's slope, not torch's
    "elu": F.elu,
    "selu": F.selu,
    "softplus": _softplus,
    "softsign": F.softsign,
    "silu": F.silu,
    "swish": F.silu,
    "gelu": F.gelu,  # exact erf form, as Keras's default approximate=False
    "hard_sigmoid": _hard_sigmoid,
    "hard_silu": lambda x: x * _hard_sigmoid(x),
    "mish": lambda x: x * torch.tanh(_softplus(x)),
    "exponential": torch.exp,
}
if set(TORCH_ACTIVATIONS) != set(ACTIVATIONS):  # fail at import, not mid-training
    raise ImportError(
        "torch_impl activations out of step with shared.activations: "
        f"{sorted(set(TORCH_ACTIVATIONS) ^ set(ACTIVATIONS))}"
    )


def torch_activation(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """Return the torch function for a Keras activation name.

    Raises:
        KeyError: with the known names, if `name` is not one of them.
    """
    try:
        return TORCH_ACTIVATIONS[name]
    except KeyError:
        known = ", ".join(TORCH_ACTIVATIONS)
        raise KeyError(f"unknown activation {name!r}; known: {known}") from None


class _LoopRecurrent(nn.Module):
    """Shared body of the explicit-loop modules: torch-named parameters and the direction loop.

    Parameters mirror nn.RNN/nn.GRU: `weight_ih_l0` (gates*units, input), `weight_hh_l0`
    (gates*units, units), `bias_ih_l0` and `bias_hh_l0` (gates*units,), plus `_reverse` copies
    for the backward direction. `forward` returns `(output, None)` like the fused modules, with
    output (batch, time, units * directions) and the backward half flipped back in time.
    """

    n_gates = 1

    def __init__(
        self, input_size: int, hidden_size: int, bidirectional: bool, dtype: torch.dtype
    ) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bidirectional = bidirectional
        self.suffixes = ("_l0", "_l0_reverse") if bidirectional else ("_l0",)
        rows = self.n_gates * hidden_size
        bound = hidden_size**-0.5  # torch's own default init range for recurrent modules
        for suffix in self.suffixes:
            shapes = {
                "weight_ih": (rows, input_size),
                "weight_hh": (rows, hidden_size),
                "bias_ih": (rows,),
                "bias_hh": (rows,),
            }
            for name, shape in shapes.items():
                tensor = torch.empty(shape, dtype=dtype).uniform_(-bound, bound)
                self.register_parameter(name + suffix, nn.Parameter(tensor))

    def _step(self, x_part: torch.Tensor, h: torch.Tensor, suffix: str) -> torch.Tensor:
        """One time step: x_part (batch, gates*units) = x_t W^T + b_ih; h (batch, units)."""
        raise NotImplementedError

    def _run(self, inputs: torch.Tensor, suffix: str) -> torch.Tensor:
        """Run one direction over inputs (batch, time, input) in the order given."""
        # (batch, time, gates*units): input projections of every step at once
        x_parts = F.linear(
            inputs, getattr(self, "weight_ih" + suffix), getattr(self, "bias_ih" + suffix)
        )
        h = inputs.new_zeros(inputs.shape[0], self.hidden_size)  # zero initial state
        states = []
        for t in range(inputs.shape[1]):
            h = self._step(x_parts[:, t, :], h, suffix)
            states.append(h)
        return torch.stack(states, dim=1)  # (batch, time, units)

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, None]:
        outputs = [self._run(inputs, "_l0")]
        if self.bidirectional:
            # read the sequence reversed, then flip back so index t means time step t
            outputs.append(self._run(inputs.flip(1), "_l0_reverse").flip(1))
        return torch.cat(outputs, dim=2), None


class LoopSimpleRNN(_LoopRecurrent):
    """A simple RNN with any Keras-named activation: h = f(x W + b + h U + c).

    nn.RNN knows only tanh and relu; this loop covers "linear", "sigmoid" and the rest.
    """

    n_gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        activation: str,
        bidirectional: bool,
        dtype: torch.dtype,
    ) -> None:
        super().__init__(input_size, hidden_size, bidirectional, dtype)
        self.activation_name = activation
        self.activation = torch_activation(activation)

    def _step(self, x_part: torch.Tensor, h: torch.Tensor, suffix: str) -> torch.Tensor:
        recurrent = F.linear(
            h, getattr(self, "weight_hh" + suffix), getattr(self, "bias_hh" + suffix)
        )  # (batch, units)
        return self.activation(x_part + recurrent)

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, activation={self.activation_name}, "
            f"bidirectional={self.bidirectional}"
        )


class LoopGRU(_LoopRecurrent):
    """A GRU with the reset gate applied before the recurrent matmul (Keras reset_after=False).

    r, z = sigmoid(x W + b + h U + c);  n = tanh(x W_n + b_n + (r * h) U_n + c_n);
    h = z * h + (1 - z) * n.  Gate rows are ordered r, z, n as in nn.GRU.
    """

    n_gates = 3

    def _step(self, x_part: torch.Tensor, h: torch.Tensor, suffix: str) -> torch.Tensor:
        units = self.hidden_size
        weight_hh = getattr(self, "weight_hh" + suffix)  # (3*units, units), rows r, z, n
        bias_hh = getattr(self, "bias_hh" + suffix)  # (3*units,)
        x_r, x_z, x_n = x_part.split(units, dim=1)  # each (batch, units)
        # r and z use h itself; n uses the reset state r * h, so it needs its own matmul
        h_r, h_z = F.linear(h, weight_hh[: 2 * units], bias_hh[: 2 * units]).split(units, dim=1)
        r = torch.sigmoid(x_r + h_r)
        z = torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + F.linear(r * h, weight_hh[2 * units :], bias_hh[2 * units :]))
        return z * h + (1 - z) * n

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, reset_after=False, "
            f"bidirectional={self.bidirectional}"
        )


def recurrent_module(
    layer: RecurrentLayerSpec, input_size: int, dtype: torch.dtype, *, force_loop: bool = False
) -> nn.Module:
    """The torch module computing one spec layer, batch first, one or two directions.

    Args:
        layer: the recurrent layer's spec.
        input_size: features each time step feeds it.
        dtype: parameter dtype.
        force_loop: use LoopSimpleRNN even for tanh and relu, where nn.RNN would do (so tests
            can compare the loop with torch's own kernel).

    Returns:
        A module called as `module(x)` -> (output (batch, time, units * directions), ...).
    """
    common = {"bidirectional": layer.bidirectional, "dtype": dtype}
    if layer.kind == "simple":
        if layer.activation in _FUSED_SIMPLE_ACTIVATIONS and not force_loop:
            return nn.RNN(
                input_size, layer.units, nonlinearity=layer.activation, batch_first=True, **common
            )
        return LoopSimpleRNN(input_size, layer.units, layer.activation, **common)
    if layer.kind == "lstm":
        return nn.LSTM(input_size, layer.units, batch_first=True, **common)
    if layer.reset_after:  # reset applied to (h U_n + c_n): exactly nn.GRU
        return nn.GRU(input_size, layer.units, batch_first=True, **common)
    return LoopGRU(input_size, layer.units, **common)


class RecurrentLayer(nn.Module):
    """One spec layer: its recurrent module (`.rnn`) plus the features it hands on."""

    def __init__(self, layer: RecurrentLayerSpec, rnn: nn.Module) -> None:
        super().__init__()
        self.units = layer.units
        self.bidirectional = layer.bidirectional
        self.rnn = rnn

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the layer.

        Args:
            inputs: (batch, time, input).

        Returns:
            The sequence (batch, time, units * directions) and the final features
            (batch, units * directions): forward state after the last step, then (when
            bidirectional) the backward state after reading back to step 0.
        """
        sequence = self.rnn(inputs)[0]
        finals = [sequence[:, -1, : self.units]]
        if self.bidirectional:
            finals.append(sequence[:, 0, self.units :])
        return sequence, torch.cat(finals, dim=1)


class RecurrentNet(nn.Module):
    """The plain torch network: recurrent layers (`.recurrent[k]`) then a dense head (`.head`)."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        dtype = torch_dtype(spec.dtype)
        self.return_sequences = spec.layers[-1].return_sequences
        self.recurrent = nn.ModuleList(
            RecurrentLayer(layer, recurrent_module(layer, spec.input_size(index), dtype))
            for index, layer in enumerate(spec.layers)
        )
        self.head = nn.Linear(spec.layers[-1].output_size, spec.head.units, dtype=dtype)
        self.head_activation = torch_activation(spec.head.activation)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Map inputs (batch, time, features) to (batch, head units) or (batch, time, units)."""
        sequence, finals = inputs, inputs
        for layer in self.recurrent:
            sequence, finals = layer(sequence)
        features = sequence if self.return_sequences else finals
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
