"""One translator per graph node kind: how to build its torch module and move its arrays.

Found from `BY_KIND` by the node kind's class (nobuco's pattern, and `torch_impl.translators`'s
for chains), so a new kind is one builder and one entry, never a branch in the model:

    kind         module (torch_impl.graph)        canonical <- torch
    embedding    layers.Embedding                 E = weight (vocab, dim)
    dense        layers.Dense                     W = weight.T (in, units), b = bias
    layer_norm   layers.LayerNorm                 gamma = weight, beta = bias
    batch_norm   layers.BatchNorm                 + mean = running_mean, variance = running_var
    conv1d       shape_ops.Conv1d                 W = weight permuted (kernel, in, filters), b
    recurrent    recurrent.GraphRecurrent (.rnn)  per direction and gate, as for chains:
                                                  W = weight_ih.T, U = weight_hh.T, b = bias_ih,
                                                  c = bias_hh (`torch_impl.translators.RECURRENT`)
    the rest     (no weights)

An array whose torch attribute is None (use_bias=False, center or scale off) is not the node's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from shared.graph import layers as kinds
from shared.graph import shape_ops as shape_kinds
from shared.graph.base import NodeKind, Shape
from shared.graph.recurrent import Recurrent
from shared.weights import DirectionWeights
from torch_impl import translators
from torch_impl.graph import layers, shape_ops
from torch_impl.graph.recurrent import GraphRecurrent
from torch_impl.translators import Pair, RecurrentTranslator, Translator, to_numpy

Arrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class Context:
    """What a builder knows of a node beyond its kind."""

    shapes: list[Shape]  # per-sample shapes of its inputs
    masked: list[bool]  # whether each input carries a mask
    dtype: torch.dtype
    loop: bool  # run recurrent nodes by the step loop even where torch's own would do
    prefix_masks: bool = False  # every mask of the graph comes from a lengths input

    @property
    def features(self) -> int:
        return int(self.shapes[0][-1])  # type: ignore[arg-type] - validated by the graph


class Tensors:
    """Whole tensors, some transposed: a chain translator restricted to what the module has."""

    def __init__(self, translator: Translator) -> None:
        self.translator = translator

    def _present(self, module: nn.Module) -> Translator:
        names = {
            name: entry
            for name, entry in self.translator.names.items()
            if getattr(module, entry[0]) is not None
        }
        return Translator(self.translator.kind, names)

    def to_canonical(self, module: nn.Module, kind: NodeKind) -> Arrays:
        return self._present(module).to_canonical(module, kind)

    def assignments(self, module: nn.Module, kind: NodeKind, arrays: Arrays) -> list[Pair]:
        return self._present(module).assignments(module, kind, arrays)


class ConvTensors:
    """conv1d: canonical W (kernel, in, filters) is nn.Conv1d's weight (filters, in, kernel)
    with its axes reversed; b is bias."""

    def to_canonical(self, module: nn.Module, kind: NodeKind) -> Arrays:
        arrays = {"W": to_numpy(module.weight.permute(2, 1, 0))}
        return arrays | ({"b": to_numpy(module.bias)} if module.bias is not None else {})

    def assignments(self, module: nn.Module, kind: NodeKind, arrays: Arrays) -> list[Pair]:
        pairs = [(module.weight, torch.from_numpy(np.ascontiguousarray(arrays["W"].transpose())))]
        if module.bias is not None:
            pairs.append((module.bias, torch.from_numpy(np.ascontiguousarray(arrays["b"]))))
        return pairs


class RecurrentTensors:
    """The chain's recurrent translator on the node's `.rnn`, arrays named
    `{direction}/{W|U|b|c}/{gate}`; no b, c where the module has no biases."""

    def _translator(self, module: GraphRecurrent) -> RecurrentTranslator:
        names = translators.RECURRENT.names
        has_bias = getattr(module.rnn, "bias_ih_l0", None) is not None
        return RecurrentTranslator(names=names if has_bias else names[:2])

    def to_canonical(self, module: GraphRecurrent, kind: Recurrent) -> Arrays:
        directions = self._translator(module).to_canonical(module.rnn, kind)
        return {
            f"{direction}/{param}/{gate}": array
            for direction, held in directions.items()
            for param in ("W", "U", "b", "c")
            for gate, array in held.param(param).items()
        }

    def assignments(self, module: GraphRecurrent, kind: Recurrent, arrays: Arrays) -> list[Pair]:
        directions = {}
        for direction in kind.directions:
            params = {
                param: {
                    gate: arrays[f"{direction}/{param}/{gate}"]
                    for gate in kind.gates
                    if f"{direction}/{param}/{gate}" in arrays
                }
                for param in ("W", "U", "b", "c")
            }
            directions[direction] = DirectionWeights(**params)
        return self._translator(module).assignments(module.rnn, kind, directions)


class NoArrays:
    def to_canonical(self, module: nn.Module, kind: NodeKind) -> Arrays:
        return {}

    def assignments(self, module: nn.Module, kind: NodeKind, arrays: Arrays) -> list[Pair]:
        return []


@dataclass(frozen=True)
class NodeTranslator:
    """A node kind's torch side: `build(kind, context)` and its arrays' mapping."""

    build: Callable[[NodeKind, Context], nn.Module]
    arrays: Tensors | ConvTensors | RecurrentTensors | NoArrays


_NONE = NoArrays()
_LAYER_NORM = Translator("layer_norm", {"gamma": ("weight", False), "beta": ("bias", False)})

BY_KIND: dict[type[NodeKind], NodeTranslator] = {
    kinds.Embedding: NodeTranslator(
        lambda k, c: layers.Embedding(k, c.dtype), Tensors(translators.EMBEDDING)
    ),
    kinds.Masking: NodeTranslator(lambda k, c: layers.Masking(k), _NONE),
    kinds.LengthMask: NodeTranslator(lambda k, c: layers.LengthMask(k), _NONE),
    kinds.Dense: NodeTranslator(
        lambda k, c: layers.Dense(k, c.features, c.dtype), Tensors(translators.DENSE)
    ),
    kinds.Activation: NodeTranslator(lambda k, c: layers.Activation(k), _NONE),
    kinds.Dropout: NodeTranslator(lambda k, c: layers.Noise(k), _NONE),
    kinds.LayerNorm: NodeTranslator(
        lambda k, c: layers.LayerNorm(k, c.features, c.dtype), Tensors(_LAYER_NORM)
    ),
    kinds.BatchNorm: NodeTranslator(
        lambda k, c: layers.BatchNorm(k, c.features, c.dtype), Tensors(translators.BATCH_NORM)
    ),
    Recurrent: NodeTranslator(
        lambda k, c: GraphRecurrent(k, c.features, c.masked[0], c.dtype, c.loop, c.prefix_masks),
        RecurrentTensors(),
    ),
    shape_kinds.GlobalPool: NodeTranslator(lambda k, c: shape_ops.GlobalPool(k), _NONE),
    shape_kinds.Flatten: NodeTranslator(lambda k, c: shape_ops.Flatten(), _NONE),
    shape_kinds.Repeat: NodeTranslator(lambda k, c: shape_ops.Repeat(k), _NONE),
    shape_kinds.Step: NodeTranslator(lambda k, c: shape_ops.Step(k), _NONE),
    shape_kinds.Merge: NodeTranslator(lambda k, c: shape_ops.Merge(k, c.shapes), _NONE),
    shape_kinds.Softmax: NodeTranslator(lambda k, c: shape_ops.Softmax(k, c.shapes), _NONE),
    shape_kinds.Dot: NodeTranslator(lambda k, c: shape_ops.Dot(k, c.shapes), _NONE),
    shape_kinds.Conv1D: NodeTranslator(
        lambda k, c: shape_ops.Conv1d(k, c.features, c.dtype), ConvTensors()
    ),
    shape_kinds.Pool1D: NodeTranslator(lambda k, c: shape_ops.Pool1d(k), _NONE),
    shape_kinds.Reduce: NodeTranslator(lambda k, c: shape_ops.Reduce(k, c.shapes), _NONE),
    shape_kinds.Permute: NodeTranslator(lambda k, c: shape_ops.Permute(k), _NONE),
}


def for_kind(kind: NodeKind) -> NodeTranslator:
    """The translator of a node kind.

    Raises:
        KeyError: naming the kind, if torch_impl has no translator for it.
    """
    try:
        return BY_KIND[type(kind)]
    except KeyError:
        raise KeyError(f"torch_impl has no translator for node kind {kind.type!r}") from None
