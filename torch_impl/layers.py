"""The torch modules of the grammar's layers, and one builder per spec layer kind.

`torch_impl.model` assembles a network from these: the front (`FRONTS`), each recurrent layer
(`RecurrentLayer`, its module from `torch_impl.loops.recurrent_module`), then the head layers
(`HEAD_LAYERS`). Both tables are keyed by the spec class, so a new layer kind is one builder
here and one translator in `torch_impl.translators`, never a branch in the model.

Every head module acts on the last (feature) axis, so the same module serves the readouts
"final" (batch, F) and "sequence" (batch, time, F): nn.Linear and nn.LayerNorm do so already,
`StepBatchNorm` transposes to the (batch, C, time) nn.BatchNorm1d needs.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from shared.grammar import (
    BatchNormSpec,
    DenseSpec,
    DropoutSpec,
    EmbeddingSpec,
    LayerNormSpec,
    MaskingSpec,
)
from shared.recurrent_spec import RecurrentLayerSpec
from torch_impl.activations import torch_activation
from torch_impl.masked import masked_recurrence

# Keras BatchNormalization's momentum 0.99 keeps 99% of the old moving statistics per batch;
# torch's momentum is the weight of the new batch, so the same update is torch's 0.01.
KERAS_BATCH_NORM_MOMENTUM = 0.01


class Embedding(nn.Embedding):
    """nn.Embedding that also hands on Keras's mask: id 0 is masked when mask_zero.

    No `padding_idx`: Keras keeps (and trains) row 0 like any other, the mask only skips steps.
    """

    def __init__(self, spec: EmbeddingSpec, dtype: torch.dtype) -> None:
        super().__init__(spec.vocab, spec.dim, dtype=dtype)
        self.mask_zero = spec.mask_zero

    def forward(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """ids (batch, time) int64 -> vectors (batch, time, dim), mask (batch, time) or None."""
        return super().forward(ids), (ids != 0) if self.mask_zero else None


class Masking(nn.Module):
    """Keras's Masking: a step whose features all equal mask_value is masked, and zeroed."""

    def __init__(self, spec: MaskingSpec) -> None:
        super().__init__()
        self.mask_value = spec.mask_value

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """inputs (batch, time, features) -> inputs * mask, mask (batch, time) bool."""
        mask = (inputs != self.mask_value).any(dim=2)
        return inputs * mask[:, :, None].to(inputs.dtype), mask

    def extra_repr(self) -> str:
        return f"mask_value={self.mask_value}"


class Dense(nn.Linear):
    """nn.Linear then a Keras-named activation: Keras's Dense(units, activation)."""

    def __init__(self, in_features: int, spec: DenseSpec, dtype: torch.dtype) -> None:
        super().__init__(in_features, spec.units, dtype=dtype)
        self.activation_name = spec.activation
        self.activation = torch_activation(spec.activation)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.activation(super().forward(inputs))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, activation={self.activation_name}"


class StepBatchNorm(nn.BatchNorm1d):
    """nn.BatchNorm1d over the last axis, for (batch, F) and per step for (batch, time, F)."""

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dim() == 3:  # BatchNorm1d normalises axis 1: (batch, F, time) and back
            return super().forward(inputs.transpose(1, 2)).transpose(1, 2)
        return super().forward(inputs)


class RecurrentLayer(nn.Module):
    """One spec layer: its recurrent module (`.rnn`) plus the features it hands on.

    `output_dropout` (an nn.Dropout) is present only for a nonzero rate, so today's models keep
    exactly their modules, names and random draws. The spec's `dropout` and
    `recurrent_dropout` are recorded only: the identity at inference, and torch's fused modules
    have no per-sample, same-for-every-step input or state dropout like Keras's, so torch
    trains without them.
    """

    def __init__(self, layer: RecurrentLayerSpec, rnn: nn.Module) -> None:
        super().__init__()
        self.units = layer.units
        self.bidirectional = layer.bidirectional
        self.rnn = rnn
        if layer.output_dropout:
            self.output_dropout = nn.Dropout(layer.output_dropout)

    def forward(
        self, inputs: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the layer.

        Args:
            inputs: (batch, time, input).
            mask: (batch, time) bool (True = kept), or None when no step is masked.

        Returns:
            The sequence (batch, time, units * directions) and the final features
            (batch, units * directions): forward state after the last (kept) step, then (when
            bidirectional) the backward state after reading back to step 0.
        """
        if mask is not None and not bool(mask.all()):
            sequence, finals = masked_recurrence(self.rnn, inputs, mask, self.bidirectional)
        else:
            sequence = self.rnn(inputs)[0]
            parts = [sequence[:, -1, : self.units]]
            if self.bidirectional:
                parts.append(sequence[:, 0, self.units :])
            finals = torch.cat(parts, dim=1)
        if hasattr(self, "output_dropout"):
            sequence = self.output_dropout(sequence)
        return sequence, finals


# spec class -> builder(spec, dtype): the module reading the model's inputs (see RecurrentNet)
FRONTS: dict[type, Callable[..., nn.Module]] = {
    EmbeddingSpec: Embedding,
    MaskingSpec: lambda spec, dtype: Masking(spec),
}
# spec class -> builder(spec, in_features, dtype): one head layer acting on the last axis
HEAD_LAYERS: dict[type, Callable[..., nn.Module]] = {
    DenseSpec: lambda spec, size, dtype: Dense(size, spec, dtype),
    DropoutSpec: lambda spec, size, dtype: nn.Dropout(spec.rate),
    LayerNormSpec: lambda spec, size, dtype: nn.LayerNorm(size, eps=spec.epsilon, dtype=dtype),
    BatchNormSpec: lambda spec, size, dtype: StepBatchNorm(
        size, eps=spec.epsilon, momentum=KERAS_BATCH_NORM_MOMENTUM, dtype=dtype
    ),
}
