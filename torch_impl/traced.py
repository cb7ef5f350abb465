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
run time. `torch_impl.traced_model` turns what is read into a spec and canonical weights.
"""

from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812 - the universal torch spelling
from torch import fx, nn

from shared.errors import ModelFileError
from shared.grammar import BatchNormSpec, DenseSpec, DropoutSpec, LayerNormSpec

RECURRENT_TYPES = (nn.RNN, nn.LSTM, nn.GRU)
# torch activation (module class, function or method name) -> Keras name of the same formula
_ACTIVATION_MODULES = {
    nn.ReLU: "relu",
    nn.Tanh: "tanh",
    nn.Sigmoid: "sigmoid",
    nn.SiLU: "silu",
    nn.ELU: "elu",
    nn.SELU: "selu",
    nn.ReLU6: "relu6",
    nn.Softsign: "softsign",
    nn.Mish: "mish",
    nn.Hardsigmoid: "hard_sigmoid",
    nn.Hardswish: "hard_silu",
    nn.GELU: "gelu",
}
_ACTIVATION_FUNCTIONS = {
    torch.relu: "relu",
    F.relu: "relu",
    torch.tanh: "tanh",
    F.tanh: "tanh",
    torch.sigmoid: "sigmoid",
    F.sigmoid: "sigmoid",
    F.silu: "silu",
    F.elu: "elu",
    F.selu: "selu",
    F.relu6: "relu6",
    F.softsign: "softsign",
    F.mish: "mish",
    F.hardsigmoid: "hard_sigmoid",
    F.hardswish: "hard_silu",
    F.gelu: "gelu",
}
_ACTIVATION_METHODS = {"relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid"}
# Methods and functions that leave a zeros tensor zeros, or a pipeline tensor as it is.
_KEEP_METHODS = {"to", "cuda", "cpu", "detach", "requires_grad_", "type_as", "float", "double"}
_IDENTITY_METHODS = {"contiguous", "clone", "detach"}
_ZEROS_FUNCTIONS = {torch.zeros, torch.zeros_like}
_META_METHODS = {"size", "dim"}


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
class Recurrent:
    """One recurrent module as the forward uses it; `dropout_after` an nn.Dropout behind it."""

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
    recurrent: tuple[Recurrent, ...] = ()
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
    was_training = module.training
    module.eval()
    try:
        graph = _Tracer().trace(module)
    except GrammarError:
        raise
    except Exception as error:  # fx raises many kinds; the user gets one line
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise GrammarError(
            f"{type(module).__name__}: torch.fx cannot trace its forward ({first})"
        ) from None
    finally:
        module.train(was_training)
    return fx.GraphModule(module, graph)


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
        return _row_readout(value)
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
        return _getitem(node, _raw(node, values))
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
    if first.role == "h_n" and node.target == "squeeze" and _rows(first.pipe) == 1:
        return Value("row", first.pipe, (0, 0), node.name)
    if first.role == "tensor":
        return _tensor_step(node, first.pipe, values)
    if node.target is torch.cat:
        return _cat(node, values)
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
        return pipe.add(recurrent=(*pipe.recurrent, Recurrent(node.target, module, node.name)))
    # the first module decides the user's layout: its own axes, undone by any transpose before
    return pipe.add(
        recurrent=(Recurrent(node.target, module, node.name),),
        time_major=time_major,
        input_time_major=time_major != pipe.flipped,
    )


def _raw(node: fx.Node, values: dict[str, Value]) -> Value:
    return values[node.args[0].name] if isinstance(node.args[0], fx.Node) else Value("other")


def _rows(pipe: Pipe) -> int:
    """Rows of the last recurrent module's h_n: num_layers * directions."""
    last = pipe.recurrent[-1].module
    return last.num_layers * (2 if last.bidirectional else 1)


