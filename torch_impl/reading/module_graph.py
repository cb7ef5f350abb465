"""`read_module_graph`: a user's nn.Module, traced, as a model graph with the module's own weights.

The chain reader (`torch_impl.trace_module`) covers a forward that is one pipe; models people
write pool, attend, merge branches and hand states on, which only a graph describes. This reads
the same fx trace into `shared.graph` (`torch_impl.reading.walk`), keeps only what feeds the
outputs, and returns the canonical weights with a `ModuleReading`: how the module takes its
input and gives its outputs (time-major or not), which fx node each graph node came from, and
the two runs compare needs: the module itself on graph inputs, and its value at each node.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import fx, nn

from shared.errors import ModelFileError, SpecError
from shared.graph.model import ModelGraph, Node, Ref
from shared.graph.recurrent import Recurrent
from shared.graph.weights import GraphWeights
from torch_impl.common import evaluating, module_dtype, torch_dtype
from torch_impl.reading.builder import INPUT, LENGTHS, Builder
from torch_impl.reading.tracing import trace_graph
from torch_impl.reading.values import Lengths, Tensor
from torch_impl.reading.walk import walk


@dataclass
class ModuleReading:
    """What compare needs beyond the weights: layouts, origins, and runs of the user's module."""

    graph_module: fx.GraphModule
    input_time_major: bool
    output_perms: list[tuple[int, ...]]
    probes: dict[str, tuple[str, tuple[int, ...]]]  # graph node -> (fx node, its torch layout)
    takes_lengths: bool = False  # forward(self, x, lengths)
    sorted_lengths: bool = False  # pack_padded_sequence(enforce_sorted=True): sort the batch

    def describe(self, graph: ModelGraph) -> str:
        """One line per graph node with the fx node it was read from."""
        origins = {node: fx_node for node, (fx_node, _) in self.probes.items()}
        lines = [f"input {INPUT}: " + ("time-major" if self.input_time_major else "batch-major")]
        lines += [
            f"{node.describe()}" + (f"  <- fx {origins[node.name]}" if node.name in origins else "")
            for node in graph.nodes
        ]
        return "\n".join(lines)

    def _input(self, graph: ModelGraph, inputs: Any) -> torch.Tensor:
        array = inputs[INPUT] if isinstance(inputs, dict) else inputs
        tensor = torch.from_numpy(np.ascontiguousarray(array))
        tokens = graph.inputs[0].kind == "tokens"
        tensor = tensor.long() if tokens else tensor.to(torch_dtype(graph.dtype))
        return tensor.transpose(0, 1) if self.input_time_major else tensor

    def _arguments(self, graph: ModelGraph, inputs: Any) -> tuple[torch.Tensor, ...]:
        """The forward's arguments: the sequence, then int64 lengths where it takes them."""
        if not self.takes_lengths:
            return (self._input(graph, inputs),)
        lengths = torch.from_numpy(np.asarray(inputs[LENGTHS], dtype=np.int64))
        return self._input(graph, inputs), lengths

    def _order(self, graph: ModelGraph, inputs: Any) -> np.ndarray | None:
        """The batch order by decreasing length, where the forward packs enforce_sorted=True
        (as its user sorts every batch), else None."""
        if not self.sorted_lengths:
            return None
        return np.argsort(-np.asarray(inputs[LENGTHS]), kind="stable")

    def run(self, module: nn.Module, graph: ModelGraph, inputs: Any) -> list[np.ndarray]:
        """The user's own module on graph inputs (eval mode, no gradients), batch-major; a
        forward that packs with enforce_sorted=True gets the batch sorted, its outputs put back
        in the batch's order."""
        order = self._order(graph, inputs)
        if order is not None:
            inputs = {name: np.asarray(array)[order] for name, array in inputs.items()}
        with evaluating(module):
            result = module(*self._arguments(graph, inputs))
        items = list(result) if isinstance(result, tuple | list) else [result]
        outputs = [
            _batch_major(item, perm) for item, perm in zip(items, self.output_perms, strict=True)
        ]
        if order is not None:
            outputs = [output[np.argsort(order)] for output in outputs]
        return outputs

    def node_outputs(self, graph: ModelGraph, inputs: Any) -> dict[str, list[np.ndarray]]:
        """Each probed graph node's value in the traced forward (batch-major)."""
        wanted = {fx_node: (node, perm) for node, (fx_node, perm) in self.probes.items()}
        found: dict[str, list[np.ndarray]] = {}

        class _Recorder(fx.Interpreter):
            def run_node(self, node: fx.Node) -> Any:
                value = super().run_node(node)
                if node.name in wanted and isinstance(value, torch.Tensor):
                    name, perm = wanted[node.name]
                    found[name] = [_batch_major(value, perm)]
                return value

        order = self._order(graph, inputs)
        if order is not None:
            inputs = {name: np.asarray(array)[order] for name, array in inputs.items()}
        with evaluating(self.graph_module):
            _Recorder(self.graph_module).run(*self._arguments(graph, inputs))
        if order is not None:
            found = {name: [value[np.argsort(order)]] for name, (value,) in found.items()}
        return found


