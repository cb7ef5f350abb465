"""Read a user's torch forward instead of guessing it: torch.fx tracing mapped onto the grammar.

A state dict says which tensors exist, not how `forward` wires them: whether the head reads
`h_n`, `out[:, -1]` or every step, what runs between two nn.Linear layers. This module traces
the forward and reads the graph, node by node, into the model grammar of `shared.spec`:

    nn.Embedding                                   -> front EmbeddingSpec
    nn.RNN / nn.LSTM / nn.GRU (num_layers, bidirectional, batch_first, dropout), initial
      states None or zeros however built (torch.zeros(layers, x.size(0), H), x.new_zeros,
      .to(device), .detach(), ...)                -> recurrent layers (dropout between them)
    out[:, -1] (out[-1] when time-major), h_n[-1], h_n[k] of the last layer,
      torch.cat((h_n[-2], h_n[-1]), dim=1), the whole out   -> readout
    nn.Linear, then relu / tanh / sigmoid / gelu / ... (modules, functions or methods),
      nn.Dropout / F.dropout, nn.LayerNorm, nn.BatchNorm1d (eval statistics)  -> head layers
    x.transpose(0, 1) / x.permute(1, 0, 2) around time-major modules      -> the input layout

Anything else is refused in one line naming the node and the line of the forward it comes from.

Why torch.fx symbolic tracing, not torch.export: fx keeps torch's modules as leaves, so nn.LSTM,
nn.Linear or nn.LayerNorm arrive as one node each with the module itself at hand (its
num_layers, eps, weights), which is exactly the grammar's unit; it runs no real computation;
and a data-dependent branch stops it at the `if`, on the node that feeds it. torch.export would
decompose the same forward into aten ops (an LSTM into `aten.lstm` with flat weight lists) that
would have to be reassembled. torch.export is used where it is the right tool: writing programs
plain torch runs (`torch_impl.export`). One fx weakness is mended here: a recurrent module's
output becomes a real tuple of proxies, so `isinstance(h_n, tuple)` and unpacking behave as at
run time. `torch_impl.reading.traced_model` turns what is read into a spec and canonical weights.

This module traces and walks the graph; the readers of readouts
(`torch_impl.reading.traced_readout`) and of head layers (`torch_impl.reading.traced_head`)
interpret the nodes it hands them.
"""

from __future__ import annotations

import dataclasses
import inspect
import operator
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import fx, nn

from torch_impl.common import evaluating
from torch_impl.reading.traced_head import dropout_rate, head_step, is_dropout
from torch_impl.reading.traced_readout import (
    cat_readout,
    indexed,
    readout_value,
    row_readout,
    state_rows,
)
from torch_impl.reading.traced_values import GrammarError, Pipe, RecurrentUse, Value, where

RECURRENT_TYPES = (nn.RNN, nn.LSTM, nn.GRU)
# Methods and functions that leave a zeros tensor zeros, or a pipeline tensor as it is.
_KEEP_METHODS = {"to", "cuda", "cpu", "detach", "requires_grad_", "type_as", "float", "double"}
_IDENTITY_METHODS = {"contiguous", "clone", "detach"}
_ZEROS_FUNCTIONS = {torch.zeros, torch.zeros_like}
_META_METHODS = {"size", "dim"}


class _Tracer(fx.Tracer):
    """fx's tracer, with recurrent outputs as real tuples and branches refused by node."""

    def __init__(self) -> None:
        super().__init__()
        self.record_stack_traces = True

    def call_module(self, m: nn.Module, forward: Any, args: tuple, kwargs: dict) -> Any:
        if type(m) not in RECURRENT_TYPES:
            return super().call_module(m, forward, args, kwargs)
        proxy = self.create_proxy("call_module", self.path_of_module(m), args, kwargs)
        state = proxy[1]
        return proxy[0], (state[0], state[1]) if isinstance(m, nn.LSTM) else state

    def to_bool(self, obj: fx.Proxy) -> bool:
        raise GrammarError(f"a data-dependent branch (`if` on a traced tensor): {where(obj.node)}")

    def iter(self, obj: fx.Proxy) -> Any:
        raise GrammarError(f"iteration over a traced tensor: {where(obj.node)}")


def trace(module: nn.Module) -> fx.GraphModule:
    """The forward as an fx graph, traced in eval mode (so dropout reads as inference).

    Raises:
        ModelFileError: naming the node of a data-dependent branch, or what fx could not trace.
    """
    return fx.GraphModule(module, run_tracer(_Tracer(), module, _untraceable))