def _getitem(node: fx.Node, first: Value) -> Value:
    index = node.args[1]
    last = first.pipe.recurrent[-1].module if first.pipe.recurrent else None
    if first.role == "rec" and index in (0, 1):
        if index == 0:
            return Value("tensor", first.pipe)
        return Value("state" if isinstance(last, nn.LSTM) else "h_n", first.pipe)
    if first.role == "state" and index in (0, 1, -1, -2):
        return Value("h_n" if index in (0, -2) else "c_n", first.pipe)
    if first.role == "h_n":
        row = index[0] if isinstance(index, tuple) and _is_full(index[1:]) else index
        rows = _rows(first.pipe)
        if isinstance(row, int) and -rows <= row < rows:
            layer_direction = divmod(row % rows, 2 if last.bidirectional else 1)
            return Value("row", first.pipe, layer_direction, node.name)
    if first.role == "tensor" and first.pipe.recurrent and first.pipe.readout is None:
        step = _last_step(first.pipe, index)
        if step:
            bidirectional = first.pipe.recurrent[-1].module.bidirectional
            return _read(first.pipe, "last_step" if bidirectional else "final", node.name)
    raise GrammarError(f"outside the grammar (indexing {index!r}): {where(node)}")


def _is_full(rest: tuple) -> bool:
    return all(isinstance(s, slice) and s == slice(None) for s in rest)


def _last_step(pipe: Pipe, index: Any) -> bool:
    """Whether `index` picks the last time step of the whole sequence: out[:, -1] / out[-1]."""
    if pipe.time_major:
        return index == -1 or (isinstance(index, tuple) and index[0] == -1 and _is_full(index[1:]))
    return (
        isinstance(index, tuple)
        and len(index) >= 2
        and index[0] == slice(None)
        and index[1] == -1
        and _is_full(index[2:])
    )


def _read(pipe: Pipe, readout: str, node_name: str) -> Value:
    """The readout, at node `node_name`; a Dropout on the sequence before it becomes a head layer
    (the same computation at inference: indexing commutes with an elementwise identity)."""
    if pipe.recurrent[-1].dropout_after:
        head = (Head(DropoutSpec(pipe.recurrent[-1].dropout_after), None, node_name),)
        pipe = pipe.add(recurrent=(*pipe.recurrent[:-1], _undropped(pipe.recurrent[-1])))
        return Value("tensor", pipe.add(readout=readout, readout_node=node_name, head=head))
    return Value("tensor", pipe.add(readout=readout, readout_node=node_name))


def _undropped(use: Recurrent) -> Recurrent:
    return dataclasses.replace(use, dropout_after=0.0)


def _cat(node: fx.Node, values: dict[str, Value]) -> Value:
    """torch.cat((h_n[-2], h_n[-1]), dim=1): both directions' final states of the last layer."""
    parts = node.args[0]
    dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim", 0)
    if isinstance(parts, tuple | list) and len(parts) == 2 and dim in (1, -1):
        rows = [values[p.name] if isinstance(p, fx.Node) else Value("other") for p in parts]
        if all(r.role == "row" for r in rows) and rows[0].pipe is rows[1].pipe:
            last = rows[0].pipe.recurrent[-1].module
            top = last.num_layers - 1
            if last.bidirectional and [r.row for r in rows] == [(top, 0), (top, 1)]:
                return _read(rows[0].pipe, "final", node.name)
    raise GrammarError(
        f"outside the grammar (only torch.cat((h_n[-2], h_n[-1]), dim=1) ports): {where(node)}"
    )


def _row_readout(value: Value) -> Value:
    """h_n[k] used as features: the last layer's final state of a one-direction module."""
    last = value.pipe.recurrent[-1].module
    if value.row == (last.num_layers - 1, 0) and not last.bidirectional:
        return _read(value.pipe, "final", value.node)
    layer, direction = value.row
    raise GrammarError(
        f"h_n row of layer {layer}, direction {direction} of self.{value.pipe.recurrent[-1].name} "
        f"(node {value.node}) is not the last layer's whole final state (bidirectional: "
        "torch.cat((h_n[-2], h_n[-1]), dim=1) ports)"
    )


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
        if _is_dropout(node, module):  # between recurrent modules, or a head layer later on
            use = pipe.recurrent[-1]
            rate = module.p if module is not None else _dropout_rate(node)
            use = dataclasses.replace(use, dropout_after=rate)
            return Value("tensor", pipe.add(recurrent=(*pipe.recurrent[:-1], use)))
        pipe = _read(pipe, "sequence", node.args[0].name).pipe  # the whole `out`: every step
    return Value("tensor", _head_step(node, pipe, module))


