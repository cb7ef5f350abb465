"""The walk over a traced forward: each fx node to its reader, found by table, never by branch.

`torch_impl.reading.traced.trace` traces the forward (fx keeps nn.LSTM, nn.Linear, ... as whole
nodes, stops at a data-dependent `if` naming it); each node's arguments become the values read
so far
(`torch_impl.reading.values`) and its reader, found by module class (`modules.MODULES`),
function (`functions.FUNCTIONS`) or method name (`functions.METHODS`), adds graph nodes.
A node no table knows is refused in one line naming it, its op and the user's line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import fx, nn

from shared.graph.model import Ref
from torch_impl.reading import functions, packing
from torch_impl.reading.builder import INPUT, Builder
from torch_impl.reading.functions import FUNCTIONS, METHODS
from torch_impl.reading.modules import MODULES
from torch_impl.reading.traced_values import GrammarError, where
from torch_impl.reading.values import Lengths, Meta, Param, Tensor, Zeros


@dataclass
class Call:
    """One call node with its arguments read: fx nodes replaced by their values."""

    node: fx.Node
    module: nn.Module | None
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


def _resolved(item: Any, values: dict[str, Any]) -> Any:
    if isinstance(item, fx.Node):
        return values[item.name]
    if isinstance(item, tuple | list):
        return type(item)(_resolved(part, values) for part in item)
    if isinstance(item, dict):
        return {key: _resolved(part, values) for key, part in item.items()}
    return item


def _made_up(node: fx.Node, values: dict[str, Any], reader: Any) -> bool:
    """Whether a call makes a tensor from sizes or the module's own tensors alone
    (torch.randn(1, x.size(0), H), self.h0.expand(...)): nothing the input decides."""
    found = {type(values[n.name]) for n in node.all_input_nodes}
    sizes = found == {Meta} and reader is not None  # x.size(0) * 2, shape[0]
    return node.op != "call_module" and found <= {Meta, Param} and not sizes


def _reader(node: fx.Node, modules: dict[str, nn.Module]) -> Any:
    if node.op == "call_module":
        return MODULES.get(type(modules[node.target]))
    if node.op == "call_method":
        return METHODS.get(node.target)
    return FUNCTIONS.get(node.target)


def _call(node: fx.Node, values: dict[str, Any], modules: dict[str, nn.Module], b: Builder) -> Any:
    reader = _reader(node, modules)
    module = modules.get(node.target) if node.op == "call_module" else None
    if reader is functions.zeros:
        return Zeros()
    if _made_up(node, values, reader):
        return Param()
    if reader is None:
        label = f" ({type(module).__name__})" if module is not None else ""
        raise GrammarError(f"outside what the graph reader ports{label}: {where(node)}")
    args = _resolved(node.args, values)
    kwargs = _resolved(dict(node.kwargs), values)
    _refuse_short(node, (args, kwargs), reader)
    return reader(Call(node, module, args, kwargs), b)


def _outputs(node: fx.Node, values: dict[str, Any]) -> list[Tensor]:
    result = _resolved(node.args[0], values)
    items = list(result) if isinstance(result, tuple | list) else [result]
    if any(isinstance(item, Tensor) and item.short for item in items):
        raise GrammarError(f"the forward returns a sequence that {packing.SHORT}: {where(node)}")
    if not items or not all(isinstance(item, Tensor) for item in items):
        kinds = ", ".join(type(item).__name__ for item in items)
        raise GrammarError(
            f"forward must return tensors of the model, returns {kinds}: {where(node)}"
        )
    return items


def _placeholder(node: fx.Node, values: dict[str, Any]) -> Any:
    """The sequence (or token ids), then the lengths; arguments with defaults are sizes."""
    if node.args:
        return Meta()
    held = [value for value in values.values() if isinstance(value, Tensor | Lengths)]
    if len(held) > 1:
        raise GrammarError(f"forward takes more than a sequence and its lengths: {where(node)}")
    return Lengths() if held else Tensor(Ref(INPUT))


def _refuse_short(node: fx.Node, args: Any, reader: Any) -> None:
    """A sequence of max(lengths) steps may reach only the readers that do not count steps
    (len() counts the batch where batch-first; a time-major count is no gather's arange)."""
    if reader in (packing.getitem, packing.length, functions.same) or node.op == "output":
        return
    stack = [args]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor) and item.short:
            raise GrammarError(f"{packing.SHORT}: {where(node)}")
        if isinstance(item, tuple | list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())


def walk(traced: fx.GraphModule, builder: Builder) -> tuple[list[Tensor], dict[str, Any]]:
    """Read every node; returns the forward's outputs and every fx node's value.

    Raises:
        GrammarError: naming the first node no reader ports.
    """
    values: dict[str, Any] = {}
    modules = dict(traced.named_modules())
    for node in traced.graph.nodes:
        if node.op == "placeholder":
            values[node.name] = _placeholder(node, values)
        elif node.op == "get_attr":
            values[node.name] = Param()
        elif node.op == "output":
            return _outputs(node, values), values
        else:
            values[node.name] = _call(node, values, modules, builder)
    raise GrammarError("the traced forward has no output")
