"""The model spec: one description that builds the same network in every framework.

A `ModelSpec` is what both `keras_impl.build_model` and `torch_impl.build_model` read, what the
numpy reference runs, and what every weight file and report carries. It assembles the grammar's
layers (`shared.recurrent_spec` for the recurrent stack, `shared.grammar` for the rest) into one
model; how that model is trained is another description (`shared.recipe`). It is a frozen
dataclass that round-trips through JSON; unknown keys and bad values raise `SpecError` naming
the key (and layer) at fault.

Activation names are Keras's (`"tanh"`, `"linear"`, ...); `shared.activations` defines each.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from shared.errors import SpecError
from shared.grammar import (
    FRONT_TYPES,
    HEAD_LAYER_TYPES,
    BatchNormSpec,
    DenseSpec,
    DropoutSpec,
    EmbeddingSpec,
    FrontSpec,
    HeadLayerSpec,
    LayerNormSpec,
    MaskingSpec,
    tagged_from_dict,
)
from shared.recurrent_spec import DROPOUT_FIELDS, RecurrentLayerSpec
from shared.validation import check_choice, check_int, from_mapping

DTYPES = ("float32", "float64")
READOUTS = ("final", "sequence", "last_step")
HEAD_LAYER_CLASSES = (DenseSpec, DropoutSpec, LayerNormSpec, BatchNormSpec)
# Re-exported: the grammar's layer kinds are part of the spec's public vocabulary.
__all__ = [
    "BatchNormSpec",
    "DenseSpec",
    "DropoutSpec",
    "EmbeddingSpec",
    "LayerNormSpec",
    "MaskingSpec",
    "ModelSpec",
    "first_difference",
    "tutorial_spec",
]


@dataclass(frozen=True)
class ModelSpec:
    """A model of the grammar: [front] -> recurrent layers -> readout -> head layers -> Dense.

    time_steps, features: the input per sample, (time_steps, features); with an Embedding front
        the input is token ids (time_steps,), one per step, and `features` must be 1.
    layers: the recurrent stack; every layer but the last returns its sequence.
    head: the final Dense (units, activation).
    front: None, an EmbeddingSpec or a MaskingSpec (shared.grammar).
    readout: what the head reads: "final" (the last layer's final state: Keras
        return_sequences=False, torch h_n), "sequence" (every step; all after it acts per step)
        or "last_step" (the last time step of a bidirectional sequence: torch's out[:, -1], whose
        backward half has read one step only; Keras's final state of a Bidirectional is not
        that). None derives "sequence" or "final" from the last layer's return_sequences.
    head_layers: DenseSpec, DropoutSpec, LayerNormSpec, BatchNormSpec applied in order after
        the readout and before `head`.
    """

    time_steps: int
    features: int
    layers: tuple[RecurrentLayerSpec, ...]
    head: DenseSpec = field(default_factory=DenseSpec)
    dtype: str = "float32"
    front: FrontSpec | None = None
    readout: str | None = None
    head_layers: tuple[HeadLayerSpec, ...] = ()

    def __post_init__(self) -> None:
        check_int(self.time_steps, "time_steps", 1, "model: ")
        check_int(self.features, "features", 1, "model: ")
        check_choice(self.dtype, "dtype", DTYPES, "model: ")
        self.check_front()
        self.check_layers()
        self.check_readout()
        if not isinstance(self.head_layers, tuple):
            raise SpecError("model: head_layers must be a tuple")
        for index, layer in enumerate(self.head_layers):
            if not isinstance(layer, HEAD_LAYER_CLASSES):
                raise SpecError(
                    f"model: head layer {index} must be one of "
                    f"{', '.join(cls.__name__ for cls in HEAD_LAYER_CLASSES)}, got {layer!r}"
                )
        if not isinstance(self.head, DenseSpec):
            raise SpecError(f"model: head must be a DenseSpec, got {self.head!r}")

    def check_front(self) -> None:
        if self.front is None:
            return
        if not isinstance(self.front, EmbeddingSpec | MaskingSpec):
            raise SpecError(
                f"model: front must be an EmbeddingSpec or MaskingSpec, got {self.front!r}"
            )
        if isinstance(self.front, EmbeddingSpec) and self.features != 1:
            raise SpecError(
                f"model: with an embedding front the input is one token id per step, so "
                f"features must be 1, got {self.features}"
            )

    def check_layers(self) -> None:
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
            if not feeds_another and layer.output_dropout:
                raise SpecError(
                    f"model: layer {index} ({layer.kind}) is the last recurrent layer, so its "
                    "output_dropout must be 0 (a Dropout after it is a head layer)"
                )

    def check_readout(self) -> None:
        last = self.layers[-1]
        derived = "sequence" if last.return_sequences else "final"
        if self.readout is None:
            object.__setattr__(self, "readout", derived)  # frozen: set once, here
            return
        check_choice(self.readout, "readout", READOUTS, "model: ")
        if (self.readout == "final") == last.return_sequences:
            raise SpecError(
                f"model: readout {self.readout!r} needs the last layer's return_sequences="
                f"{self.readout != 'final'}, got {last.return_sequences}"
            )
        if self.readout == "last_step" and not last.bidirectional:
            raise SpecError(
                "model: readout 'last_step' is for a bidirectional last layer (for one direction "
                "the last step is the final state: use readout 'final')"
            )

    @property
    def masked(self) -> bool:
        """Whether the front masks steps (Masking, or an Embedding with mask_zero)."""
        return self.front is not None and self.front.masks

    @property
    def embedded(self) -> bool:
        """Whether inputs are token ids read by an Embedding."""
        return isinstance(self.front, EmbeddingSpec)

    def input_size(self, layer_index: int) -> int:
        """Input features of recurrent layer `layer_index` (the front's output for layer 0)."""
        if layer_index == 0:
            return self.front.output_size(self.features) if self.front else self.features
        return self.layers[layer_index - 1].output_size

    @property
    def readout_size(self) -> int:
        """Features the readout hands to the head (per step for readout "sequence")."""
        return self.layers[-1].output_size

    def head_input_size(self, index: int) -> int:
        """Features entering head layer `index`; index len(head_layers) is the final Dense."""
        size = self.readout_size
        for layer in self.head_layers[:index]:
            size = layer.output_size(size)
        return size

    @property
    def output_shape(self) -> tuple[int, ...]:
        """Per-sample output shape: (head units,) or (time_steps, head units) for sequences."""
        if self.readout == "sequence":
            return (self.time_steps, self.head.units)
        return (self.head.units,)

    def describe(self) -> str:
        """One line naming every layer, e.g. "masking(0.0) -> lstm(50, seq) -> dropout(0.2) ->
        lstm(50) -> dense(1, linear) [float32, (12, 1)]", for messages and report labels."""
        parts = [] if self.front is None else [_describe_front(self.front)]
        for layer in self.layers:
            options = [str(layer.units)]
            if layer.kind == "simple" and layer.activation != "tanh":
                options.append(layer.activation)
            if layer.kind == "gru" and not layer.reset_after:
                options.append("reset_after=False")
            if layer.bidirectional:
                options.append("bidirectional")
            options += [f"{name}={getattr(layer, name):g}" for name in DROPOUT_FIELDS[:2]]
            options = [option for option in options if not option.endswith("=0")]
            if layer.return_sequences:
                options.append("seq")
            parts.append(f"{layer.kind}({', '.join(options)})")
            if layer.output_dropout:
                parts.append(f"dropout({layer.output_dropout:g})")
        if self.readout == "last_step":
            parts.append("last step")
        for layer in (*self.head_layers, self.head):
            parts.append(_describe_head_layer(layer))
        return f"{' -> '.join(parts)} [{self.dtype}, ({self.time_steps}, {self.features})]"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form; parts at their defaults are left out, so older specs read back alike."""
        data: dict[str, Any] = {
            "time_steps": self.time_steps,
            "features": self.features,
            "layers": [layer.to_dict() for layer in self.layers],
            "head": asdict(self.head),
            "dtype": self.dtype,
        }
        if self.front is not None:
            data["front"] = self.front.to_dict()
        if self.readout == "last_step":  # "final" and "sequence" follow from the layers
            data["readout"] = self.readout
        if self.head_layers:
            data["head_layers"] = [layer.to_dict() for layer in self.head_layers]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any) -> ModelSpec:
        kwargs = from_mapping(cls, data, "model spec: ")
        for key in ("time_steps", "features", "layers"):
            if key not in kwargs:
                raise SpecError(f"model spec: missing key {key!r}")
        if not isinstance(kwargs["layers"], list):
            raise SpecError("model spec: 'layers' must be a list")
        layers = []
        for index, layer in enumerate(kwargs["layers"]):
            layer_kwargs = from_mapping(RecurrentLayerSpec, layer, f"model spec layer {index}: ")
            try:
                layers.append(RecurrentLayerSpec(**layer_kwargs))
            except TypeError as error:  # a required key is missing
                raise SpecError(f"model spec layer {index}: {error}") from None
        kwargs["layers"] = tuple(layers)
        if "head" in kwargs:
            kwargs["head"] = DenseSpec(**from_mapping(DenseSpec, kwargs["head"], "model head: "))
        if kwargs.get("front") is not None:
            kwargs["front"] = tagged_from_dict(kwargs["front"], FRONT_TYPES, "model front: ")
        if "head_layers" in kwargs:
            if not isinstance(kwargs["head_layers"], list):
                raise SpecError("model spec: 'head_layers' must be a list")
            kwargs["head_layers"] = tuple(
                tagged_from_dict(layer, HEAD_LAYER_TYPES, f"model head layer {index}: ")
                for index, layer in enumerate(kwargs["head_layers"])
            )
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


def _describe_front(front: FrontSpec) -> str:
    if isinstance(front, EmbeddingSpec):
        return f"embedding({front.vocab}, {front.dim}{', mask_zero' if front.mask_zero else ''})"
    return f"masking({front.mask_value:g})"


def _describe_head_layer(layer: HeadLayerSpec) -> str:
    if isinstance(layer, DenseSpec):
        return f"dense({layer.units}, {layer.activation})"
    if isinstance(layer, DropoutSpec):
        return f"dropout({layer.rate:g})"
    return f"{layer.type}(epsilon={layer.epsilon:g})"


def first_difference(model_spec: ModelSpec, weights_spec: object) -> str | None:
    """Where the spec weights were made for parts from a model's spec (None when equal).

    Used by both impls' `set_canonical` so a misfit names the field or layer at fault.
    """
    if model_spec == weights_spec:
        return None
    if not isinstance(weights_spec, ModelSpec):
        return f"weights carry no ModelSpec (got {type(weights_spec).__name__})"
    for name in ("time_steps", "features", "dtype", "front", "readout", "head_layers", "head"):
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
