"""Torch modules for the graph's step-wise node kinds (`shared.graph.layers`), and their base.

A graph node is one module with one calling convention, so `GraphNet` runs every kind alike:

    module(values, masks) -> (outputs, output masks)

`values` are the node's input tensors in the node's order, `masks` their (batch, time) bool
masks (True = kept) or None. The base passes the first input's mask on where the kind carries
masks (`carries_mask`) and drops it otherwise; `GraphNet` keeps an output's mask only where the
graph says the value is masked. Parameters are plain attributes named as torch names them
(`weight`, `bias`, `running_mean`, ...), absent (None) where the node has no such array, so one
translator table (`torch_impl.graph.translators`) maps them to canonical arrays.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812 - the universal torch spelling
from torch import nn

from shared.graph import layers
from torch_impl.activations import torch_activation
from torch_impl.layers import KERAS_BATCH_NORM_MOMENTUM

Tensors = list[torch.Tensor]
Masks = list[torch.Tensor | None]


class NodeModule(nn.Module):
    """Base of every graph node module: `forward(values, masks) -> (outputs, masks)`."""

    carries_mask = False  # the kind hands its first input's mask on unchanged
    dynamic_time = True  # torch.export can keep the time axis free through it

    def compute(self, *values: torch.Tensor) -> torch.Tensor:
        """The node's one output from its input tensors (kinds that ignore masks)."""
        raise NotImplementedError(type(self).__name__)

    def forward(self, values: Tensors, masks: Masks) -> tuple[Tensors, Masks]:
        return [self.compute(*values)], [masks[0] if self.carries_mask else None]


def uniform_parameter(shape: tuple[int, ...], dtype: torch.dtype, bound: float) -> nn.Parameter:
    """Uniform(-bound, bound), torch's default range for linear maps (1 / sqrt(fan_in))."""
    return nn.Parameter(torch.empty(shape, dtype=dtype).uniform_(-bound, bound))


class Embedding(NodeModule):
    """ids (batch, time) int64 -> (batch, time, dim); id 0 masks its step when mask_zero."""

    def __init__(self, kind: layers.Embedding, dtype: torch.dtype) -> None:
        super().__init__()
        self.mask_zero = kind.mask_zero
        self.weight = nn.Parameter(torch.randn(kind.vocab, kind.dim, dtype=dtype))  # (vocab, dim)

    def forward(self, values: Tensors, masks: Masks) -> tuple[Tensors, Masks]:
        ids = values[0]
        return [F.embedding(ids, self.weight)], [(ids != 0) if self.mask_zero else None]


class Masking(NodeModule):
    """A step whose features all equal mask_value is masked and zeroed (Keras's Masking)."""

    def __init__(self, kind: layers.Masking) -> None:
        super().__init__()
        self.mask_value = kind.mask_value

    def forward(self, values: Tensors, masks: Masks) -> tuple[Tensors, Masks]:
        inputs = values[0]  # (batch, time, features)
        mask = (inputs != self.mask_value).any(dim=2)  # (batch, time)
        return [inputs * mask[:, :, None].to(inputs.dtype)], [mask]


class LengthMask(NodeModule):
    """(sequence (batch, time, F), lengths (batch,) int64) -> the sequence, masked
    t < max(lengths[b], min_length) (trailing padding, so recurrent nodes take their
    packed-sequence path; min_length 1 is the user's lengths.clamp(min=1))."""

    def __init__(self, kind: layers.LengthMask) -> None:
        super().__init__()
        self.min_length = kind.min_length

    def forward(self, values: Tensors, masks: Masks) -> tuple[Tensors, Masks]:
        inputs, lengths = values
        lengths = lengths.clamp(min=self.min_length)  # (batch,)
        steps = torch.arange(inputs.shape[1], device=inputs.device)
        return [inputs], [steps[None, :] < lengths[:, None]]  # (batch, time)


class Dense(NodeModule):
    """act(x W^T + b) on the last axis of any rank; weight (units, in) as nn.Linear's."""

    carries_mask = True

    def __init__(self, kind: layers.Dense, features: int, dtype: torch.dtype) -> None:
        super().__init__()
        bound = features**-0.5
        self.weight = uniform_parameter((kind.units, features), dtype, bound)
        self.bias = uniform_parameter((kind.units,), dtype, bound) if kind.use_bias else None
        self.activation = torch_activation(kind.activation)

    def compute(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.activation(F.linear(inputs, self.weight, self.bias))


class Activation(NodeModule):
    carries_mask = True

    def __init__(self, kind: layers.Activation) -> None:
        super().__init__()
        self.activation = torch_activation(kind.activation)

    def compute(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.activation(inputs)


class Noise(NodeModule):
    """Dropout and its kin: the identity at inference. In training only Keras's plain Dropout
    drops (nn.Dropout(rate)); the other noise layers have no torch twin and stay the identity."""

    carries_mask = True

    def __init__(self, kind: layers.Dropout) -> None:
        super().__init__()
        self.dropout = nn.Dropout(kind.rate if kind.layer == "dropout" else 0.0)

    def compute(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.dropout(inputs)


class LayerNorm(NodeModule):
    """(x - mean) / sqrt(var + eps) * weight + bias over the last axis; weight, bias optional."""

    carries_mask = True

    def __init__(self, kind: layers.LayerNorm, features: int, dtype: torch.dtype) -> None:
        super().__init__()
        self.epsilon = kind.epsilon
        self.weight = nn.Parameter(torch.ones(features, dtype=dtype)) if kind.scale else None
        self.bias = nn.Parameter(torch.zeros(features, dtype=dtype)) if kind.center else None

    def compute(self, inputs: torch.Tensor) -> torch.Tensor:
        shape = inputs.shape[-1:]
        return F.layer_norm(inputs, shape, self.weight, self.bias, self.epsilon)


class BatchNorm(NodeModule):
    """Per feature of the last axis with moving statistics (buffers), any rank >= 2."""

    carries_mask = True

    def __init__(self, kind: layers.BatchNorm, features: int, dtype: torch.dtype) -> None:
        super().__init__()
        self.epsilon = kind.epsilon
        self.weight = nn.Parameter(torch.ones(features, dtype=dtype)) if kind.scale else None
        self.bias = nn.Parameter(torch.zeros(features, dtype=dtype)) if kind.center else None
        self.register_buffer("running_mean", torch.zeros(features, dtype=dtype))
        self.register_buffer("running_var", torch.ones(features, dtype=dtype))

    def compute(self, inputs: torch.Tensor) -> torch.Tensor:
        moved = inputs.movedim(-1, 1)  # F.batch_norm normalises axis 1: (batch, F, ...)
        normed = F.batch_norm(
            moved,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            training=self.training,
            momentum=KERAS_BATCH_NORM_MOMENTUM,
            eps=self.epsilon,
        )
        return normed.movedim(1, -1)