def run_tracer(
    tracer: fx.Tracer, module: nn.Module, refusal: Callable[[nn.Module, Exception], str]
) -> fx.Graph:
    """`tracer`'s graph of the forward in eval mode; what fx raises becomes one line, `refusal`'s.

    Raises:
        GrammarError: the tracer's own refusals as they are, any other failure in `refusal`'s words.
    """
    with evaluating(module):
        try:
            return tracer.trace(module)
        except GrammarError:
            raise
        except Exception as error:  # fx raises many kinds; the user gets one line
            raise GrammarError(refusal(module, error)) from None


# Constructs fx stops at with a message that names neither them nor the user's line (packing
# fails inside torch with "`__cuda_array_interface__` must be a dict"): (words in the source,
# what the refusal calls them).
_UNTRACEABLE = (
    (("pack_padded_sequence", "pack_sequence"), "packs its batch (pack_padded_sequence)"),
    (("Variable(",), "wraps a tensor in the legacy Variable(...)"),
)


def _untraceable(module: nn.Module, error: Exception) -> str:
    """One line for a forward fx could not trace: the construct and its source line where one
    is known, e.g. `Net: its forward packs its batch (pack_padded_sequence) at net.py:14:
    packed = pack_padded_sequence(...), which the chain reader cannot read`; the graph reader
    (torch_impl.reading.module_graph) reads it."""
    name = type(module).__name__
    try:
        lines, first = inspect.getsourcelines(type(module).forward)
        file = inspect.getsourcefile(type(module).forward) or "?"
    except (OSError, TypeError):
        lines, first, file = [], 0, "?"
    for offset, line in enumerate(lines):
        for words, construct in _UNTRACEABLE:
            if any(word in line for word in words):
                return (
                    f"{name}: its forward {construct} at {Path(file).name}:{first + offset}: "
                    f"{line.strip()}, which the chain reader cannot trace (the graph reader can)"
                )
    text = str(error).strip()
    first = text.splitlines()[0] if text else type(error).__name__
    return f"{name}: torch.fx cannot trace its forward ({first})"


def read(graph: fx.GraphModule) -> tuple[Pipe, str]:
    """Interpret the graph onto the grammar.

    Returns:
        The pipe of the forward's output and the name of the output's node.

    Raises:
        GrammarError: naming the first node outside the grammar.
    """
    values: dict[str, Value] = {}
    modules = dict(graph.named_modules())
    placeholders = 0
    for node in graph.graph.nodes:
        if node.op == "placeholder":
            placeholders += 1
            if placeholders > 1 and not node.args:
                raise GrammarError(f"forward takes more than one input: {where(node)}")
            values[node.name] = Value("tensor") if placeholders == 1 else Value("meta")
            continue
        if node.op == "output":
            result = node.args[0]
            if not isinstance(result, fx.Node) or values[result.name].role != "tensor":
                message = "forward must return one tensor of the main path"
                raise GrammarError(f"{message}: {where(node)}")
            return values[result.name].pipe, result.name
        if node.op == "get_attr":
            values[node.name] = Value("param")
            continue
        values[node.name] = _step(node, values, modules)
    raise GrammarError("the traced forward has no output")


def _arg(node: fx.Node, values: dict[str, Value], index: int = 0) -> Value:
    """The node's argument `index` as a value; h_n[k] read as features becomes the readout."""
    item = node.args[index] if index < len(node.args) else None
    if not isinstance(item, fx.Node):
        return Value("meta" if item is None or isinstance(item, int | float | str) else "other")
    value = values[item.name]
    if value.role == "row" and node.target is not torch.cat:
        return row_readout(value)
    return value


def _step(node: fx.Node, values: dict[str, Value], modules: dict[str, nn.Module]) -> Value:
    """The value of one call node; every other node is refused by name."""
    inputs = [values[n.name] for n in node.all_input_nodes]
    sizes_only = all(v.role == "meta" for v in inputs) and node.op != "call_module"
    if sizes_only and node.target not in _ZEROS_FUNCTIONS:
        return Value("meta")  # arithmetic on sizes: x.size(0) * 2, shape[0], getattr(x, ...)
    if node.op == "call_module":
        return _module_step(node, modules[node.target], values)
    if node.target is operator.getitem:
        return indexed(node, _raw(node, values))
    first = _arg(node, values)
    if node.target in _ZEROS_FUNCTIONS or (node.op == "call_method" and node.target == "new_zeros"):
        return Value("zeros")
    if first.role == "zeros" and node.op == "call_method" and node.target in _KEEP_METHODS:
        return Value("zeros")
    if (
        node.op == "call_method"
        and node.target in _META_METHODS
        or (node.target is getattr and node.args[1] in ("shape", "device", "dtype"))
    ):
        return Value("meta")
    if first.role == "param":  # a tensor of the module's own (h0 = self.h0.expand(...))
        return Value("param")
    if first.role == "h_n" and node.target == "squeeze" and state_rows(first.pipe) == 1:
        return Value("row", first.pipe, (0, 0), node.name)
    if first.role == "tensor":
        return _tensor_step(node, first.pipe, values)
    if node.target is torch.cat:
        return cat_readout(node, values)
    raise GrammarError(f"outside the grammar: {where(node)}")


