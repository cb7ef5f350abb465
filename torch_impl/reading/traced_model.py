"""A user's module, traced (`torch_impl.reading.traced`), as a ModelSpec with canonical weights.

`trace_module` turns what the traced forward reads into the grammar's spec and copies every
tensor through the translator of its layer kind (`torch_impl.translators`, the one place
torch's layouts are written down): a multi-layer nn.LSTM is read one layer at a time through
the translators' `layer_view`, and tensors a module lacks (bias=False, an affine-free
LayerNorm) are the values that compute the same (zeros, ones). It also runs the user's own
module as the traced forward expects its inputs (time-major where it is), and records the
outputs of every part of the model for `compare` to say where two computations first part.
This is the one route from a live module to canonical weights: what the forward does is read,
never guessed from the modules it holds.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch
from torch import fx, nn

from shared.errors import ModelFileError, SpecError
from shared.grammar import DenseSpec, EmbeddingSpec
from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import ModelSpec
from shared.weights import CanonicalWeights
from torch_impl.common import evaluating, module_dtype, torch_dtype
from torch_impl.reading.traced import read, trace
from torch_impl.reading.traced_values import Pipe
from torch_impl.translators import for_spec, layer_view

_KIND = {nn.RNN: "simple", nn.LSTM: "lstm", nn.GRU: "gru"}


@dataclass
class Part:
    """One part of the model whose output can be compared: label, node, spec index."""

    label: str
    node: str
    kind: str  # "layer" (index of its last spec layer), "readout", "head" (head layer index)
    index: int = 0
    time_major: bool = False


@dataclass
class TracedModel:
    """What a user's forward computes, in the grammar's terms."""

    weights: CanonicalWeights
    graph: fx.GraphModule
    input_time_major: bool
    output_time_major: bool
    parts: list[Part] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _head_view(module: nn.Module, dtype: str) -> SimpleNamespace:
    """A head module's tensors, with ones and zeros where the module has none (bias=False,
    an affine-free LayerNorm or BatchNorm1d)."""
    if module.weight is not None:
        size = module.weight.shape[0]
    elif getattr(module, "running_mean", None) is not None:
        size = module.running_mean.shape[0]
    else:
        size = module.normalized_shape[0]
    names = ("weight", "bias", "running_mean", "running_var")
    view = {name: getattr(module, name, None) for name in names}
    fill = {"weight": torch.ones, "bias": torch.zeros}
    for name, make in fill.items():
        if view[name] is None:
            view[name] = make(size, dtype=torch_dtype(dtype))
    return SimpleNamespace(**view)


def _recurrent_specs(pipe: Pipe) -> tuple[list[RecurrentLayerSpec], list[Part]]:
    layers, parts = [], []
    for use in pipe.recurrent:
        module = use.module
        kind = _KIND[type(module)]
        for layer in range(module.num_layers):
            between = module.dropout if layer < module.num_layers - 1 else use.dropout_after
            layers.append(
                RecurrentLayerSpec(
                    kind,
                    module.hidden_size,
                    activation=module.nonlinearity if kind == "simple" else "tanh",
                    return_sequences=True,
                    bidirectional=module.bidirectional,
                    output_dropout=float(between),
                )
            )
        first, last = len(layers) - module.num_layers, len(layers) - 1
        span = f"layer {last}" if first == last else f"layers {first}-{last}"
        label = f"self.{use.name} (spec {span})"
        parts.append(Part(label, use.node, "layer", len(layers) - 1, not module.batch_first))
    return layers, parts


def _spec(pipe: Pipe, time_steps: int, dtype: str) -> tuple[ModelSpec, list[Part]]:
    layers, parts = _recurrent_specs(pipe)
    if not pipe.head or not isinstance(pipe.head[-1].spec, DenseSpec):
        raise ModelFileError(
            "the forward must end in an nn.Linear (the grammar's final Dense), optionally with "
            f"an activation; it ends in {pipe.head[-1].spec.type if pipe.head else 'the readout'}"
        )
    if pipe.readout != "sequence":
        layers[-1] = dataclasses.replace(layers[-1], return_sequences=False)
    if pipe.readout == "last_step":
        layers[-1] = dataclasses.replace(layers[-1], return_sequences=True)
    layers[-1] = dataclasses.replace(layers[-1], output_dropout=0.0)
    front = None
    features = pipe.recurrent[0].module.input_size
    if pipe.embedding is not None:
        embedding = pipe.embedding[1]
        front, features = EmbeddingSpec(embedding.num_embeddings, embedding.embedding_dim), 1
    try:
        spec = ModelSpec(
            time_steps,
            features,
            tuple(layers),
            pipe.head[-1].spec,
            dtype,
            front=front,
            readout=pipe.readout,
            head_layers=tuple(h.spec for h in pipe.head[:-1]),
        )
    except SpecError as error:
        raise ModelFileError(f"the traced forward is outside the grammar: {error}") from None
    time_major = pipe.time_major and pipe.readout == "sequence"
    parts.append(Part(f"readout ({pipe.readout})", pipe.readout_node, "readout", 0, time_major))
    for index, head in enumerate(pipe.head[:-1]):
        parts.append(Part(f"head layer {index} ({head.spec.type})", head.node, "head", index))
    return spec, parts


def _weights(spec: ModelSpec, pipe: Pipe) -> CanonicalWeights:
    layers: list[Any] = []
    translator = for_spec(spec.layers[0])
    for use in pipe.recurrent:
        for layer in range(use.module.num_layers):
            view = layer_view(use.module, layer)
            layers.append(translator.to_canonical(view, spec.layers[len(layers)]))
    front = {}
    if pipe.embedding is not None:
        front = for_spec(spec.front).to_canonical(pipe.embedding[1], spec.front)
    arrays = [
        for_spec(head.spec).to_canonical(_head_view(head.module, spec.dtype), head.spec)
        if head.module
        else {}
        for head in pipe.head
    ]
    final = arrays.pop()
    return CanonicalWeights(spec, layers, final["W"], final["b"], front, arrays).validate()


def trace_module(module: nn.Module, time_steps: int = 12) -> TracedModel:
    """Trace a user's module and read it into a spec and canonical weights (its dtype).

    Args:
        module: any nn.Module (a LightningModule included); traced in eval mode.
        time_steps: window length of the spec (the forward does not fix it).

    Raises:
        ModelFileError: naming the node outside the grammar, a branch, or mixed dtypes.
    """
    if not isinstance(module, nn.Module):
        raise ModelFileError(f"expected a torch nn.Module, got {type(module).__name__}")
    dtype = module_dtype(module)
    graph = trace(module)
    pipe, _ = read(graph)
    if not pipe.recurrent:
        raise ModelFileError(f"{type(module).__name__}: the forward runs no nn.RNN/LSTM/GRU")
    spec, parts = _spec(pipe, time_steps, dtype)
    weights = _weights(spec, pipe)
    output_time_major = pipe.time_major and spec.readout == "sequence"
    notes = [f"forward read by torch.fx: {spec.describe()}"]
    if pipe.input_time_major:
        notes.append("your forward takes (time, batch, features); the Keras model (batch, ...)")
    return TracedModel(weights, graph, pipe.input_time_major, output_time_major, parts, notes)


def _user_inputs(traced: TracedModel, X: np.ndarray) -> torch.Tensor:
    spec = traced.weights.spec
    inputs = torch.from_numpy(np.ascontiguousarray(X))
    inputs = inputs.long() if spec.embedded else inputs.to(torch_dtype(spec.dtype))
    return inputs.transpose(0, 1) if traced.input_time_major else inputs


def _numpy(value: Any, time_major: bool) -> np.ndarray:
    value = value[0] if isinstance(value, tuple) else value  # a recurrent module: its `out`
    value = value.transpose(0, 1) if time_major else value
    return value.detach().cpu().numpy()


def traced_outputs(traced: TracedModel, module: nn.Module, X: np.ndarray) -> np.ndarray:
    """The user's own module on X (batch-major numpy; token ids for an Embedding), in eval
    mode without gradients; outputs batch-major. Its training flag is restored afterwards."""
    with evaluating(module):
        outputs = module(_user_inputs(traced, X))
    return _numpy(outputs, traced.output_time_major)


def module_outputs(module: nn.Module, X: np.ndarray) -> np.ndarray:
    """Any user module's outputs for numpy inputs X (cast to its dtype), in eval mode without
    gradients, for a forward the reader cannot trace; a tuple output gives its first element.
    The module's training flag is restored afterwards."""
    parameter = next(module.parameters(), None)
    dtype = parameter.dtype if parameter is not None else torch.float32
    with evaluating(module):
        outputs = module(torch.from_numpy(np.ascontiguousarray(X)).to(dtype))
    return _numpy(outputs, False)


def traced_parts(traced: TracedModel, X: np.ndarray) -> dict[tuple[str, int], np.ndarray]:
    """Each part's output in the traced forward ((kind, index) -> batch-major array, see
    `Part`), from fx's interpreter over the user's own modules (eval mode; restored after)."""
    wanted = {part.node: part for part in traced.parts}
    found: dict[tuple[str, int], np.ndarray] = {}

    class _Recorder(fx.Interpreter):
        def run_node(self, node: fx.Node) -> Any:
            value = super().run_node(node)
            if node.name in wanted:
                part = wanted[node.name]
                found[(part.kind, part.index)] = _numpy(value, part.time_major)
            return value

    with evaluating(traced.graph) as graph:
        _Recorder(graph).run(_user_inputs(traced, X))
    return found
