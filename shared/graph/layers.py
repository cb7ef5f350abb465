"""Node kinds that act step by step on the feature axis: the front, dense layers and their kin.

    embedding    ids (time,) -> (time, dim); id 0 masks the step when mask_zero
                 arrays: E (vocab, dim)
    masking      a step whose features all equal mask_value is masked and zeroed
    dense        act(x @ W + b) on the last axis of any rank (also TimeDistributed(Dense))
                 arrays: W (in, units), b (units,)
    activation   act(x)
    dropout      the identity at inference (Dropout, SpatialDropout1D, GaussianNoise,
                 GaussianDropout, AlphaDropout: `layer` keeps which, `rate` its rate or
                 stddev, so a port writes the same layer back)
    layer_norm   (x - mean) / sqrt(var + eps) * gamma + beta over the last axis
                 arrays: gamma, beta (features,)
    batch_norm   (x - mean) / sqrt(variance + eps) * gamma + beta with moving statistics
                 arrays: gamma, beta, mean, variance (features,)
    length_mask  (sequence (time, F), lengths ()) -> the sequence unchanged, masked where
                 t >= max(lengths[b], min_length) (trailing padding; it replaces any mask the
                 sequence had, as a mask= passed to a Keras layer replaces the propagated one);
                 min_length 1 is torch's lengths.clamp(min=1): a length-0 sample keeps step 0
gamma and beta are absent where Keras's scale / center are off. Epsilons are carried, never
assumed (Keras defaults 1e-3, torch 1e-5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shared.activations import ACTIVATIONS
from shared.errors import SpecError
from shared.grammar import KERAS_NORM_EPSILON
from shared.graph.base import NodeKind, Shape, need_rank, register
from shared.validation import (
    check_bool,
    check_choice,
    check_int,
    check_number,
    check_positive_float,
)

NOISE_LAYERS = (
    "dropout",
    "spatial_dropout1d",
    "gaussian_noise",
    "gaussian_dropout",
    "alpha_dropout",
)


def _features(shape: Shape, what: str) -> int:
    if not shape or shape[-1] is None:
        raise SpecError(f"{what} needs a known last axis, got shape {shape}")
    return shape[-1]


@register
@dataclass(frozen=True)
class Embedding(NodeKind):
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

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        need_rank(inputs[0], (1,), "embedding (token ids (time,))")
        return [(inputs[0][0], self.dim)]

    def weight_shapes(self, inputs: list[Shape]) -> dict[str, tuple[int, ...]]:
        return {"E": (self.vocab, self.dim)}

    def mask_out(self, inputs: list[Shape], masked: list[bool]) -> list[bool]:
        return [self.mask_zero]


@register
@dataclass(frozen=True)
class Masking(NodeKind):
    type: ClassVar[str] = "masking"
    mask_value: float = 0.0

    def __post_init__(self) -> None:
        check_number(self.mask_value, "mask_value", "masking: ")

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        need_rank(inputs[0], (2,), "masking")
        return [inputs[0]]

    def mask_out(self, inputs: list[Shape], masked: list[bool]) -> list[bool]:
        return [True]


@register
@dataclass(frozen=True)
class Dense(NodeKind):
    type: ClassVar[str] = "dense"
    carries_mask: ClassVar[bool] = True
    units: int = 1
    activation: str = "linear"
    use_bias: bool = True

    def __post_init__(self) -> None:
        check_int(self.units, "units", 1, "dense: ")
        check_choice(self.activation, "activation", tuple(ACTIVATIONS), "dense: ")
        check_bool(self.use_bias, "use_bias", "dense: ")

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        _features(inputs[0], "dense")
        return [(*inputs[0][:-1], self.units)]

    def weight_shapes(self, inputs: list[Shape]) -> dict[str, tuple[int, ...]]:
        shapes = {"W": (_features(inputs[0], "dense"), self.units)}
        return shapes | ({"b": (self.units,)} if self.use_bias else {})


@register
@dataclass(frozen=True)
class Activation(NodeKind):
    type: ClassVar[str] = "activation"
    carries_mask: ClassVar[bool] = True
    activation: str = "linear"

    def __post_init__(self) -> None:
        check_choice(self.activation, "activation", tuple(ACTIVATIONS), "activation: ")

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        return [inputs[0]]


@register
@dataclass(frozen=True)
class Dropout(NodeKind):
    type: ClassVar[str] = "dropout"
    carries_mask: ClassVar[bool] = True
    rate: float = 0.5
    layer: str = "dropout"

    def __post_init__(self) -> None:
        check_choice(self.layer, "layer", NOISE_LAYERS, "dropout: ")
        check_positive_float(self.rate, "rate", allow_zero=True, where="dropout: ")

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        if self.layer == "spatial_dropout1d":
            need_rank(inputs[0], (2,), "spatial_dropout1d")
        return [inputs[0]]


@dataclass(frozen=True)
class _Normalization(NodeKind):
    carries_mask: ClassVar[bool] = True
    epsilon: float = KERAS_NORM_EPSILON
    center: bool = True
    scale: bool = True

    def __post_init__(self) -> None:
        check_positive_float(self.epsilon, "epsilon", where=f"{self.type}: ")
        check_bool(self.center, "center", f"{self.type}: ")
        check_bool(self.scale, "scale", f"{self.type}: ")

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        _features(inputs[0], self.type)
        return [inputs[0]]

    def affine_shapes(self, features: int) -> dict[str, tuple[int, ...]]:
        return ({"gamma": (features,)} if self.scale else {}) | (
            {"beta": (features,)} if self.center else {}
        )


@register
@dataclass(frozen=True)
class LayerNorm(_Normalization):
    """Over the last axis only (Keras's default axis=-1, torch's LayerNorm(features))."""

    type: ClassVar[str] = "layer_norm"

    def weight_shapes(self, inputs: list[Shape]) -> dict[str, tuple[int, ...]]:
        return self.affine_shapes(_features(inputs[0], "layer_norm"))


@register
@dataclass(frozen=True)
class BatchNorm(_Normalization):
    """Inference only, per feature of the last axis: the moving statistics are weights."""

    type: ClassVar[str] = "batch_norm"

    def weight_shapes(self, inputs: list[Shape]) -> dict[str, tuple[int, ...]]:
        features = _features(inputs[0], "batch_norm")
        return self.affine_shapes(features) | {"mean": (features,), "variance": (features,)}


@register
@dataclass(frozen=True)
class LengthMask(NodeKind):
    """A lengths input as a mask: torch's padded batch plus lengths, Keras's mask=."""

    type: ClassVar[str] = "length_mask"
    arity: ClassVar[int | None] = 2
    min_length: int = 0  # 1: lengths clamped to >= 1 first, so lengths of 0 are accepted

    def __post_init__(self) -> None:
        if isinstance(self.min_length, bool) or self.min_length not in (0, 1):
            raise SpecError(
                f"length_mask: min_length must be 0 or 1 (torch's lengths.clamp(min=1)), "
                f"got {self.min_length!r}"
            )

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        need_rank(inputs[0], (2,), "length_mask (a sequence (time, features))")
        if inputs[1] != ():
            raise SpecError(f"length_mask reads lengths (one number per sample), got {inputs[1]}")
        return [inputs[0]]

    def mask_out(self, inputs: list[Shape], masked: list[bool]) -> list[bool]:
        self.output_shapes(inputs)
        return [True]