def _refuse_state(module_name: str, state: Any, values: dict[str, Value]) -> None:
    parts = state if isinstance(state, tuple | list) else (state,)
    for part in parts:
        if part is None:
            continue
        value = values[part.name].role if isinstance(part, fx.Node) else "other"
        if value != "zeros":
            label = where(part) if isinstance(part, fx.Node) else repr(part)
            raise GrammarError(
                f"initial state of self.{module_name} is not zeros (only None or zeros, however "
                f"built, port): {label}"
            )


def _module_step(node: fx.Node, module: nn.Module, values: dict[str, Value]) -> Value:
    first = _arg(node, values)
    label = f"self.{node.target} ({type(module).__name__})"
    if first.role != "tensor":
        message = "reads something other than the model's main path"
        raise GrammarError(f"{label} {message}: {where(node)}")
    pipe = first.pipe
    if type(module) in RECURRENT_TYPES:
        _refuse_state(node.target, node.args[1] if len(node.args) > 1 else None, values)
        if node.kwargs.get("hx") is not None:
            _refuse_state(node.target, node.kwargs["hx"], values)
        return Value("rec", _add_recurrent(node, module, pipe, label))
    if isinstance(module, nn.Embedding) and type(module) is nn.Embedding:
        if pipe.embedding or pipe.recurrent or pipe.flipped or module.max_norm is not None:
            raise GrammarError(f"{label} only ports first, without max_norm: {where(node)}")
        return Value("tensor", pipe.add(embedding=(node.target, module)))
    return _tensor_step(node, pipe, values, module)


def _add_recurrent(node: fx.Node, module: nn.Module, pipe: Pipe, label: str) -> Pipe:
    if getattr(module, "proj_size", 0):
        size = module.proj_size
        raise GrammarError(f"{label} has proj_size={size}, which no Keras layer computes")
    if pipe.readout is not None or pipe.head:
        raise GrammarError(f"{label} reads the output of a readout or head layer: {where(node)}")
    time_major = not module.batch_first
    if pipe.scrambled:
        message = "reads an input whose axes were moved (only transpose(0, 1) ports)"
        raise GrammarError(f"{label} {message}")
    if pipe.recurrent:
        if pipe.time_major != time_major:
            raise GrammarError(f"{label} reads its input with the wrong axes: {where(node)}")
        return pipe.add(recurrent=(*pipe.recurrent, RecurrentUse(node.target, module, node.name)))
    # the first module decides the user's layout: its own axes, undone by any transpose before
    return pipe.add(
        recurrent=(RecurrentUse(node.target, module, node.name),),
        time_major=time_major,
        input_time_major=time_major != pipe.flipped,
    )


def _raw(node: fx.Node, values: dict[str, Value]) -> Value:
    return values[node.args[0].name] if isinstance(node.args[0], fx.Node) else Value("other")


def _tensor_step(
    node: fx.Node, pipe: Pipe, values: dict[str, Value], module: nn.Module | None = None
) -> Value:
    """Layout changes before the recurrent layers, the implicit "sequence" readout, head ops."""
    target = node.target
    if node.op == "call_method" and target in _IDENTITY_METHODS or type(module) is nn.Identity:
        return Value("tensor", pipe)
    if node.op == "call_method" and target in ("transpose", "permute") and pipe.readout is None:
        dims = tuple(node.args[1:])
        if dims in ((0, 1), (1, 0), (1, 0, 2)):
            if not pipe.recurrent:
                return Value("tensor", pipe.add(flipped=not pipe.flipped))
            return Value("tensor", pipe.add(time_major=not pipe.time_major))
    if not pipe.recurrent:
        if node.op == "call_method" and target in ("transpose", "permute"):
            return Value("tensor", pipe.add(scrambled=True))  # refused where it is read
        kind = f" ({type(module).__name__})" if module is not None else ""
        raise GrammarError(f"before the recurrent layers, outside the grammar{kind}: {where(node)}")
    if pipe.readout is None:
        if is_dropout(node, module):  # between recurrent modules, or a head layer later on
            use = pipe.recurrent[-1]
            rate = module.p if module is not None else dropout_rate(node)
            use = dataclasses.replace(use, dropout_after=rate)
            return Value("tensor", pipe.add(recurrent=(*pipe.recurrent[:-1], use)))
        # the whole `out`: every step
        pipe = readout_value(pipe, "sequence", node.args[0].name).pipe
    return Value("tensor", head_step(node, pipe, module))
