"""Readers of the head: the ops after the readout, each onto a grammar head layer.

nn.Linear (with the activation right after it, as a module, function or method), nn.Dropout
or F.dropout, nn.LayerNorm over the features and nn.BatchNorm1d with running statistics each
become one head layer; softmax only over the features. Called by the graph walk in
`torch_impl.reading.traced`, which also asks here whether a node is a dropout.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 - the universal torch spelling
from torch import fx, nn

from shared.grammar import BatchNormSpec, DenseSpec, DropoutSpec, LayerNormSpec
from torch_impl.reading.traced_values import GrammarError, Head, Pipe, where

# torch activation (module class, function or method name) -> Keras name of the same formula
ACTIVATION_MODULES = {
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
ACTIVATION_FUNCTIONS = {
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
ACTIVATION_METHODS = {"relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid"}


def is_dropout(node: fx.Node, module: nn.Module | None) -> bool:
    return type(module) is nn.Dropout or (module is None and node.target is F.dropout)


def dropout_rate(node: fx.Node) -> float:
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
        name = ACTIVATION_MODULES.get(type(module))
        if type(module) is nn.GELU and module.approximate != "none":
            return None
        if type(module) is nn.ELU and module.alpha != 1.0:
            return None
        return name
    if node.op == "call_method":
        return ACTIVATION_METHODS.get(node.target)
    name = ACTIVATION_FUNCTIONS.get(node.target)
    if node.target is F.gelu and node.kwargs.get("approximate", "none") != "none":
        return None
    return name


def head_step(node: fx.Node, pipe: Pipe, module: nn.Module | None) -> Pipe:
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
    if is_dropout(node, module):
        rate = module.p if module is not None else dropout_rate(node)
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
