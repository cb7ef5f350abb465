"""What the walk over a traced forward knows: one value per graph node, and the refusal.

`torch_impl.reading.traced` reads a user's forward node by node; each node becomes a `Value` whose
`Pipe` records everything the tensor went through (embedding, recurrent modules, layout,
readout, head). `GrammarError` and `where` are the one way a node outside the grammar is
refused: in one line naming the node and the line of the forward it comes from. They live
apart so the readers of readouts (`torch_impl.reading.traced_readout`) and of head layers
(`torch_impl.reading.traced_head`) share them without importing the walk.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from torch import fx, nn

from shared.errors import ModelFileError


def where(node: fx.Node) -> str:
    """`call_function gt (node gt) at models.py:220: if out.mean() > 0:` for messages."""
    target = node.target
    name = f"self.{target}" if node.op == "call_module" else getattr(target, "__name__", target)
    text = f"{node.op} {name} (node {node.name})"
    lines = [line.strip() for line in node.meta.get("stack_trace", "").splitlines()]
    if len(lines) >= 2 and lines[0].startswith('File "'):  # the first frame is the forward's
        path, _, rest = lines[0][len('File "') :].partition('", line ')
        text += f" at {path.rsplit('/', 1)[-1]}:{rest.split(',')[0]}: {lines[1]}"
    return text


class GrammarError(ModelFileError):
    """A forward the grammar cannot express, naming the node at fault."""


@dataclass(frozen=True)
class RecurrentUse:
    """One live recurrent module as the forward uses it: its name, the module, its fx node, and
    `dropout_after` an nn.Dropout behind it (a state dict's modules are `KeyedModule`s)."""

    name: str
    module: nn.Module
    node: str
    dropout_after: float = 0.0


@dataclass(frozen=True)
class Head:
    """One op after the readout: its spec, the module holding its weights, the node it ends at."""

    spec: Any
    module: nn.Module | None
    node: str


@dataclass(frozen=True)
class Pipe:
    """Everything a tensor went through, from the input on (the model that computes it)."""

    embedding: tuple[str, nn.Module] | None = None
    recurrent: tuple[RecurrentUse, ...] = ()
    flipped: bool = False  # before the first recurrent module: transposed from the user's input
    time_major: bool = False  # after one: the sequence's axes are (time, batch, ...)
    input_time_major: bool = False
    scrambled: bool = False  # axes moved other than (0, 1) before the first recurrent module
    readout: str | None = None
    readout_node: str = ""
    head: tuple[Head, ...] = ()

    def add(self, **changes: Any) -> Pipe:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Value:
    """What a node is: role "tensor" (the model's main path), "zeros", "meta" (sizes, devices),
    "rec" (a recurrent module's output tuple), "state" (an LSTM's (h_n, c_n)), "h_n", "c_n",
    "row" (h_n[k]: layer `row[0]`, direction `row[1]` of the last module)."""

    role: str
    pipe: Pipe = field(default_factory=Pipe)
    row: tuple[int, int] | None = None
    node: str = ""  # for a row: the node that picked it (the readout, if features read it)
