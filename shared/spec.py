"""Model and training specs: one description that builds the same network in every framework.

A `ModelSpec` is what both `keras_impl.build_model` and `torch_impl.build_model` read, what the
numpy reference runs, and what every weight file and report carries. A `TrainSpec` is the recipe
both `fit` functions follow. Both are frozen dataclasses that round-trip through JSON; unknown
keys and bad values raise `SpecError` naming the key (and layer) at fault.

Activation names are Keras's (`"tanh"`, `"linear"`, ...); `shared.activations` defines each.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from shared.activations import ACTIVATIONS
from shared.errors import SpecError

RECURRENT_KINDS = ("simple", "lstm", "gru")
# Gate names per kind, in the canonical (mathematical) order; see shared.weights.
GATES: dict[str, tuple[str, ...]] = {
    "simple": ("h",),
    "lstm": ("i", "f", "g", "o"),
    "gru": ("r", "z", "n"),
}
DTYPES = ("float32", "float64")
OPTIMIZERS = ("adam", "sgd")
LOSSES = ("mse", "mae")
# "native": each framework's own Adam. "keras": epsilon added to sqrt(v) as Keras does.
# "torch": epsilon added to sqrt(v_hat) as torch does. See compare.study.parity for why it matters.
EPSILON_STYLES = ("native", "keras", "torch")


def _check_int(value: Any, name: str, minimum: int, where: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SpecError(f"{where}{name} must be an integer >= {minimum}, got {value!r}")


def _check_bool(value: Any, name: str, where: str = "") -> None:
    if not isinstance(value, bool):
        raise SpecError(f"{where}{name} must be true or false, got {value!r}")


def _check_choice(value: Any, name: str, choices: tuple[str, ...], where: str = "") -> None:
    if value not in choices:
        raise SpecError(f"{where}{name} must be one of {', '.join(choices)}; got {value!r}")


def _check_positive_float(value: Any, name: str, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(f"{name} must be a number, got {value!r}")
    if not (value >= 0 if allow_zero else value > 0) or value != value or value == float("inf"):
        bound = ">= 0" if allow_zero else "> 0"
        raise SpecError(f"{name} must be a finite number {bound}, got {value!r}")


def _from_mapping(cls: type, data: Any, where: str) -> dict[str, Any]:
    """Check a JSON mapping against a dataclass's fields; return it as keyword arguments."""
    if not isinstance(data, dict):
        raise SpecError(f"{where}expected a JSON object, got {type(data).__name__}")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SpecError(f"{where}unknown key(s) {unknown}; allowed: {sorted(known)}")
    return dict(data)


@dataclass(frozen=True)
class RecurrentLayerSpec:
    """One recurrent layer (or a bidirectional pair of them).

    `activation` is the simple RNN's activation, or the LSTM/GRU candidate and output activation
    (only "tanh" there: torch's fused LSTM and GRU know no other). Gates always use sigmoid.
    `reset_after` is read only for GRU (Keras 3's default True equals torch's nn.GRU).
    """

    kind: str
    units: int
    activation: str = "tanh"
    return_sequences: bool = False
    bidirectional: bool = False
    reset_after: bool = True

    def __post_init__(self) -> None:
        _check_choice(self.kind, "kind", RECURRENT_KINDS, "recurrent layer: ")
        where = f"{self.kind} layer: "
        _check_int(self.units, "units", 1, where)
        _check_choice(self.activation, "activation", tuple(ACTIVATIONS), where)
        if self.kind != "simple" and self.activation != "tanh":
            raise SpecError(
                f"{where}activation must be 'tanh' for lstm and gru, got "
                f"{self.activation!r} (only simple layers take any activation)"
            )
        _check_bool(self.return_sequences, "return_sequences", where)
        _check_bool(self.bidirectional, "bidirectional", where)
        _check_bool(self.reset_after, "reset_after", where)

    @property
    def gates(self) -> tuple[str, ...]:
        return GATES[self.kind]

    @property
    def directions(self) -> tuple[str, ...]:
        return ("forward", "backward") if self.bidirectional else ("forward",)

    @property
    def output_size(self) -> int:
        """Features this layer hands on: units, doubled when bidirectional (Keras "concat")."""
        return self.units * (2 if self.bidirectional else 1)


