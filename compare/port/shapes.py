"""The models people write, as specs of the grammar: the shapes every port is proven on.

Each is a shape public Keras tutorials and forecasting projects use, that rnn-parity refused
before its grammar grew beyond "recurrent stack + one Dense". The report's forward-agreement
section runs one row per shape, and the tests port each through files in both directions.
Sizes are small (a few units) so a row costs seconds; what matters is the wiring.
"""

from __future__ import annotations

from collections.abc import Callable

from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import (
    BatchNormSpec,
    DenseSpec,
    DropoutSpec,
    EmbeddingSpec,
    LayerNormSpec,
    MaskingSpec,
    ModelSpec,
)


def stacked_forecaster(dtype: str) -> ModelSpec:
    """LSTM(return_sequences), Dropout(0.2), LSTM, Dropout(0.2), Dense(1)."""
    layers = (
        RecurrentLayerSpec("lstm", 5, return_sequences=True, output_dropout=0.2),
        RecurrentLayerSpec("lstm", 4),
    )
    return ModelSpec(12, 1, layers, DenseSpec(1), dtype, head_layers=(DropoutSpec(0.2),))


def lstm_dropouts(dtype: str) -> ModelSpec:
    """LSTM(dropout=0.2, recurrent_dropout=0.2), Dense(1): both rates idle at inference."""
    layer = RecurrentLayerSpec("lstm", 4, dropout=0.2, recurrent_dropout=0.2)
    return ModelSpec(12, 1, (layer,), DenseSpec(1), dtype)


def mlp_head(dtype: str) -> ModelSpec:
    """SimpleRNN, Dense(relu), Dense(1)."""
    head = (DenseSpec(6, "relu"),)
    return ModelSpec(
        12, 1, (RecurrentLayerSpec("simple", 5),), DenseSpec(1), dtype, head_layers=head
    )


def per_step_head(dtype: str) -> ModelSpec:
    """GRU(return_sequences), TimeDistributed(Dense(1)): one output per time step."""
    layer = RecurrentLayerSpec("gru", 4, return_sequences=True)
    return ModelSpec(12, 1, (layer,), DenseSpec(1), dtype)


def text_classifier(dtype: str) -> ModelSpec:
    """Embedding(vocab, 8, mask_zero=True), LSTM, Dense(1, sigmoid): padded token ids."""
    front = EmbeddingSpec(30, 8, mask_zero=True)
    layer = RecurrentLayerSpec("lstm", 4)
    return ModelSpec(10, 1, (layer,), DenseSpec(1, "sigmoid"), dtype, front=front)


def layer_norm_head(dtype: str) -> ModelSpec:
    """GRU, LayerNormalization (Keras's epsilon 1e-3), Dense(1)."""
    head = (LayerNormSpec(1e-3),)
    return ModelSpec(12, 1, (RecurrentLayerSpec("gru", 4),), DenseSpec(1), dtype, head_layers=head)


def batch_norm_head(dtype: str) -> ModelSpec:
    """LSTM, BatchNormalization (moving statistics), Dense(1)."""
    head = (BatchNormSpec(1e-3),)
    return ModelSpec(12, 1, (RecurrentLayerSpec("lstm", 4),), DenseSpec(1), dtype, head_layers=head)


def masked_bidirectional(dtype: str) -> ModelSpec:
    """Masking(0.0), Bidirectional(GRU, return_sequences), Dense per step: padded series."""
    layer = RecurrentLayerSpec("gru", 3, return_sequences=True, bidirectional=True)
    return ModelSpec(12, 2, (layer,), DenseSpec(1), dtype, front=MaskingSpec(0.0))


def bidirectional_last_step(dtype: str) -> ModelSpec:
    """Bidirectional(LSTM, return_sequences), last step (torch's out[:, -1]), Dense(1)."""
    layer = RecurrentLayerSpec("lstm", 3, return_sequences=True, bidirectional=True)
    return ModelSpec(12, 1, (layer,), DenseSpec(1), dtype, readout="last_step")


# label -> spec builder, in the order the report lists them.
SHAPES: dict[str, Callable[[str], ModelSpec]] = {
    "stacked forecaster (dropout)": stacked_forecaster,
    "lstm dropout rates": lstm_dropouts,
    "mlp head": mlp_head,
    "per-step head": per_step_head,
    "embedding + mask_zero": text_classifier,
    "layer norm": layer_norm_head,
    "batch norm": batch_norm_head,
    "masking + bidirectional": masked_bidirectional,
    "bidirectional last step": bidirectional_last_step,
}
