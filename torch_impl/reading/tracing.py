"""Tracing a user's forward for the graph reader: fx, taught what public models call and fx cannot.

fx's symbolic tracing stops inside three things public forwards use every day: packing
(`pack_padded_sequence` fails inside torch with "`__cuda_array_interface__` must be a dict"),
unpacking (`pad_packed_sequence`) and the legacy `Variable(...)` wrapper of older tutorials.
Each is kept as one call node instead (fx's autowrap, applied to the forward's globals and to
the modules users reach them through, `nn.utils.rnn.` and `torch.autograd.`), so the graph
reader (`torch_impl.reading.packing`) reads them as a length mask and as the value it wraps.

`len` and `range` are kept as calls too, in the forward's own module, so
`out[range(len(lengths)), lengths - 1]` reads as a gather. Where fx truly cannot go (a Python
loop over a traced size, `len()` in a helper of another module), the refusal names the
construct and the user's source line, never an internal torch message.
"""

from __future__ import annotations

import inspect
import traceback
from pathlib import Path
from typing import Any

import torch
from torch import fx, nn
from torch.fx import _symbolic_trace
from torch.nn.utils import rnn as rnn_utils

from torch_impl.reading.traced import _Tracer, run_tracer
from torch_impl.reading.traced_values import GrammarError, where

KEPT_WHOLE = (
    rnn_utils.pack_padded_sequence,
    rnn_utils.pad_packed_sequence,
    torch.autograd.Variable,
)
# builtins kept as calls in the forward's module: out[range(len(lengths)), lengths - 1]
BUILTINS_KEPT = ("len", "range")
# What fx says where a forward needs a concrete value, and the construct that causes it.
_CONSTRUCTS = (
    ("cannot be interpreted as an integer", "a Python loop over a traced size (range(x.size(1)))"),
    ("'len' is not supported", "len() of a traced tensor"),
    ("iteration over a", "a Python loop over a traced tensor"),
)


class GraphTracer(_Tracer):
    """The chain reader's tracer, keeping packing, unpacking and Variable as single calls."""

    def __init__(self) -> None:
        super().__init__()
        self._autowrap_function_ids.update(id(function) for function in KEPT_WHOLE)
        self._autowrap_search += [rnn_utils, torch.autograd]

    def trace(self, root: Any, concrete_args: Any = None) -> fx.Graph:
        """fx's trace, with `len` and `range` kept as calls where the forward is defined
        (fx's own mechanism for builtins, `fx.wrap("len")`, registered for this trace only)."""
        forward = type(root).forward if isinstance(root, nn.Module) else root
        scope = getattr(forward, "__globals__", None)
        table = _symbolic_trace._wrapped_fns_to_patch
        added = [] if scope is None else [(id(scope), name) for name in BUILTINS_KEPT]
        added = [key for key in added if key not in table]
        for key in added:
            table[key] = scope
        try:
            return super().trace(root, concrete_args)
        finally:
            for key in added:
                table.pop(key, None)

    def iter(self, obj: fx.Proxy) -> Any:
        if obj.node.target is range:
            raise GrammarError(
                f"a Python loop over a traced size (range(x.size(1))), which fx cannot trace: "
                f"{where(obj.node)}"
            )
        return super().iter(obj)

    def to_bool(self, obj: fx.Proxy) -> bool:
        """`if x.is_cuda:` (moving zeros to the device) traces the CPU branch: the graph is the
        same on every device; any other branch on a traced value is refused."""
        node = obj.node
        if node.target is getattr and node.args[1:] == ("is_cuda",):
            return False
        return super().to_bool(obj)


def _user_line(module: nn.Module, error: BaseException) -> str:
    """` at file.py:14: for t in range(x.size(1)):` from the traceback's last frame in the
    forward's file, or "" where none is."""
    try:
        file = inspect.getsourcefile(type(module).forward)
    except TypeError:
        return ""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == file]
    if not frames:
        return ""
    frame = frames[-1]
    return f" at {Path(frame.filename).name}:{frame.lineno}: {(frame.line or '').strip()}"


def untraceable(module: nn.Module, error: BaseException) -> str:
    """One line for a forward fx cannot trace: the construct and the user's line."""
    text = str(error).strip()
    first = text.splitlines()[0] if text else type(error).__name__
    construct = next((what for words, what in _CONSTRUCTS if words in first), None)
    if construct is None or "__cuda_array_interface__" in first:
        construct = f"a call torch.fx cannot trace ({type(error).__name__})"
    return (
        f"{type(module).__name__}: its forward uses {construct}{_user_line(module, error)}, "
        "which torch.fx cannot trace: the porter reads forwards without data-dependent Python"
    )


def trace_graph(module: nn.Module) -> fx.GraphModule:
    """The forward as an fx graph, traced in eval mode, packing and Variable kept whole.

    Raises:
        GrammarError: naming the construct fx stops at and the user's source line.
    """
    graph = run_tracer(GraphTracer(), module, untraceable)
    for node in graph.nodes:  # else the generated code registers the kept calls with fx's
        node.meta.pop("is_wrapped", None)  # global wrap table, under names no later trace finds
    return fx.GraphModule(module, graph)
