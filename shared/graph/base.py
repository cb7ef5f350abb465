"""What every node kind of the model graph has in common, and the table that finds a kind by tag.

A node kind is a frozen dataclass (its options) with a JSON tag (`type`). It says, for the
per-sample shapes of its inputs (the batch axis left out; `None` is a free time axis):

    arity            how many inputs it takes (None: two or more, for merges)
    output_shapes    the per-sample shape of each output, or SpecError naming the misfit
    weight_shapes    its canonical arrays by name (row-vector layout, see `shared.graph.weights`)
    mask_out         which outputs carry a (batch, time) mask, given which inputs carry one

Masks follow Keras 3 (measured on 3.15): made by Embedding(mask_zero) and Masking; carried by
the layers with `supports_masking` (dense, activation, dropout, normalisations, softmax,
returning recurrent sequences, merges); consumed by recurrent layers and average pooling; dropped,
as Keras drops them, by every other kind (flatten, conv, max pooling, repeat vector, dot).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

from shared.errors import SpecError
from shared.validation import from_mapping

Shape = tuple[int | None, ...]  # per sample: (time, features), (features,), (time,) for ids


@dataclass(frozen=True)
class NodeKind:
    """Base of every node kind; subclasses are frozen dataclasses of their options."""

    type: ClassVar[str] = ""
    arity: ClassVar[int | None] = 1
    carries_mask: ClassVar[bool] = False  # passes its input's mask on unchanged (Keras)

    def output_shapes(self, inputs: list[Shape]) -> list[Shape]:
        raise NotImplementedError(type(self).__name__)

    def weight_shapes(self, inputs: list[Shape]) -> dict[str, tuple[int, ...]]:
        return {}

    def mask_out(self, inputs: list[Shape], masked: list[bool]) -> list[bool]:
        """Which outputs carry a mask; the base passes the first input's on or drops it."""
        outputs = len(self.output_shapes(inputs))
        return [self.carries_mask and masked[0]] * outputs

    def describe(self) -> str:
        """E.g. "lstm(8, relu, seq)" for messages and the README table."""
        options = [
            f"{field.name}={getattr(self, field.name)!r}"
            for field in fields(self)
            if getattr(self, field.name) != field.default
        ]
        return f"{self.type}({', '.join(options)})"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type} | asdict(self)


KINDS: dict[str, type[NodeKind]] = {}


def register(cls: type[NodeKind]) -> type[NodeKind]:
    """File a node kind under its tag (a class decorator), so JSON finds it by table."""
    if cls.type in KINDS:
        raise RuntimeError(f"node kind {cls.type!r} registered twice")
    KINDS[cls.type] = cls
    return cls


def kind_from_dict(data: Any, where: str) -> NodeKind:
    """The node kind a {"type": ..., options...} mapping names.

    Raises:
        SpecError: prefixed with `where`, for an unknown type, unknown keys or bad values.
    """
    if not isinstance(data, dict):
        raise SpecError(f"{where}expected a JSON object, got {type(data).__name__}")
    tag = data.get("type")
    if tag not in KINDS:
        raise SpecError(f"{where}type must be one of {', '.join(sorted(KINDS))}; got {tag!r}")
    cls = KINDS[tag]
    kwargs = from_mapping(cls, data, f"{where}({tag}) ", ignore=("type", "name", "inputs"))
    for key, value in kwargs.items():
        if isinstance(value, list):  # JSON arrays back to the tuples the dataclasses hold
            kwargs[key] = tuple(value)
    try:
        return cls(**kwargs)
    except SpecError as error:
        raise SpecError(f"{where}{error}") from None
    except TypeError as error:  # a required key is missing
        raise SpecError(f"{where}({tag}) {error}") from None


def need_rank(shape: Shape, ranks: tuple[int, ...], what: str) -> None:
    """SpecError unless the per-sample `shape` has one of `ranks` axes."""
    if len(shape) not in ranks:
        wanted = " or ".join(f"{rank}" for rank in ranks)
        raise SpecError(f"{what} needs inputs with {wanted} per-sample axes, got shape {shape}")


def axis_index(axis: int, rank: int, what: str) -> int:
    """A Keras axis (batch axis 0, negative from the end) as a per-sample index (0-based).

    Raises:
        SpecError: for the batch axis or an axis outside the (batch + rank) axes.
    """
    full = axis if axis >= 0 else axis + rank + 1
    if not 1 <= full <= rank:
        raise SpecError(f"{what}: axis {axis} is outside the per-sample axes 1..{rank}")
    return full - 1