def _is_dropout(node: fx.Node, module: nn.Module | None) -> bool:
    return type(module) is nn.Dropout or (module is None and node.target is F.dropout)


def _dropout_rate(node: fx.Node) -> float:
    return float(node.args[1] if len(node.args) > 1 else node.kwargs.get("p", 0.5))


def _softmax_dim(node: fx.Node, module: nn.Module | None) -> int | None:
    """The dim of a softmax node (module, function or method), or None when it is not one."""
    if type(module) is nn.Softmax:
        return module.dim
    is_function = node.op == "call_function" and node.target in (F.softmax, torch.softmax)
    if not (is_function or (node.op == "call_method" and node.target == "softmax")):
        return None
    dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
    if not isinstance(dim, int):
        raise GrammarError(f"softmax without an explicit integer dim: {where(node)}")
    return dim


def _activation_of(node: fx.Node, module: nn.Module | None, sequence: bool = False) -> str | None:
    dim = _softmax_dim(node, module)
    if dim is not None:
        last = 2 if sequence else 1  # (batch, time, units) or (batch, units)
        if dim not in (-1, last):
            raise GrammarError(
                f"softmax over dim {dim}: the grammar's softmax is over the features (the last "
                f"dim): {where(node)}"
            )
        return "softmax"
    if module is not None:
        name = _ACTIVATION_MODULES.get(type(module))
        if type(module) is nn.GELU and module.approximate != "none":
            return None
        if type(module) is nn.ELU and module.alpha != 1.0:
            return None
        return name
    if node.op == "call_method":
        return _ACTIVATION_METHODS.get(node.target)
    name = _ACTIVATION_FUNCTIONS.get(node.target)
    if node.target is F.gelu and node.kwargs.get("approximate", "none") != "none":
        return None
    return name


def _head_step(node: fx.Node, pipe: Pipe, module: nn.Module | None) -> Pipe:
    """One op after the readout, appended to the head (an activation joins the Dense before)."""
    sequence = pipe.readout == "sequence"
    activation = _activation_of(node, module, sequence)
    if activation is not None:
        previous = pipe.head[-1] if pipe.head else None
        if previous is None or not isinstance(previous.spec, DenseSpec):
            raise GrammarError(f"an activation ports only right after an nn.Linear: {where(node)}")
        if previous.spec.activation != "linear":
            raise GrammarError(f"two activations after one nn.Linear: {where(node)}")
        spec = DenseSpec(previous.spec.units, activation)
        return pipe.add(head=(*pipe.head[:-1], Head(spec, previous.module, node.name)))
    if _is_dropout(node, module):
        rate = module.p if module is not None else _dropout_rate(node)
        return pipe.add(head=(*pipe.head, Head(DropoutSpec(rate), None, node.name)))
    if type(module) is nn.Linear:
        return pipe.add(head=(*pipe.head, Head(DenseSpec(module.out_features), module, node.name)))
    if type(module) is nn.LayerNorm and len(module.normalized_shape) == 1:
        spec = LayerNormSpec(module.eps)
        return pipe.add(head=(*pipe.head, Head(spec, module, node.name)))
    if type(module) is nn.BatchNorm1d and module.track_running_stats and not sequence:
        spec = BatchNormSpec(module.eps)
        return pipe.add(head=(*pipe.head, Head(spec, module, node.name)))
    raise GrammarError(f"outside the grammar: {where(node)}")
