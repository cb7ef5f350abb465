"""Readers of the torch modules a forward calls, one small function each, found by class.

    nn.Linear (any rank)        dense on the last axis        nn.Embedding      embedding
    nn.LayerNorm (last axis)    layer_norm (eps carried)       nn.BatchNorm1d    batch_norm (eval)
    nn.Dropout                  dropout (the identity)         activations       activation
    nn.Softmax(dim)             softmax                        nn.Flatten        flatten
    nn.Conv1d (channels first)  conv1d                         Max/AvgPool1d     pool1d
    nn.RNN / nn.LSTM / nn.GRU   `torch_impl.reading.recurrent`

Each reads the module's own tensors through the graph translators' tables
(`torch_impl.graph.translators.BY_KIND`), so no layout is written down twice. An option a
reader does not know (max_norm, groups, ceil_mode, ...) is a refusal naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from shared.graph import layers as kinds
from shared.graph import shape_ops
from shared.graph.model import Ref
from torch_impl.graph.translators import BY_KIND
from torch_impl.reading import shaping
from torch_impl.reading.builder import Builder
from torch_impl.reading.recurrent import KINDS, read_recurrent
from torch_impl.reading.traced_head import ACTIVATION_MODULES
from torch_impl.reading.traced_values import GrammarError, where
from torch_impl.reading.values import Tensor

CHANNELS_FIRST = (0, 2, 1)  # nn.Conv1d and pooling read (batch, channels, time)


def refuse(call: Any, why: str) -> GrammarError:
    return GrammarError(
        f"self.{call.node.target} ({type(call.module).__name__}) {why}: {where(call.node)}"
    )


def _weighted(call: Any, builder: Builder, kind: Any, ref: Ref) -> str:
    arrays = BY_KIND[type(kind)].arrays.to_canonical(call.module, kind)
    return builder.add(call.node.name, kind, [ref], call.node, arrays)


def linear(call: Any, builder: Builder) -> Tensor:
    module = call.module
    value = shaping.first_tensor(call)
    shaping.bind_floats(value, module.in_features, builder, call.node)
    ref, perm = shaping.last_axis(value, builder, call.node)
    kind = kinds.Dense(module.out_features, use_bias=module.bias is not None)
    return Tensor(Ref(_weighted(call, builder, kind, ref)), perm)


def embedding(call: Any, builder: Builder) -> Tensor:
    module = call.module
    value = shaping.first_tensor(call)
    if module.max_norm is not None or value.ref.node != "x":
        raise refuse(call, "ports only on the token-id input, without max_norm")
    builder.bind_input("tokens", 1, call.node)
    kind = kinds.Embedding(module.num_embeddings, module.embedding_dim)
    return Tensor(Ref(_weighted(call, builder, kind, value.ref)), None)


def layer_norm(call: Any, builder: Builder) -> Tensor:
    module = call.module
    if len(module.normalized_shape) != 1:
        raise refuse(call, "normalizes more than the last axis")
    value = shaping.first_tensor(call)
    shaping.bind_floats(value, module.normalized_shape[0], builder, call.node)
    ref, perm = shaping.last_axis(value, builder, call.node)
    kind = kinds.LayerNorm(
        module.eps,
        center=getattr(module, "bias", None) is not None,
        scale=module.weight is not None,
    )
    return Tensor(Ref(_weighted(call, builder, kind, ref)), perm)


def batch_norm(call: Any, builder: Builder) -> Tensor:
    module = call.module
    value = shaping.first_tensor(call)
    if not module.track_running_stats or builder.rank(value, call.node) != 2:
        raise refuse(call, "ports on (batch, features) with running statistics only")
    ref, perm = shaping.last_axis(value, builder, call.node)
    kind = kinds.BatchNorm(module.eps, center=module.affine, scale=module.affine)
    return Tensor(Ref(_weighted(call, builder, kind, ref)), perm)


def dropout(call: Any, builder: Builder) -> Tensor:
    return shaping.elementwise(call, builder, kinds.Dropout(float(call.module.p)))


def activation(call: Any, builder: Builder) -> Tensor:
    name = ACTIVATION_MODULES[type(call.module)]
    options = {nn.GELU: ("approximate", "none"), nn.ELU: ("alpha", 1.0)}
    option = options.get(type(call.module))
    if option and getattr(call.module, option[0]) != option[1]:
        raise refuse(
            call, f"has {option[0]}={getattr(call.module, option[0])!r}; only {option[1]!r} ports"
        )
    return shaping.elementwise(call, builder, kinds.Activation(name))


def leaky_relu(call: Any, builder: Builder) -> Tensor:
    return shaping.leaky(call, builder, call.module.negative_slope)


def softmax(call: Any, builder: Builder) -> Tensor:
    return shaping.softmax_over(call, builder, call.module.dim)


def flatten(call: Any, builder: Builder) -> Tensor:
    if (call.module.start_dim, call.module.end_dim) != (1, -1):
        raise refuse(call, "flattens other axes than all but the batch")
    return shaping.flatten(shaping.first_tensor(call), builder, call.node)


def identity(call: Any, builder: Builder) -> Any:
    return call.args[0]


def _conv_padding(module: nn.Conv1d) -> str | None:
    span = module.dilation[0] * (module.kernel_size[0] - 1)
    if module.padding in ("valid", (0,)):
        return "valid"
    if module.padding == "same" or (module.stride[0] == 1 and 2 * module.padding[0] == span):
        return "same"
    return None


def conv1d(call: Any, builder: Builder) -> Tensor:
    module = call.module
    padding = _conv_padding(module)
    if module.groups != 1 or module.padding_mode != "zeros" or padding is None:
        raise refuse(call, "ports with groups=1, zero padding 0 or 'same' only")
    value = shaping.first_tensor(call)
    if value.ref.node == "x" and builder.input_kind is None and value.perm is not None:
        builder.bind_input("floats", module.in_channels, call.node)
    ref = builder.arrange(value, CHANNELS_FIRST, call.node)
    kind = shape_ops.Conv1D(
        module.out_channels,
        module.kernel_size[0],
        strides=module.stride[0],
        padding=padding,
        dilation_rate=module.dilation[0],
        use_bias=module.bias is not None,
    )
    return Tensor(Ref(_weighted(call, builder, kind, ref)), CHANNELS_FIRST)


def pool1d(call: Any, builder: Builder) -> Tensor:
    module = call.module
    size = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
    stride = module.stride if isinstance(module.stride, int) else module.stride[0]
    plain = module.padding in (0, (0,)) and not module.ceil_mode
    plain = plain and not getattr(module, "return_indices", False)
    plain = plain and getattr(module, "divisor_override", None) is None
    if not plain or getattr(module, "dilation", 1) not in (1, (1,)):
        raise refuse(
            call, "ports without padding, dilation, ceil_mode, return_indices or divisor only"
        )
    op = "max" if isinstance(module, nn.MaxPool1d) else "average"
    ref = builder.arrange(shaping.first_tensor(call), CHANNELS_FIRST, call.node)
    kind = shape_ops.Pool1D(op, size, None if stride == size else stride)
    return Tensor(Ref(builder.add(call.node.name, kind, [ref], call.node)), CHANNELS_FIRST)


MODULES: dict[type, Callable[[Any, Builder], Any]] = {
    nn.Linear: linear,
    nn.Embedding: embedding,
    nn.LayerNorm: layer_norm,
    nn.BatchNorm1d: batch_norm,
    nn.Dropout: dropout,
    nn.Softmax: softmax,
    nn.LeakyReLU: leaky_relu,
    nn.Flatten: flatten,
    nn.Identity: identity,
    nn.Conv1d: conv1d,
    nn.MaxPool1d: pool1d,
    nn.AvgPool1d: pool1d,
    **dict.fromkeys(KINDS, read_recurrent),
    **dict.fromkeys(ACTIVATION_MODULES, activation),
}
