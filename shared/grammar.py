"""The layer kinds of the model grammar around the recurrent stack, one frozen dataclass each.

A model is `[front] -> recurrent layers -> readout -> head layers -> final Dense` (see
`shared.spec.ModelSpec`). This module holds every kind that is not recurrent (that one is
`shared.recurrent_spec`):

    front:        EmbeddingSpec(vocab, dim, mask_zero) | MaskingSpec(mask_value)
    head layers:  DenseSpec(units, activation) | DropoutSpec(rate)
                  | LayerNormSpec(epsilon) | BatchNormSpec(epsilon)   (inference statistics)

Each class knows its JSON type tag (`type`), the canonical weights it owns (`weight_shapes`,
names and shapes for a given input feature size; see `shared.weights`) and the features it hands
on (`output_size`). Tables map tags to classes, so supporting a new kind is one class here and
one translator per impl, never another branch in an if-chain.

Epsilons are carried, never assumed: Keras's normalisation layers default to 1e-3, torch's to
1e-5, and a port that drops the value changes every output by ~1e-3 relative.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from shared.activations import ACTIVATIONS
from shared.errors import SpecError
from shared.validation import (
    check_bool,
    check_choice,
    check_int,
    check_number,
    check_positive_float,
    check_rate,
    from_mapping,
)

KERAS_NORM_EPSILON = 1e-3  # keras.layers.LayerNormalization / BatchNormalization default
TORCH_NORM_EPSILON = 1e-5  # nn.LayerNorm / nn.BatchNorm1d default


class _Tagged:
    """JSON with a "type" tag: {"type": "dense", "units": 1, ...}."""

    type: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type} | asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class EmbeddingSpec(_Tagged):
    """Token ids (batch, time) -> vectors (batch, time, dim); id 0 masks the step if mask_zero."""

    type: ClassVar[str] = "embedding"
    vocab: int
    dim: int
    mask_zero: bool = False

    def __post_init__(self) -> None:
        check_int(self.vocab, "vocab", 1, "embedding: ")
        check_int(self.dim, "dim", 1, "embedding: ")
        check_bool(self.mask_zero, "mask_zero", "embedding: ")
        if self.mask_zero and self.vocab < 2:
            raise SpecError("embedding: mask_zero needs vocab >= 2 (id 0 is the padding)")

    @property
    def masks(self) -> bool:
        return self.mask_zero

    def weight_shapes(self, features: int) -> dict[str, tuple[int, ...]]:
        return {"E": (self.vocab, self.dim)}  # row i is the vector of token id i

    def output_size(self, features: int) -> int:
        return self.dim


@dataclass(frozen=True)
class MaskingSpec(_Tagged):
    """Keras's Masking: a step whose features all equal mask_value is skipped (and zeroed)."""

    type: ClassVar[str] = "masking"
    mask_value: float = 0.0

    def __post_init__(self) -> None:
        check_number(self.mask_value, "mask_value", "masking: ")

    @property
    def masks(self) -> bool:
        return True

    def weight_shapes(self, features: int) -> dict[str, tuple[int, ...]]:
        return {}

    def output_size(self, features: int) -> int:
        return features


@dataclass(frozen=True)
class DenseSpec(_Tagged):
    """A dense layer, x @ W + b then its activation; the model's final Dense is one too."""

    type: ClassVar[str] = "dense"
    units: int = 1
    activation: str = "linear"

    def __post_init__(self) -> None:
        check_int(self.units, "units", 1, "dense head: ")
        check_choice(self.activation, "activation", tuple(ACTIVATIONS), "dense head: ")

    def weight_shapes(self, features: int) -> dict[str, tuple[int, ...]]:
        return {"W": (features, self.units), "b": (self.units,)}

    def output_size(self, features: int) -> int:
        return self.units


@dataclass(frozen=True)
class DropoutSpec(_Tagged):
    """Dropout(rate): recorded so a port writes it back; the identity at inference."""

    type: ClassVar[str] = "dropout"
    rate: float = 0.5

    def __post_init__(self) -> None:
        check_rate(self.rate, "rate", "dropout: ")

    def weight_shapes(self, features: int) -> dict[str, tuple[int, ...]]:
        return {}

    def output_size(self, features: int) -> int:
        return features


@dataclass(frozen=True)
class LayerNormSpec(_Tagged):
    """(x - mean) / sqrt(var + epsilon) * gamma + beta over the feature axis, per sample."""

    type: ClassVar[str] = "layer_norm"
    epsilon: float = KERAS_NORM_EPSILON

    def __post_init__(self) -> None:
        check_positive_float(self.epsilon, "epsilon", where="layer_norm: ")

    def weight_shapes(self, features: int) -> dict[str, tuple[int, ...]]:
        return {"gamma": (features,), "beta": (features,)}

    def output_size(self, features: int) -> int:
        return features


@dataclass(frozen=True)
class BatchNormSpec(_Tagged):
    """(x - moving mean) / sqrt(moving variance + epsilon) * gamma + beta, per feature.

    Only inference is described: the moving statistics are weights, and training-mode batch
    statistics (whose momentum conventions differ: Keras 0.99 is torch's 0.01) are not compared.
    """

    type: ClassVar[str] = "batch_norm"
    epsilon: float = KERAS_NORM_EPSILON

    def __post_init__(self) -> None:
        check_positive_float(self.epsilon, "epsilon", where="batch_norm: ")

    def weight_shapes(self, features: int) -> dict[str, tuple[int, ...]]:
        shape = (features,)
        return {"gamma": shape, "beta": shape, "mean": shape, "variance": shape}

    def output_size(self, features: int) -> int:
        return features


FrontSpec = EmbeddingSpec | MaskingSpec
HeadLayerSpec = DenseSpec | DropoutSpec | LayerNormSpec | BatchNormSpec
FRONT_TYPES: dict[str, type] = {cls.type: cls for cls in (EmbeddingSpec, MaskingSpec)}
HEAD_LAYER_TYPES: dict[str, type] = {
    cls.type: cls for cls in (DenseSpec, DropoutSpec, LayerNormSpec, BatchNormSpec)
}


def tagged_from_dict(data: Any, table: dict[str, type], where: str) -> Any:
    """Build the dataclass a {"type": ..., ...} mapping names, from `table`.

    Raises:
        SpecError: prefixed with `where`, for a missing or unknown type, unknown keys or values.
    """
    if not isinstance(data, dict):
        raise SpecError(f"{where}expected a JSON object, got {type(data).__name__}")
    tag = data.get("type")
    if tag not in table:
        raise SpecError(f"{where}type must be one of {', '.join(table)}; got {tag!r}")
    cls = table[tag]
    kwargs = from_mapping(cls, data, f"{where}({tag}) ", ignore=("type",))
    try:
        return cls(**kwargs)
    except SpecError as error:
        raise SpecError(f"{where}{error}") from None
    except TypeError as error:  # a required key is missing
        raise SpecError(f"{where}({tag}) {error}") from None
