"""The model graph as the reader grows it: nodes, their shapes and arrays, the input's layout.

Readers (`torch_impl.reading.modules`, `.functions`) add nodes through `Builder.add`, which
checks the node against its kind's shapes at once, so a misfit is refused at the fx node that
caused it, with the user's line. `arrange` brings a value to the torch layout a consumer reads
(inserting a permute node where the user's tensor holds the graph value's axes in another
order); the input's layout (batch-major or time-major) is decided by the first consumer that
cares, as the chain reader decides it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from torch import fx

from shared.errors import SpecError
from shared.graph.base import NodeKind, Shape
from shared.graph.model import GraphInput, Node, Ref
from shared.graph.shape_ops import Permute
from torch_impl.reading.traced_values import GrammarError, where
from torch_impl.reading.values import Tensor, identity_perm

INPUT = "x"
LENGTHS = "lengths"  # the second input of a forward(self, x, lengths)


@dataclass
class Builder:
    """Nodes in topological order with their output shapes, arrays and fx origins."""

    time_steps: int | None
    nodes: list[Node] = field(default_factory=list)
    shapes: dict[str, list[Shape]] = field(default_factory=dict)
    arrays: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)  # graph node -> fx node
    input_kind: str | None = None  # "floats" | "tokens", set by the first reader
    features: int | None = None
    time_major: bool | None = None  # the user's input layout, set by the first reader
    masks: dict[str, list[bool]] = field(default_factory=dict)  # whether each value is masked
    sorted_lengths: bool = False  # pack_padded_sequence(enforce_sorted=True) somewhere

    def graph_input(self) -> GraphInput:
        return GraphInput(INPUT, self.input_kind or "floats", self.time_steps, self.features or 1)

    def graph_inputs(self, nodes: list[Node]) -> tuple[GraphInput, ...]:
        """The sequence, and the lengths where a kept node reads them."""
        read = any(ref.node == LENGTHS for node in nodes for ref in node.inputs)
        return (self.graph_input(), *((GraphInput(LENGTHS, "lengths"),) if read else ()))

    def masked(self, ref: Ref) -> bool:
        """Whether a value carries a (batch, time) mask (a length mask reaches it)."""
        return ref.node in self.masks and self.masks[ref.node][ref.output]

    def bind_input(self, kind: str, features: int, node: fx.Node) -> None:
        """The first consumer of the raw input says what it holds (ids or floats of F)."""
        if self.input_kind is None:
            self.input_kind, self.features = kind, features
        elif (self.input_kind, self.features) != (kind, features):
            raise GrammarError(
                f"reads the input as {kind} of {features} features, an earlier node as "
                f"{self.input_kind} of {self.features}: {where(node)}"
            )

    def shape(self, ref: Ref, node: fx.Node) -> Shape:
        if ref.node == LENGTHS:
            return ()
        if ref.node == INPUT:  # floats of features not yet known until a layer says
            return self.graph_input().shape if self.input_kind else (self.time_steps, None)
        return self.shapes[ref.node][ref.output]

    def rank(self, value: Tensor, node: fx.Node) -> int:
        """Torch rank of a value (the batch axis included)."""
        return 1 + len(self.shape(value.ref, node))

    def perm(self, value: Tensor, node: fx.Node) -> tuple[int, ...]:
        """The value's torch layout; an undecided input layout becomes batch-major here."""
        if value.perm is not None:
            return value.perm
        if self.time_major is None:
            self.time_major = False
        rank = self.rank(value, node)
        return (1, 0, *range(2, rank)) if self.time_major else identity_perm(rank)

    def name(self, base: str) -> str:
        """A fresh graph node name from an fx node's name."""
        candidate, count = base, 1
        while candidate in self.shapes or candidate in (INPUT, LENGTHS):
            candidate, count = f"{base}_{count}", count + 1
        return candidate

    def add(
        self,
        base: str,
        kind: NodeKind,
        inputs: list[Ref],
        node: fx.Node,
        arrays: dict[str, np.ndarray] | None = None,
    ) -> str:
        """Append a node; its kind checks the input shapes now.

        Raises:
            GrammarError: the kind's SpecError, with the fx node and the user's line.
        """
        name = self.name(base)
        shapes = [self.shape(ref, node) for ref in inputs]
        try:
            outputs = kind.output_shapes(shapes)
            kind.weight_shapes(shapes)
            masks = kind.mask_out(shapes, [self.masked(ref) for ref in inputs])
        except SpecError as error:
            raise GrammarError(f"{kind.type} node from {error}: {where(node)}") from None
        self.nodes.append(Node(name, kind, tuple(inputs)))
        self.shapes[name] = outputs
        self.masks[name] = masks
        self.origins[name] = node.name
        if arrays:
            self.arrays[name] = arrays
        return name

    def arrange(self, value: Tensor, wanted: tuple[int, ...], node: fx.Node) -> Ref:
        """A graph value that the torch layout `wanted` holds as the user's tensor holds `value`.

        Raises:
            GrammarError: where the batch axis would move.
        """
        held = self.perm(value, node)
        if held == wanted:
            return value.ref
        inverse = {graph_axis: axis for axis, graph_axis in enumerate(wanted)}
        dims = tuple(held[inverse[axis]] for axis in range(len(wanted)))
        if dims[0] != 0:
            raise GrammarError(f"moves the batch axis, which no graph node does: {where(node)}")
        return Ref(self.add(f"{node.name}_permute", Permute(dims[1:]), [value.ref], node))
