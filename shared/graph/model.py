"""The model graph: named inputs, nodes in topological order, named outputs; JSON both ways.

    inputs   GraphInput(name, kind "floats" (time, features) | "tokens" (time,) | "lengths" (),
             time None=free; lengths: one whole number per sample, read by length_mask nodes)
    nodes    Node(name, kind: a NodeKind, inputs: references (node or input name, output index))
    outputs  references

`ModelGraph` validates on construction: names unique and safe for weight keys, references to
earlier nodes only, every node's input shapes and masks fitting its kind, every node used. Each
failure is a SpecError naming the node. It infers every value's per-sample shape and whether
it carries a mask (`shapes`, `masks`), which the weights, the reference and both impls read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from shared.errors import SpecError
from shared.graph import layers, recurrent, shape_ops  # noqa: F401 (registers the node kinds)
from shared.graph.base import NodeKind, Shape, kind_from_dict
from shared.validation import check_choice

INPUT_KINDS = ("floats", "tokens", "lengths")
DTYPES = ("float32", "float64")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def _check_name(name: Any, what: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise SpecError(
            f"{what} name {name!r} must start with a letter or _ and hold only letters, digits, "
            "_, . and -"
        )


@dataclass(frozen=True)
class GraphInput:
    """One model input: floats (batch, time, features), token ids (batch, time) or sequence
    lengths (batch,), the way torch users feed padded batches."""

    name: str
    kind: str = "floats"
    time_steps: int | None = None
    features: int = 1

    def __post_init__(self) -> None:
        _check_name(self.name, "input")
        where = f"input {self.name!r}: "
        check_choice(self.kind, "kind", INPUT_KINDS, where)
        if self.time_steps is not None and (
            not isinstance(self.time_steps, int) or self.time_steps < 1
        ):
            raise SpecError(
                f"{where}time_steps must be None (free) or >= 1, got {self.time_steps!r}"
            )
        if not isinstance(self.features, int) or self.features < 1:
            raise SpecError(f"{where}features must be >= 1, got {self.features!r}")
        if self.kind == "tokens" and self.features != 1:
            raise SpecError(f"{where}token ids have one id per step: features must be 1")
        if self.kind == "lengths" and (self.features != 1 or self.time_steps is not None):
            raise SpecError(f"{where}lengths are one number per sample: features 1, no time")

    @property
    def shape(self) -> Shape:
        if self.kind == "lengths":
            return ()
        if self.kind == "tokens":
            return (self.time_steps,)
        return (self.time_steps, self.features)


@dataclass(frozen=True)
class Ref:
    """Output `output` of the node (or input) called `node`."""

    node: str
    output: int = 0

    def __str__(self) -> str:
        return self.node if self.output == 0 else f"{self.node}[{self.output}]"


@dataclass(frozen=True)
class Node:
    name: str
    kind: NodeKind
    inputs: tuple[Ref, ...]

    def describe(self) -> str:
        return f"{self.name} = {self.kind.describe()}({', '.join(map(str, self.inputs))})"


@dataclass(frozen=True)
class ModelGraph:
    """A whole model: see the module docstring. Frozen; equal graphs compute the same."""

    inputs: tuple[GraphInput, ...]
    nodes: tuple[Node, ...]
    outputs: tuple[Ref, ...]
    dtype: str = "float32"
    _shapes: dict[str, list[Shape]] = field(init=False, repr=False, compare=False)
    _masks: dict[str, list[bool]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_choice(self.dtype, "dtype", DTYPES, "graph: ")
        if not self.inputs or not self.nodes or not self.outputs:
            raise SpecError("graph: needs at least one input, one node and one output")
        shapes: dict[str, list[Shape]] = {}
        masks: dict[str, list[bool]] = {}
        for graph_input in self.inputs:
            if graph_input.name in shapes:
                raise SpecError(f"graph: input name {graph_input.name!r} is used twice")
            shapes[graph_input.name], masks[graph_input.name] = [graph_input.shape], [False]
        used: set[str] = set()
        for node in self.nodes:
            _check_name(node.name, "node")
            if node.name in shapes:
                raise SpecError(f"graph: node name {node.name!r} is used twice")
            in_shapes = [self._resolve(ref, shapes, node.name) for ref in node.inputs]
            arity = type(node.kind).arity
            if arity is not None and len(node.inputs) != arity:
                raise SpecError(
                    f"node {node.name!r}: takes {arity} input(s), got {len(node.inputs)}"
                )
            if not node.inputs:
                raise SpecError(f"node {node.name!r}: has no inputs")
            in_masks = [masks[ref.node][ref.output] for ref in node.inputs]
            try:
                shapes[node.name] = node.kind.output_shapes(in_shapes)
                masks[node.name] = node.kind.mask_out(in_shapes, in_masks)
                node.kind.weight_shapes(in_shapes)
            except SpecError as error:
                raise SpecError(f"node {node.name!r} ({node.kind.type}): {error}") from None
            used.update(ref.node for ref in node.inputs)
        for ref in self.outputs:
            self._resolve(ref, shapes, "graph outputs")
            used.add(ref.node)
        unused = [n.name for n in (*self.inputs, *self.nodes) if n.name not in used]
        if unused:
            raise SpecError(f"graph: {', '.join(map(repr, unused))} feed(s) nothing")
        object.__setattr__(self, "_shapes", shapes)  # frozen: derived once, here
        object.__setattr__(self, "_masks", masks)

    @staticmethod
    def _resolve(ref: Ref, shapes: dict[str, list[Shape]], user: str) -> Shape:
        if not isinstance(ref, Ref):
            raise SpecError(f"{user}: an input reference must be a Ref, got {ref!r}")
        if ref.node not in shapes:
            raise SpecError(f"{user}: reads {ref.node!r}, which is not an earlier node or input")
        if not 0 <= ref.output < len(shapes[ref.node]):
            raise SpecError(
                f"{user}: reads output {ref.output} of {ref.node!r}, which has "
                f"{len(shapes[ref.node])}"
            )
        return shapes[ref.node][ref.output]

    def shape(self, ref: Ref) -> Shape:
        """Per-sample shape of a value (None: a free time axis)."""
        return self._shapes[ref.node][ref.output]

    def masked(self, ref: Ref) -> bool:
        """Whether a value carries a (batch, time) mask."""
        return self._masks[ref.node][ref.output]

    def input_shapes(self, node: Node) -> list[Shape]:
        return [self.shape(ref) for ref in node.inputs]

    def weight_shapes(self, node: Node) -> dict[str, tuple[int, ...]]:
        return node.kind.weight_shapes(self.input_shapes(node))

    @cached_property
    def by_name(self) -> dict[str, Node]:
        return {node.name: node for node in self.nodes}

    @property
    def output_shapes(self) -> list[Shape]:
        return [self.shape(ref) for ref in self.outputs]

    @property
    def free_time(self) -> bool:
        """Whether some input's time axis is free (any length >= 1 runs)."""
        return any(i.time_steps is None and i.kind != "lengths" for i in self.inputs)

    @property
    def masks_anywhere(self) -> bool:
        return any(any(flags) for flags in self._masks.values())

    def describe(self) -> str:
        """One line per node, for messages and the port summary."""
        lines = [f"input {i.name}: {i.kind} {i.shape}" for i in self.inputs]
        lines += [node.describe() for node in self.nodes]
        lines.append(f"outputs: {', '.join(map(str, self.outputs))} [{self.dtype}]")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "graph",
            "dtype": self.dtype,
            "inputs": [vars(graph_input).copy() for graph_input in self.inputs],
            "nodes": [
                {
                    "name": n.name,
                    **n.kind.to_dict(),
                    "inputs": [[r.node, r.output] for r in n.inputs],
                }
                for n in self.nodes
            ],
            "outputs": [[ref.node, ref.output] for ref in self.outputs],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any) -> ModelGraph:
        if not isinstance(data, dict) or data.get("format") != "graph":
            raise SpecError('model graph: expected a JSON object with "format": "graph"')
        unknown = set(data) - {"format", "dtype", "inputs", "nodes", "outputs"}
        if unknown:
            raise SpecError(f"model graph: unknown key(s) {sorted(unknown)}")
        for key in ("inputs", "nodes", "outputs"):
            if not isinstance(data.get(key), list):
                raise SpecError(f"model graph: {key!r} must be a list")
        inputs = tuple(_input_from(item, index) for index, item in enumerate(data["inputs"]))
        nodes = []
        for index, item in enumerate(data["nodes"]):
            where = f"model graph node {index}" + (
                f" ({item.get('name')!r})" if isinstance(item, dict) else ""
            )
            if not isinstance(item, dict):
                raise SpecError(f"{where}: expected a JSON object")
            kind = kind_from_dict(item, f"{where}: ")
            nodes.append(Node(item.get("name"), kind, _refs(item.get("inputs"), where)))
        outputs = _refs(data["outputs"], "model graph outputs")
        return cls(inputs, tuple(nodes), outputs, data.get("dtype", "float32"))

    @classmethod
    def from_json(cls, text: str) -> ModelGraph:
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as error:
            raise SpecError(f"model graph: not valid JSON ({error})") from None
        return cls.from_dict(data)


def _input_from(item: Any, index: int) -> GraphInput:
    if not isinstance(item, dict) or set(item) - {"name", "kind", "time_steps", "features"}:
        raise SpecError(f"model graph input {index}: expected name, kind, time_steps, features")
    try:
        return GraphInput(**item)
    except TypeError as error:
        raise SpecError(f"model graph input {index}: {error}") from None


def _refs(items: Any, where: str) -> tuple[Ref, ...]:
    if not isinstance(items, list):
        raise SpecError(f"{where}: inputs must be a list of [name, output] pairs")
    refs = []
    for item in items:
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not isinstance(item[0], str)
            or not isinstance(item[1], int)
        ):
            raise SpecError(f"{where}: a reference must be [name, output index], got {item!r}")
        refs.append(Ref(item[0], item[1]))
    return tuple(refs)


def same_graph(first: ModelGraph, second: ModelGraph) -> bool:
    """Whether two graphs compute the same, whatever the topological order of their nodes.

    A framework may list a model's layers in its own walk, not the order the graph was built
    in (Keras does), so a graph read back may list independent nodes in another order.
    """
    return (first.inputs, first.outputs, first.dtype) == (
        second.inputs,
        second.outputs,
        second.dtype,
    ) and first.by_name == second.by_name
