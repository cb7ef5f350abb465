"""The tables that find the reader of a torch function (by the function) or a tensor method (by
its name), and the readers of activations, softmax, dropout and zeros.

Activations are the chain reader's tables (`torch_impl.reading.traced_head`); leaky_relu
ports only with Keras's slope 0.2. A function or method found in no table is refused by the walk.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812 - the universal torch spelling
from torch.autograd import Variable
from torch.nn.utils import rnn as rnn_utils

from shared.graph import layers as kinds
from torch_impl.reading import indexing, merges, packing, shaping
from torch_impl.reading.builder import Builder
from torch_impl.reading.traced_head import ACTIVATION_FUNCTIONS, ACTIVATION_METHODS
from torch_impl.reading.traced_values import GrammarError, where
from torch_impl.reading.values import Meta, Zeros

Reader = Callable[[Any, Builder], Any]
_DEFAULT_OPTIONS = {F.gelu: ("approximate", "none"), F.elu: ("alpha", 1.0)}


def _activation(name: str) -> Reader:
    def read(call: Any, builder: Builder) -> Any:
        option = _DEFAULT_OPTIONS.get(call.node.target)
        if option and call.kwargs.get(option[0], option[1]) != option[1]:
            raise GrammarError(
                f"{option[0]}={call.kwargs[option[0]]!r}: only {option[1]!r} "
                f"ports: {where(call.node)}"
            )
        return shaping.elementwise(call, builder, kinds.Activation(name))

    return read


def leaky_relu(call: Any, builder: Builder) -> Any:
    slope = call.args[1] if len(call.args) > 1 else call.kwargs.get("negative_slope", 0.01)
    return shaping.leaky(call, builder, slope)


def softmax(call: Any, builder: Builder) -> Any:
    dim = call.args[1] if len(call.args) > 1 else call.kwargs.get("dim")
    return shaping.softmax_over(call, builder, dim)


def dropout(call: Any, builder: Builder) -> Any:
    rate = call.args[1] if len(call.args) > 1 else call.kwargs.get("p", 0.5)
    return shaping.elementwise(call, builder, kinds.Dropout(float(rate)))


def zeros(call: Any, builder: Builder) -> Zeros:
    return Zeros()


def size(call: Any, builder: Builder) -> Meta:
    """x.size(d) remembers x and d (total_length=x.size(1) reads as the time length)."""
    if call.node.target != "size":
        return Meta()  # arithmetic on sizes
    dim = call.args[1] if len(call.args) > 1 else call.kwargs.get("dim")
    return Meta(call.args[0], dim)


def same(call: Any, builder: Builder) -> Any:
    """contiguous, clone, detach, .to(device): the value itself (zeros stay zeros)."""
    return call.args[0]


FUNCTIONS: dict[Any, Reader] = {
    **{target: _activation(name) for target, name in ACTIVATION_FUNCTIONS.items()},
    F.leaky_relu: leaky_relu,
    F.softmax: softmax,
    torch.softmax: softmax,
    F.dropout: dropout,
    torch.zeros: zeros,
    torch.zeros_like: zeros,
    operator.add: merges.arithmetic("add"),
    torch.add: merges.arithmetic("add"),
    operator.sub: packing.lengths_arithmetic(merges.arithmetic("sub")),
    torch.sub: packing.lengths_arithmetic(merges.arithmetic("sub")),
    operator.mul: merges.arithmetic("mul"),
    torch.mul: merges.arithmetic("mul"),
    operator.floordiv: size,
    torch.cat: merges.cat,
    torch.concat: merges.cat,
    torch.bmm: merges.bmm,
    torch.matmul: merges.bmm,
    torch.mean: merges.reduction("mean"),
    torch.sum: merges.reduction("sum"),
    torch.max: merges.reduction("max"),
    torch.min: merges.reduction("min"),
    torch.transpose: indexing.transpose,
    torch.squeeze: indexing.squeeze,
    torch.flatten: indexing.flatten,
    operator.getitem: packing.getitem,
    getattr: indexing.getattribute,
    torch.clamp: packing.clamp,
    torch.clamp_min: packing.clamp,
    torch.clip: packing.clamp,
    rnn_utils.pack_padded_sequence: packing.pack,
    rnn_utils.pad_packed_sequence: packing.unpack,
    Variable: same,
    torch.arange: packing.arange,
    range: packing.arange,
    len: packing.length,
}

METHODS: dict[str, Reader] = {
    **{name: _activation(keras) for name, keras in ACTIVATION_METHODS.items()},
    "softmax": softmax,
    "new_zeros": zeros,
    "size": size,
    "dim": size,
    **dict.fromkeys(("contiguous", "clone", "detach", "to", "cuda", "cpu", "type_as"), same),
    "add": merges.arithmetic("add"),
    "sub": packing.lengths_arithmetic(merges.arithmetic("sub")),
    **dict.fromkeys(("clamp", "clamp_min", "clip"), packing.clamp),
    "long": packing.integer,
    "int": packing.integer,
    "mul": merges.arithmetic("mul"),
    "mean": merges.reduction("mean"),
    "sum": merges.reduction("sum"),
    "max": merges.reduction("max"),
    "min": merges.reduction("min"),
    "transpose": indexing.transpose,
    "permute": indexing.transpose,
    "squeeze": indexing.squeeze,
    "unsqueeze": indexing.unsqueeze,
    "view": indexing.view,
    "reshape": indexing.view,
    "flatten": indexing.flatten,
    "bmm": merges.bmm,
    "matmul": merges.bmm,
}