@dataclass(frozen=True)
class DenseSpec:
    """The dense head applied to the last recurrent output (to every step if it is a sequence)."""

    units: int = 1
    activation: str = "linear"

    def __post_init__(self) -> None:
        _check_int(self.units, "units", 1, "dense head: ")
        _check_choice(self.activation, "activation", tuple(ACTIVATIONS), "dense head: ")


@dataclass(frozen=True)
class ModelSpec:
    """A recurrent stack plus a dense head, with its input shape and float precision."""

    time_steps: int
    features: int
    layers: tuple[RecurrentLayerSpec, ...]
    head: DenseSpec = field(default_factory=DenseSpec)
    dtype: str = "float32"

    def __post_init__(self) -> None:
        _check_int(self.time_steps, "time_steps", 1, "model: ")
        _check_int(self.features, "features", 1, "model: ")
        _check_choice(self.dtype, "dtype", DTYPES, "model: ")
        if not isinstance(self.layers, tuple) or not self.layers:
            raise SpecError("model: layers must be a non-empty tuple of RecurrentLayerSpec")
        for index, layer in enumerate(self.layers):
            if not isinstance(layer, RecurrentLayerSpec):
                raise SpecError(f"model: layer {index} is not a RecurrentLayerSpec: {layer!r}")
            feeds_another = index < len(self.layers) - 1
            if feeds_another and not layer.return_sequences:
                raise SpecError(
                    f"model: layer {index} ({layer.kind}) feeds layer {index + 1}, "
                    "so it must have return_sequences=True"
                )
        if not isinstance(self.head, DenseSpec):
            raise SpecError(f"model: head must be a DenseSpec, got {self.head!r}")

    def input_size(self, layer_index: int) -> int:
        """Input features of recurrent layer `layer_index` (the model's features for layer 0)."""
        if layer_index == 0:
            return self.features
        return self.layers[layer_index - 1].output_size

    @property
    def output_shape(self) -> tuple[int, ...]:
        """Per-sample output shape: (head units,) or (time_steps, head units) for sequences."""
        if self.layers[-1].return_sequences:
            return (self.time_steps, self.head.units)
        return (self.head.units,)

    def to_dict(self) -> dict[str, Any]:
        return {
            "time_steps": self.time_steps,
            "features": self.features,
            "layers": [asdict(layer) for layer in self.layers],
            "head": asdict(self.head),
            "dtype": self.dtype,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any) -> ModelSpec:
        kwargs = _from_mapping(cls, data, "model spec: ")
        for key in ("time_steps", "features", "layers"):
            if key not in kwargs:
                raise SpecError(f"model spec: missing key {key!r}")
        if not isinstance(kwargs["layers"], list):
            raise SpecError("model spec: 'layers' must be a list")
        layers = []
        for index, layer in enumerate(kwargs["layers"]):
            layer_kwargs = _from_mapping(RecurrentLayerSpec, layer, f"model spec layer {index}: ")
            try:
                layers.append(RecurrentLayerSpec(**layer_kwargs))
            except TypeError as error:  # a required key is missing
                raise SpecError(f"model spec layer {index}: {error}") from None
        kwargs["layers"] = tuple(layers)
        if "head" in kwargs:
            kwargs["head"] = DenseSpec(**_from_mapping(DenseSpec, kwargs["head"], "model head: "))
        return cls(**kwargs)

    @classmethod
    def from_json(cls, text: str) -> ModelSpec:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise SpecError(f"model spec: not valid JSON ({error})") from None
        except RecursionError:  # nested deeper than Python's JSON decoder can follow
            raise SpecError("model spec: JSON nested too deeply") from None
        return cls.from_dict(data)


