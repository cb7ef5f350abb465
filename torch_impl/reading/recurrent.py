"""The reader of nn.RNN, nn.LSTM and nn.GRU: one recurrent node per layer.

torch stacks layers and directions in one module; the graph has one recurrent node per layer
(each returning its sequence and final states, `Recurrent.return_state`), so `out` is the last
layer's sequence and h_n (c_n) are the layers' final states row by row, in torch's row order
(`values.Rows`). Initial states are None, zeros however built, or another module's final
states (`lstm2(x, (h1, c1))`), which become the nodes' initial-state inputs; anything else (a
learned or random h0) is refused, never dropped. Arrays are read by the chain's recurrent
translator (`torch_impl.translators.RECURRENT`) from a view of one layer's tensors.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from torch import fx, nn

from shared.graph.model import Ref
from shared.graph.recurrent import Recurrent
from torch_impl.reading import packing
from torch_impl.reading.builder import Builder
from torch_impl.reading.traced_values import GrammarError, where
from torch_impl.reading.values import Group, Packed, Rows, Tensor, Zeros
from torch_impl.translators import RECURRENT, RecurrentTranslator, layer_view

KINDS = {nn.RNN: "simple", nn.LSTM: "lstm", nn.GRU: "gru"}


def _kind(module: nn.Module, node: fx.Node) -> Recurrent:
    if getattr(module, "proj_size", 0):
        raise GrammarError(
            f"proj_size={module.proj_size}, which no Keras layer computes: {where(node)}"
        )
    kind = KINDS[type(module)]
    return Recurrent(
        kind,
        module.hidden_size,
        activation=module.nonlinearity if kind == "simple" else "tanh",
        use_bias=bool(module.bias),
        return_sequences=True,
        return_state=True,
        bidirectional=module.bidirectional,
        zero_output_for_mask=module.bidirectional,  # no mask reaches it; the pair's rule
    )


def _arrays(module: nn.Module, layer: int, kind: Recurrent) -> dict[str, np.ndarray]:
    """Layer `layer`'s canonical arrays, `{direction}/{W|U|b|c}/{gate}`."""
    names = RECURRENT.names if kind.use_bias else RECURRENT.names[:2]
    directions = RecurrentTranslator(names=names).to_canonical(layer_view(module, layer), kind)
    return {
        f"{direction}/{param}/{gate}": array
        for direction, held in directions.items()
        for param in ("W", "U", "b", "c")
        for gate, array in held.param(param).items()
    }


def _initial(state: Any, module: nn.Module, node: fx.Node) -> list[tuple[Ref, ...]] | None:
    """Per layer, the initial-state refs (h, c per direction, forward first), or None (zeros).

    Raises:
        GrammarError: an initial state that is neither zeros nor another module's states.
    """
    parts = state.items if isinstance(state, Group) else state
    parts = tuple(parts) if isinstance(parts, tuple | list) else (parts,)
    if all(part is None or isinstance(part, Zeros) for part in parts):
        return None
    if not all(isinstance(part, Rows) and not part.batch_first for part in parts):
        raise GrammarError(
            f"initial state of self.{node.target} is not zeros (only None, zeros however built, "
            f"or another recurrent module's final states port): {where(node)}"
        )
    directions = 2 if module.bidirectional else 1
    if any(len(part.refs) != module.num_layers * directions for part in parts):
        raise GrammarError(f"initial state rows do not fit self.{node.target}: {where(node)}")
    layers = []
    for layer in range(module.num_layers):
        rows = range(layer * directions, (layer + 1) * directions)
        layers.append(tuple(part.refs[row] for row in rows for part in parts))
    return layers


def _sequence(source: Any, module: nn.Module, builder: Builder, node: fx.Node) -> Ref:
    """The graph sequence (batch, time, features) the module reads."""
    if isinstance(source, Packed):
        return packing.masked_sequence(source, module, builder, node)
    if not isinstance(source, Tensor):
        raise GrammarError(f"self.{node.target} reads no tensor of the model: {where(node)}")
    if source.short:
        raise GrammarError(f"self.{node.target} {packing.SHORT}: {where(node)}")
    wanted = (0, 1, 2) if module.batch_first else (1, 0, 2)
    if source.perm is None and builder.time_major is None:
        builder.time_major = not module.batch_first  # the module reads the input as given
    if source.ref.node == "x" and builder.input_kind is None:
        builder.bind_input("floats", module.input_size, node)
    return builder.arrange(source, wanted, node)


def read_recurrent(call: Any, builder: Builder) -> Group:
    """`out, h_n = self.lstm(x[, (h0, c0)])` as one node per layer; a packed sequence in, a
    packed sequence out (zeros past each length, as pad_packed_sequence gives them)."""
    module, node = call.module, call.node
    source = call.args[0]
    state = call.args[1] if len(call.args) > 1 else call.kwargs.get("hx")
    initial = _initial(state, module, node)
    kind, ref = _kind(module, node), _sequence(source, module, builder, node)
    packed = isinstance(source, Packed)
    if packed:
        kind = dataclasses.replace(kind, zero_output_for_mask=True)
    per = kind.states_per_direction
    h_rows, c_rows = [], []
    for layer in range(module.num_layers):
        inputs = [ref, *(initial[layer] if initial else ())]
        base = node.name if module.num_layers == 1 else f"{node.name}_l{layer}"
        name = builder.add(base, kind, inputs, node, _arrays(module, layer, kind))
        ref = Ref(name)
        for direction in range(len(kind.directions)):
            h_rows.append(Ref(name, 1 + direction * per))
            c_rows.append(Ref(name, 2 + direction * per))
    wanted = (0, 1, 2) if module.batch_first else (1, 0, 2)
    out: Any = Tensor(ref, wanted)
    if packed:  # a packed sequence out, packed with the lengths the input was
        out = Packed(Tensor(ref, (0, 1, 2)), masked=True, min_length=source.min_length)
    states = Group((Rows(tuple(h_rows)), Rows(tuple(c_rows)))) if per == 2 else Rows(tuple(h_rows))
    return Group((out, states))