def _batch_major(tensor: torch.Tensor, perm: tuple[int, ...]) -> np.ndarray:
    return np.transpose(tensor.detach().cpu().numpy(), np.argsort(perm))


def _used(nodes: list[Node], outputs: list[Ref]) -> list[Node]:
    """The nodes that feed an output, in order (a forward may compute what it never uses)."""
    needed = {ref.node for ref in outputs}
    kept = []
    for node in reversed(nodes):
        if node.name in needed:
            kept.append(node)
            needed.update(ref.node for ref in node.inputs)
    return kept[::-1]


def _stateless(nodes: list[Node], outputs: list[Ref]) -> list[Node]:
    """Recurrent nodes whose final states nothing reads return their sequence only."""
    refs = [*outputs, *(ref for node in nodes for ref in node.inputs)]
    read = {ref.node for ref in refs if ref.output > 0}
    return [
        dataclasses.replace(node, kind=dataclasses.replace(node.kind, return_state=False))
        if isinstance(node.kind, Recurrent) and node.name not in read
        else node
        for node in nodes
    ]


def read_module_graph(
    module: nn.Module, time_steps: int | None = None
) -> tuple[GraphWeights, ModuleReading]:
    """Read a user's module into a model graph with its own weights (never re-initialised).

    Args:
        module: any nn.Module whose forward takes floats (batch, time, features) or token ids
            (batch, time), time-major where its recurrent modules read it so, and optionally
            the sequences' lengths (batch,), read as a length mask (`reading.packing`).
        time_steps: fixes the time axis; needed where the forward needs it fixed (a flatten of
            (time * features), one step of a bidirectional sequence), free otherwise.

    Returns:
        The canonical weights (their graph inside) and the `ModuleReading`.

    Raises:
        ModelFileError: mixed dtypes, or (a GrammarError) naming the fx node, its op or module
            and the user's source line of the first thing the reader cannot port.
    """
    if not isinstance(module, nn.Module):
        raise ModelFileError(f"expected a torch nn.Module, got {type(module).__name__}")
    dtype = module_dtype(module)
    traced = trace_graph(module)
    builder = Builder(time_steps)
    outputs, values = walk(traced, builder)
    refs = [value.ref for value in outputs]
    output_node = next(node for node in traced.graph.nodes if node.op == "output")
    perms = [builder.perm(value, output_node) for value in outputs]
    nodes = _stateless(_used(builder.nodes, refs), refs)
    try:
        inputs = builder.graph_inputs(nodes)
        graph = ModelGraph(inputs, tuple(nodes), tuple(refs), dtype)
    except SpecError as error:
        raise ModelFileError(
            f"{type(module).__name__}: the graph read is invalid: {error}"
        ) from None
    kept = {node.name for node in nodes}
    arrays = {
        name: {key: array.astype(dtype) for key, array in held.items()}
        for name, held in builder.arrays.items()
        if name in kept
    }
    weights = GraphWeights(graph, arrays).validate()
    probes = {
        value.ref.node: (fx_name, builder.perm(value, output_node))
        for fx_name, value in values.items()
        if isinstance(value, Tensor)
        and value.ref.output == 0
        and value.ref.node in kept
        and builder.origins.get(value.ref.node) == fx_name
    }
    takes_lengths = any(isinstance(value, Lengths) for value in values.values())
    if takes_lengths and len(graph.inputs) == 1:
        raise ModelFileError(
            f"{type(module).__name__}: its forward takes lengths, but nothing it returns "
            "depends on them (pack_padded_sequence or out[torch.arange(B), lengths - 1] read them)"
        )
    reading = ModuleReading(
        traced, bool(builder.time_major), perms, probes, takes_lengths, builder.sorted_lengths
    )
    return weights, reading
