"""The training recipe: how both `fit` functions train a model, apart from what the model is.

A `TrainSpec` (epochs, batch size, loss, seed, shuffling, bias handling) and its
`OptimizerSpec` describe a training run, not a network: one model spec is trained under many
recipes, and a weight file never carries one. Both are frozen dataclasses that round-trip
through JSON; unknown keys and bad values raise `SpecError` naming the key at fault.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from shared.errors import SpecError
from shared.validation import (
    check_bool,
    check_choice,
    check_int,
    check_positive_float,
    from_mapping,
)

OPTIMIZERS = ("adam", "sgd")
LOSSES = ("mse", "mae")
# "native": each framework's own Adam. "keras": epsilon added to sqrt(v) as Keras does.
# "torch": epsilon added to sqrt(v_hat) as torch does. See compare.study.parity for why it matters.
EPSILON_STYLES = ("native", "keras", "torch")


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
        check_choice(self.name, "optimizer name", OPTIMIZERS)
        check_positive_float(self.learning_rate, "learning_rate")
        for name in ("beta_1", "beta_2"):
            value = getattr(self, name)
            check_positive_float(value, name, allow_zero=True)
            if value >= 1:
                raise SpecError(f"{name} must be in [0, 1), got {value!r}")
        check_positive_float(self.epsilon, "epsilon", allow_zero=True)
        check_positive_float(self.momentum, "momentum", allow_zero=True)
        check_choice(self.epsilon_style, "epsilon_style", EPSILON_STYLES)


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
        check_int(self.epochs, "epochs", 1, "train spec: ")
        check_int(self.batch_size, "batch_size", 1, "train spec: ")
        check_int(self.seed, "seed", 0, "train spec: ")
        check_choice(self.loss, "loss", LOSSES, "train spec: ")
        check_bool(self.shuffle, "shuffle", "train spec: ")
        check_bool(self.single_bias, "single_bias", "train spec: ")
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
        kwargs = from_mapping(cls, data, "train spec: ")
        if "optimizer" in kwargs:
            optimizer = from_mapping(OptimizerSpec, kwargs["optimizer"], "train spec optimizer: ")
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