def first_difference(model_spec: ModelSpec, weights_spec: object) -> str | None:
    """Where the spec weights were made for parts from a model's spec (None when equal).

    Used by both impls' `set_canonical` so a misfit names the field or layer at fault.
    """
    if model_spec == weights_spec:
        return None
    if not isinstance(weights_spec, ModelSpec):
        return f"weights carry no ModelSpec (got {type(weights_spec).__name__})"
    for name in ("time_steps", "features", "dtype", "head"):
        mine, theirs = getattr(model_spec, name), getattr(weights_spec, name)
        if mine != theirs:
            return f"{name}: model {mine}, weights {theirs}"
    if len(model_spec.layers) != len(weights_spec.layers):
        return (
            f"model has {len(model_spec.layers)} recurrent layer(s), weights "
            f"{len(weights_spec.layers)}"
        )
    for index, (mine, theirs) in enumerate(
        zip(model_spec.layers, weights_spec.layers, strict=True)
    ):
        if mine != theirs:
            return f"layer {index}: model {mine}, weights {theirs}"
    return "specs differ"


def tutorial_spec(dtype: str = "float32") -> ModelSpec:
    """The tutorial's forecaster: SimpleRNN(3, tanh) on (12, 1) windows, then Dense(1, tanh)."""
    return ModelSpec(
        time_steps=12,
        features=1,
        layers=(RecurrentLayerSpec(kind="simple", units=3, activation="tanh"),),
        head=DenseSpec(units=1, activation="tanh"),
        dtype=dtype,
    )


@dataclass(frozen=True)
class OptimizerSpec:
    """Optimizer name and hyperparameters. Defaults are Keras's Adam (epsilon 1e-7, not 1e-8)."""

    name: str = "adam"
    learning_rate: float = 1e-3
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7
    momentum: float = 0.0
    epsilon_style: str = "native"

    def __post_init__(self) -> None:
        _check_choice(self.name, "optimizer name", OPTIMIZERS)
        _check_positive_float(self.learning_rate, "learning_rate")
        for name in ("beta_1", "beta_2"):
            value = getattr(self, name)
            _check_positive_float(value, name, allow_zero=True)
            if value >= 1:
                raise SpecError(f"{name} must be in [0, 1), got {value!r}")
        _check_positive_float(self.epsilon, "epsilon", allow_zero=True)
        _check_positive_float(self.momentum, "momentum", allow_zero=True)
        _check_choice(self.epsilon_style, "epsilon_style", EPSILON_STYLES)


@dataclass(frozen=True)
class TrainSpec:
    """How to train: the tutorial's recipe by default (20 epochs, batch 1, Adam, MSE).

    `shuffle` is the framework's own shuffling, used only when `fit` gets no explicit order.
    `single_bias` keeps torch's recurrent-side bias at zero and frozen wherever Keras has none
    (simple, LSTM and GRU with reset_after=False), so torch trains one bias per gate as Keras
    does; GRU with reset_after=True keeps both, as Keras does (its c_n sits inside the reset gate).
    """

    epochs: int = 20
    batch_size: int = 1
    optimizer: OptimizerSpec = field(default_factory=OptimizerSpec)
    loss: str = "mse"
    seed: int = 0
    shuffle: bool = True
    single_bias: bool = False

    def __post_init__(self) -> None:
        _check_int(self.epochs, "epochs", 1, "train spec: ")
        _check_int(self.batch_size, "batch_size", 1, "train spec: ")
        _check_int(self.seed, "seed", 0, "train spec: ")
        _check_choice(self.loss, "loss", LOSSES, "train spec: ")
        _check_bool(self.shuffle, "shuffle", "train spec: ")
        _check_bool(self.single_bias, "single_bias", "train spec: ")
        if not isinstance(self.optimizer, OptimizerSpec):
            raise SpecError(
                f"train spec: optimizer must be an OptimizerSpec, got {self.optimizer!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any) -> TrainSpec:
        kwargs = _from_mapping(cls, data, "train spec: ")
        if "optimizer" in kwargs:
            optimizer = _from_mapping(OptimizerSpec, kwargs["optimizer"], "train spec optimizer: ")
            kwargs["optimizer"] = OptimizerSpec(**optimizer)
        return cls(**kwargs)

    @classmethod
    def from_json(cls, text: str) -> TrainSpec:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise SpecError(f"train spec: not valid JSON ({error})") from None
        except RecursionError:  # nested deeper than Python's JSON decoder can follow
            raise SpecError("train spec: JSON nested too deeply") from None
        return cls.from_dict(data)
