"""Torch models that are small graphs, written as public code writes them, for the graph reader.

Plain nn.Module classes, no rnn-parity inside: pooling and attention over time, merged branches,
residuals, an encoder's states handed to a decoder, a convolutional front, token ids. Each is
read by `torch_impl.read_module_graph` and ported by `torch_module_to_keras`, and both are held
to the module's own forward. `GRAPH_NETS` maps each class to (input kind, features or vocab,
time_steps the reader needs or None); `build` seeds torch's default random initialisation
(non-constant weights: a swapped gate or a wrong step cannot hide).
"""

from __future__ import annotations

import zlib

import torch
import torch.nn.functional as F  # noqa: N812 - the usual spelling
from torch import nn

FEATURES, UNITS, VOCAB = 3, 4, 11


class ReluRNNMeanPool(nn.Module):
    """nn.RNN(nonlinearity="relu"), mean over time, a linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.RNN(FEATURES, UNITS, nonlinearity="relu", batch_first=True)
        self.fc = nn.Linear(UNITS, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.fc(out.mean(dim=1))


class BiLSTMFinalAndMax(nn.Module):
    """Two bidirectional layers; both final states of the top layer beside max-pooled outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, UNITS, num_layers=2, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(4 * UNITS, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, (h_n, c_n) = self.lstm(x)
        final = torch.cat((h_n[-2], h_n[-1]), dim=1)
        pooled = out.max(dim=1)[0]
        return self.fc(torch.cat([final, pooled], dim=-1))


class TimeMajorStackedGRU(nn.Module):
    """A time-major two-layer GRU taking (time, batch, features): the last step, torch.max pool."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(FEATURES, UNITS, num_layers=2)
        self.fc = nn.Linear(2 * UNITS, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, h_n = self.gru(x)  # (time, batch, units)
        pooled, _ = torch.max(out, 0)
        return self.fc(torch.cat((out[-1], pooled), dim=1))


class TimeMajorTokens(nn.Module):
    """Time-major token ids (time, batch): an embedding, a projection, a time-major LSTM."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, UNITS)
        self.proj = nn.Linear(UNITS, UNITS)
        self.lstm = nn.LSTM(UNITS, UNITS)
        self.fc = nn.Linear(UNITS, 2)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(torch.tanh(self.proj(self.embedding(ids))))
        return self.fc(out[-1] + out.mean(0))


class BmmAttention(nn.Module):
    """Attention pooling: scores, softmax over time, torch.bmm of the weights with the outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(FEATURES, UNITS, batch_first=True)
        self.attn = nn.Linear(UNITS, 1)
        self.fc = nn.Linear(UNITS, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x)
        weights = F.softmax(self.attn(out), dim=1)  # (batch, time, 1)
        context = torch.bmm(weights.transpose(1, 2), out).squeeze(1)
        return torch.sigmoid(self.fc(context))


class EncoderDecoder(nn.Module):
    """The encoder's (h, c) handed to the decoder; a head on every decoder step."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.LSTM(FEATURES, UNITS, batch_first=True)
        self.decoder = nn.LSTM(FEATURES, UNITS, batch_first=True)
        self.out = nn.Linear(UNITS, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h, c) = self.encoder(x)
        decoded, _ = self.decoder(x, (h, c))
        return F.softmax(self.out(decoded), dim=-1)


class ResidualNormHead(nn.Module):
    """A projection on every step, an LSTM with zeros initial states, residual + LayerNorm."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(FEATURES, UNITS)
        self.lstm = nn.LSTM(UNITS, UNITS, batch_first=True)
        self.norm = nn.LayerNorm(UNITS, eps=1e-3)
        self.drop = nn.Dropout(0.3)
        self.head = nn.Sequential(nn.Linear(UNITS, UNITS), nn.GELU(), nn.Linear(UNITS, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h0 = torch.zeros(1, x.size(0), UNITS, dtype=x.dtype)
        c0 = torch.zeros(1, x.size(0), UNITS, dtype=x.dtype)
        projected = F.leaky_relu(self.proj(x), negative_slope=0.2)
        out, _ = self.lstm(projected, (h0, c0))
        out = self.drop(self.norm(out + projected))
        return self.head(out[:, -1, :])


class GatedTokens(nn.Module):
    """Token ids, a bidirectional bias-free GRU, a sigmoid gate (`*`), h_n[-2:] flattened,
    BatchNorm1d."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, UNITS)
        self.gru = nn.GRU(UNITS, UNITS, batch_first=True, bidirectional=True, bias=False)
        self.gate = nn.Linear(UNITS, UNITS)
        self.norm = nn.BatchNorm1d(2 * UNITS)
        self.fc = nn.Linear(2 * UNITS, 3)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        embedded = self.embedding(ids)
        gated = torch.sigmoid(self.gate(embedded)) * embedded
        _, h_n = self.gru(gated)
        final = h_n[-2:].transpose(0, 1).reshape(ids.size(0), -1)
        return self.fc(self.norm(final))


class ConvPoolLSTM(nn.Module):
    """A channels-first Conv1d front with max pooling, between the usual permutes."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(FEATURES, UNITS, kernel_size=3, padding=1)
        self.pool = nn.MaxPool1d(2)
        self.lstm = nn.LSTM(UNITS, UNITS, batch_first=True)
        self.fc = nn.Linear(UNITS, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 1)  # (batch, features, time)
        x = self.pool(torch.relu(self.conv(x)))
        out, (h_n, _) = self.lstm(x.permute(0, 2, 1))
        return self.fc(h_n[-1])


class TransposedTanhPool(nn.Module):
    """Batch-major input transposed for a time-major tanh nn.RNN, average pooling over pairs of
    steps (channels first), the mean over time, elu."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.RNN(FEATURES, UNITS)
        self.pool = nn.AvgPool1d(2)
        self.fc = nn.Linear(UNITS, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x.transpose(0, 1))  # (time, batch, units)
        pooled = self.pool(out.permute(1, 2, 0))  # (batch, units, time // 2)
        return self.fc(F.elu(pooled.mean(-1)))


class ProjectedHandoff(nn.Module):
    """The encoder's last state, projected, starts the decoder (`h.unsqueeze(0)`)."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.GRU(FEATURES, UNITS, batch_first=True)
        self.bridge = nn.Linear(UNITS, UNITS)
        self.decoder = nn.GRU(FEATURES, UNITS, batch_first=True)
        self.fc = nn.Linear(UNITS, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h_n = self.encoder(x)
        h0 = torch.tanh(self.bridge(h_n[-1])).unsqueeze(0)
        out, _ = self.decoder(x, h0)
        return self.fc(out[:, -1])


class FlattenHead(nn.Module):
    """Every step's output flattened into the head: the time axis must be fixed."""

    def __init__(self, time_steps: int = 6) -> None:
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, UNITS, batch_first=True)
        self.fc = nn.Linear(time_steps * UNITS, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.fc(out.reshape(x.size(0), -1))


class AttentionSum(nn.Module):
    """Attention pooling written as (weights * out).sum(1): a merge and a reduce."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, UNITS, batch_first=True)
        self.attn = nn.Linear(UNITS, 1)
        self.fc = nn.Linear(UNITS, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        weights = torch.softmax(self.attn(out), dim=1)
        return self.fc(torch.sum(weights * out, 1))


class TimeMixing(nn.Module):
    """An nn.Linear over the time axis (`out.transpose(1, 2)`), as forecasters mix steps."""

    def __init__(self, time_steps: int = 6) -> None:
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, UNITS, batch_first=True)
        self.mix = nn.Linear(time_steps, 1)
        self.fc = nn.Linear(UNITS, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        mixed = self.mix(out.transpose(1, 2)).squeeze(-1)  # (batch, units)
        return self.fc(mixed)


class TimeMixingBareSqueeze(TimeMixing):
    """TimeMixing with a bare `.squeeze()`, as public forecasters write it: the one axis of
    size 1 (batch aside) is the one dropped."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        mixed = self.mix(out.transpose(1, 2))  # (batch, units, 1)
        return self.fc(mixed.squeeze())  # (batch, units)


# Refused: each one line naming the node and the user's line.


class _LSTMThenLinear(nn.Module):
    """An LSTM and a one-output linear head: the refused forwards below differ in what joins
    them."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, UNITS, batch_first=True)
        self.fc = nn.Linear(UNITS, 1)


class SqueezedToTheBatch(_LSTMThenLinear):
    """`fc(out[:, -1]).squeeze()`, a (batch,) output: no value of a graph drops its last
    per-sample axis, so refused, saying to return (batch, 1)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.fc(out[:, -1, :]).squeeze()


class LearnedInitialState(nn.Module):
    """A learned h0 passed as hx: refused, never dropped."""

    def __init__(self) -> None:
        super().__init__()
        self.h0 = nn.Parameter(torch.randn(1, 1, UNITS))
        self.gru = nn.GRU(FEATURES, UNITS, batch_first=True)
        self.fc = nn.Linear(UNITS, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h0 = self.h0.expand(1, x.size(0), UNITS).contiguous()
        out, _ = self.gru(x, hx=h0)
        return self.fc(out.mean(dim=1))


class CumulativeSum(_LSTMThenLinear):
    """torch.cumsum over time: no graph node computes it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.fc(torch.cumsum(out, dim=1)[:, -1])


class TorchLeakySlope(nn.Module):
    """leaky_relu with torch's default slope 0.01, which Keras's leaky_relu does not have."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(FEATURES, UNITS, batch_first=True)
        self.fc = nn.Linear(UNITS, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x)
        return self.fc(F.leaky_relu(out.mean(1)))


# class -> (input kind, features or vocab, time_steps the reader needs or None)
GRAPH_NETS = {
    ReluRNNMeanPool: ("floats", FEATURES, None),
    BiLSTMFinalAndMax: ("floats", FEATURES, None),
    TimeMajorStackedGRU: ("floats", FEATURES, None),
    BmmAttention: ("floats", FEATURES, None),
    EncoderDecoder: ("floats", FEATURES, None),
    ResidualNormHead: ("floats", FEATURES, 6),  # one step of a processed sequence
    GatedTokens: ("tokens", VOCAB, None),
    ConvPoolLSTM: ("floats", FEATURES, None),
    FlattenHead: ("floats", FEATURES, 6),
    TransposedTanhPool: ("floats", FEATURES, None),
    TimeMajorTokens: ("tokens", VOCAB, None),
    ProjectedHandoff: ("floats", FEATURES, None),
}
# forwards that take their input time-major, (time, batch, ...)
TIME_MAJOR_INPUT = {TimeMajorStackedGRU, TimeMajorTokens}
# Keras's float64 leaky_relu and gelu round their constants through float32 (see
# tests/keras_impl/test_forward.py): a float64 port of these is refused, the Keras model at fault
KERAS_FLOAT32_CONSTANTS = {ResidualNormHead}
# need the reduce and permute nodes in keras_impl and torch_impl
NEEDS_NEW_NODES = {
    AttentionSum: ("floats", FEATURES, None),
    TimeMixing: ("floats", FEATURES, 6),
    TimeMixingBareSqueeze: ("floats", FEATURES, 6),
}


def build(cls: type, dtype: str = "float32") -> nn.Module:
    """An instance with seeded random weights (BatchNorm statistics too) in `dtype`, eval mode."""
    torch.manual_seed(zlib.crc32(f"{cls.__name__}{dtype}".encode()))
    module = cls()
    for sub in module.modules():
        if isinstance(sub, nn.BatchNorm1d):
            sub.running_mean.normal_()
            sub.running_var.uniform_(0.5, 1.5)
    return module.to(getattr(torch, dtype)).eval()


class FirstLayerState(nn.Module):
    """h_n[0] of a two-layer LSTM: layer 0's final state feeds the head."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(2, 3, num_layers=2, batch_first=True)
        self.fc = nn.Linear(3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h_n, _) = self.lstm(x)
        return self.fc(h_n[0])  # layer 0's final state, not the last layer's


class SwappedDirections(nn.Module):
    """cat((h_n[-1], h_n[-2])): the backward final state first."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(2, 3, bidirectional=True, batch_first=True)
        self.fc = nn.Linear(6, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h_n, _) = self.lstm(x)
        return self.fc(torch.cat((h_n[-1], h_n[-2]), dim=1))  # backward first
