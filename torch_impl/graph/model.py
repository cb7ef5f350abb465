"""A model graph (`shared.graph.ModelGraph`) as a plain torch module that runs it: `GraphNet`.

A chain `RNNModel` can only stack recurrent layers; the models people write are small graphs
(pooling over time, merged branches, an encoder's states handed to a decoder). `GraphNet` holds
one module per node, in a ModuleDict under the node's name, each built by its kind's translator
(`torch_impl.graph.translators`), and runs the nodes in the graph's order, carrying Keras's masks
from node to node exactly where the graph says a value is masked.

    net = build_graph_model(graph, seed=0)
    outputs = graph_predict(net, {"ids": ids, "x": x})   # one array per graph output
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from shared.graph.layers import Embedding, Masking
from shared.graph.model import ModelGraph, Ref
from shared.graph.reference import graph_inputs
from torch_impl.common import evaluating, torch_dtype
from torch_impl.graph.translators import Context, for_kind


def module_key(name: str) -> str:
    """The ModuleDict key of a node: its name, with "." spelled %2E (torch forbids it) and a
    name that ModuleDict itself uses ("keys", "update", "train", ...) prefixed by "%"."""
    key = name.replace(".", "%2E")
    return f"%{key}" if hasattr(nn.ModuleDict, key) else key


def prefix_masks(graph: ModelGraph) -> bool:
    """Whether every mask of the graph keeps a prefix of each sequence: all are made from
    lengths (length_mask nodes), whose AND is a prefix too; Masking and Embedding(mask_zero)
    may mask any step."""
    return not any(
        isinstance(node.kind, Masking) or (isinstance(node.kind, Embedding) and node.kind.mask_zero)
        for node in graph.nodes
    )


class GraphNet(nn.Module):
    """Runs a ModelGraph: `forward(*inputs)`, one tensor per graph input in the graph's order
    (floats (batch, time, features) in the graph's dtype, token ids (batch, time) int64, lengths
    (batch,) int64); returns
    the output tensor, or a tuple when the graph has several outputs.

    Args:
        graph: the model graph.
        loop: run every recurrent node by the exact step loop, even where torch's fused module
            would compute it (tests hold the two routes equal).
    """

    def __init__(self, graph: ModelGraph, *, loop: bool = False) -> None:
        super().__init__()
        self.graph = graph
        dtype = torch_dtype(graph.dtype)
        self.nodes = nn.ModuleDict()
        for node in graph.nodes:
            context = Context(
                shapes=graph.input_shapes(node),
                masked=[graph.masked(ref) for ref in node.inputs],
                dtype=dtype,
                loop=loop,
                prefix_masks=prefix_masks(graph),
            )
            self.nodes[module_key(node.name)] = for_kind(node.kind).build(node.kind, context)

    def module(self, name: str) -> nn.Module:
        """The module of the node called `name`."""
        return self.nodes[module_key(name)]

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        graph = self.graph
        if len(inputs) != len(graph.inputs):
            raise TypeError(f"the graph takes {len(graph.inputs)} input(s), got {len(inputs)}")
        values: dict[str, list[torch.Tensor]] = {}
        masks: dict[str, list[torch.Tensor | None]] = {}
        for graph_input, tensor in zip(graph.inputs, inputs, strict=True):
            values[graph_input.name], masks[graph_input.name] = [tensor], [None]
        for node in graph.nodes:
            outputs, out_masks = self.module(node.name)(
                [values[ref.node][ref.output] for ref in node.inputs],
                [masks[ref.node][ref.output] for ref in node.inputs],
            )
            values[node.name] = outputs
            # the graph decides which values carry a mask (Keras's rules, shared.graph)
            masks[node.name] = [
                mask if graph.masked(Ref(node.name, index)) else None
                for index, mask in enumerate(out_masks)
            ]
        results = tuple(values[ref.node][ref.output] for ref in graph.outputs)
        return results[0] if len(results) == 1 else results


def build_graph_model(graph: ModelGraph, seed: int | None = None) -> GraphNet:
    """A GraphNet for `graph` with torch's default initialisation (seeded when `seed` is given,
    without touching the global random state)."""
    if seed is None:
        return GraphNet(graph)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return GraphNet(graph)


def read_graph(model: GraphNet) -> tuple[ModelGraph, dict[str, Any]]:
    """The graph a GraphNet runs and its module per node name."""
    if not isinstance(model, GraphNet):
        raise TypeError(f"expected a GraphNet, got {type(model).__name__}")
    return model.graph, {node.name: model.module(node.name) for node in model.graph.nodes}


def input_tensors(graph: ModelGraph, inputs: Any) -> list[torch.Tensor]:
    """The graph's inputs as tensors in graph order: floats in the graph's dtype, ids int64.

    Args:
        inputs: as `shared.graph.reference.graph_inputs` takes them (one array for a one-input
            graph, a sequence in input order, or arrays by input name).

    Raises:
        DataError: naming the input and the shape, value or count problem.
    """
    checked = graph_inputs(graph, inputs)
    return [torch.from_numpy(checked[graph_input.name]) for graph_input in graph.inputs]


def graph_predict(model: GraphNet, inputs: Any) -> list[np.ndarray]:
    """The graph's outputs on numpy inputs, in eval mode without gradients.

    Args:
        model: the GraphNet.
        inputs: as `shared.graph.reference.predict` takes them: one array for a one-input
            graph, a sequence in input order, or arrays by name; token ids (batch, time).

    Returns:
        One array per graph output.
    """
    tensors = input_tensors(model.graph, inputs)
    with evaluating(model):
        outputs = model(*tensors)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    return [output.numpy() for output in outputs]
