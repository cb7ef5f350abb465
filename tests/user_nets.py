"""Torch models written the way PyTorch users write them, for the port and translator tests.

Nothing here uses rnn-parity: plain nn.Module classes (and LightningModules) with their own
forwards, as a user's `my_project/models.py` would hold them, importable for `--module` as
`tests.user_nets:ClassName`. The tests compare ports against the user's own forward, not against
rnn-parity's model of it. Weights are torch's default random initialisation (uniform in
+-1/sqrt(units): non-constant, so a swapped gate, a dropped bias or a wrong readout cannot hide);
`make_net` and `build` seed it.

Two families: `UserNet` (an nn.RNN, nn.LSTM or nn.GRU, then an nn.Linear on the final hidden
state, over TIME_STEPS x FEATURES inputs) for the state-dict and file ports, and the classes of
`PORTED` (forecasting and text code as public repositories write it, traced over
PORTED_TIME_STEPS) plus the ones refused, for the module ports.
"""

from __future__ import annotations

import zlib

import lightning
import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 - the usual spelling
from torch import nn

RECURRENT = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
TIME_STEPS, FEATURES = 5, 2
PORTED_TIME_STEPS = 6


# UserNet: one recurrent module and a linear head, in every kind and arrangement.


class UserNet(nn.Module):
    """A user's forecaster: recurrent layers, then a linear head on the last hidden state.

    Unidirectional nets read `out[:, -1]`; bidirectional ones concatenate both directions'
    final states from h_n, as `torch.cat((h_n[-2], h_n[-1]), dim=1)`, the common idiom.
    With batch_first=False the forward transposes, so callers always pass (batch, time, features).
    """

    def __init__(
        self,
        kind: str,
        num_layers: int = 1,
        bidirectional: bool = False,
        batch_first: bool = True,
        hidden: int = 3,
        features: int = FEATURES,
        outputs: int = 2,
        nonlinearity: str = "tanh",
    ) -> None:
        super().__init__()
        options = {"nonlinearity": nonlinearity} if kind == "rnn" else {}
        self.batch_first = batch_first
        self.rnn = RECURRENT[kind](
            features,
            hidden,
            num_layers=num_layers,
            bidirectional=bidirectional,
            batch_first=batch_first,
            **options,
        )
        self.fc = nn.Linear(hidden * (2 if bidirectional else 1), outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, h_n = self.rnn(x if self.batch_first else x.transpose(0, 1))
        if isinstance(h_n, tuple):  # LSTM: (h_n, c_n)
            h_n = h_n[0]
        if self.rnn.bidirectional:
            return self.fc(torch.cat((h_n[-2], h_n[-1]), dim=1))
        last = out[:, -1] if self.batch_first else out[-1]
        return self.fc(last)


class UserLightning(lightning.LightningModule):
    """A user's LightningModule holding the net as `self.model` (keys "model.rnn.*", ...)."""

    def __init__(self, kind: str = "lstm", num_layers: int = 2, bidirectional: bool = True):
        super().__init__()
        self.save_hyperparameters()
        self.model = UserNet(kind, num_layers, bidirectional)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> torch.Tensor:
        x, y = batch
        return nn.functional.mse_loss(self(x), y)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


def make_net(kind: str, num_layers: int, bidirectional: bool, dtype: str, **options) -> UserNet:
    """A UserNet with seeded random weights in `dtype`, in eval mode."""
    torch.manual_seed(zlib.crc32(f"{kind}{num_layers}{bidirectional}{dtype}".encode()))
    net = UserNet(kind, num_layers, bidirectional, **options)
    return net.to(getattr(torch, dtype)).eval()


def user_inputs(dtype: str, batch: int = 6, seed: int = 0) -> np.ndarray:
    """Standard-normal (batch, TIME_STEPS, FEATURES) inputs in `dtype`."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, TIME_STEPS, FEATURES)).astype(dtype)


def outputs(net: nn.Module, X: np.ndarray) -> np.ndarray:
    """The user's own forward on X, as numpy."""
    with torch.no_grad():
        return net(torch.from_numpy(X)).numpy()


def max_abs(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


# Forecasting and text models as public code writes them (ported), and ones the grammar refuses.


class LSTMForecaster(nn.Module):
    """Two-layer LSTM with dropout=0.2 and zero h0/c0 built from x.size(0), head on out[:, -1]."""

    def __init__(self, input_dim: int = 1, hidden_dim: int = 4, num_layers: int = 2) -> None:
        super().__init__()
        self.hidden_dim, self.num_layers = hidden_dim, num_layers
        self.lstm = nn.LSTM(input_dim, hidden_dim, num_layers, batch_first=True, dropout=0.2)
        self.fc = nn.Linear(hidden_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h0 = torch.zeros(self.num_layers, x.size(0), self.hidden_dim).requires_grad_()
        c0 = torch.zeros(self.num_layers, x.size(0), self.hidden_dim).requires_grad_()
        out, (hn, cn) = self.lstm(x, (h0.to(x).detach(), c0.to(x).detach()))
        return self.fc(out[:, -1, :])


class GRUMultiOutput(nn.Module):
    """A 5-feature GRU with 3 outputs, reading the final state h_n[-1]."""

    def __init__(self, features: int = 5, hidden: int = 4, outputs: int = 3) -> None:
        super().__init__()
        self.gru = nn.GRU(features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h_n = self.gru(x)
        return self.head(h_n[-1])


class MLPHead(nn.Module):
    """nn.RNN, then nn.Sequential(nn.Linear(H, 16), nn.ReLU(), nn.Linear(16, 1))."""

    def __init__(self, hidden: int = 4) -> None:
        super().__init__()
        self.rnn = nn.RNN(2, hidden, batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden, 16), nn.ReLU(), nn.Linear(16, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


class DropoutHead(nn.Module):
    """An LSTM, nn.Dropout on the last step, then the head; sigmoid as a function."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(2, 4, batch_first=True)
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return torch.sigmoid(self.fc(self.dropout(out[:, -1, :])))


class TimeMajorGRU(nn.Module):
    """batch_first=False: the forward takes (time, batch, features) and reads h_n[-1]."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(3, 4, num_layers=2)
        self.fc = nn.Linear(4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h_n = self.gru(x)
        return self.fc(h_n[-1])


class PerStepHead(nn.Module):
    """The head on every step, `self.fc(out)`: outputs (batch, time, 1)."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(2, 4, batch_first=True)
        self.fc = nn.Linear(4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x)
        return self.fc(out)


class LayerNormHead(nn.Module):
    """LSTM, nn.LayerNorm (torch's eps 1e-5), then nn.Linear with a GELU between."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(2, 4, batch_first=True)
        self.norm = nn.LayerNorm(4)
        self.fc1 = nn.Linear(4, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.fc2(nn.functional.gelu(self.fc1(self.norm(out[:, -1]))))


class BatchNormHead(nn.Module):
    """GRU, nn.BatchNorm1d in eval mode (running statistics made non-trivial), nn.Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(2, 4, batch_first=True)
        self.bn = nn.BatchNorm1d(4)
        self.fc = nn.Linear(4, 1)
        with torch.no_grad():
            self.bn.running_mean.uniform_(-0.5, 0.5)
            self.bn.running_var.uniform_(0.5, 1.5)
            self.bn.weight.uniform_(0.5, 1.5)
            self.bn.bias.uniform_(-0.5, 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h_n = self.gru(x)
        return self.fc(self.bn(h_n.squeeze(0)))


class TextClassifier(nn.Module):
    """nn.Embedding -> nn.LSTM -> nn.Linear logits, on token ids (batch, time)."""

    def __init__(self, vocab: int = 20, dim: int = 3, hidden: int = 4, classes: int = 2) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.lstm = nn.LSTM(dim, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out, (h_n, _) = self.lstm(self.embedding(ids))
        return self.fc(h_n[-1])


class SoftmaxClassifier(nn.Module):
    """nn.GRU -> nn.Linear -> softmax over the classes: probabilities, not logits."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(2, 4, batch_first=True)
        self.fc = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x)
        return F.softmax(self.fc(out[:, -1]), dim=1)


class BiLSTMLastStep(nn.Module):
    """A bidirectional LSTM read at out[:, -1, :], as most public code reads it."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(2, 3, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(6, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.fc(out[:, -1, :])


class BiLSTMFinal(nn.Module):
    """A bidirectional two-layer LSTM read at torch.cat((h_n[-2], h_n[-1]), dim=1)."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(2, 3, num_layers=2, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(6, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h_n, _) = self.lstm(x)
        return self.fc(torch.cat((h_n[-2], h_n[-1]), dim=1))


class LitForecaster(lightning.LightningModule):
    """A LightningModule holding the forecaster as `self.model`, rebuilt from its hparams."""

    def __init__(self, hidden_dim: int = 4, num_layers: int = 2) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.model = LSTMForecaster(1, hidden_dim, num_layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], _: int) -> torch.Tensor:
        x, y = batch
        return nn.functional.mse_loss(self(x), y)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


# Refused: outside the grammar, each for a reason a user meets.
class ConvFront(nn.Module):
    """A Conv1d feature extractor before the LSTM."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(2, 2, 3, padding=1)
        self.lstm = nn.LSTM(2, 3, batch_first=True)
        self.fc = nn.Linear(3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x.transpose(1, 2)).transpose(1, 2)
        return self.fc(self.lstm(x)[0][:, -1])


class DataDependentBranch(nn.Module):
    """A forward that branches on the data."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(2, 3, batch_first=True)
        self.fc = nn.Linear(3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x)
        if out.mean() > 0:
            out = -out
        return self.fc(out[:, -1])


class RandomInitialState(nn.Module):
    """h0 drawn at random on every call: no Keras layer starts from noise."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(2, 3, batch_first=True)
        self.fc = nn.Linear(3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h0 = torch.randn(1, x.size(0), 3, dtype=x.dtype)
        return self.fc(self.gru(x, h0)[0][:, -1])


# class -> (input kind, input size): "series" (batch, time, size) / "time_major" / "ids" vocab
PORTED = {
    LSTMForecaster: ("series", 1),
    GRUMultiOutput: ("series", 5),
    MLPHead: ("series", 2),
    DropoutHead: ("series", 2),
    TimeMajorGRU: ("time_major", 3),
    PerStepHead: ("series", 2),
    LayerNormHead: ("series", 2),
    BatchNormHead: ("series", 2),
    TextClassifier: ("ids", 20),
    SoftmaxClassifier: ("series", 2),
    BiLSTMLastStep: ("series", 2),
    BiLSTMFinal: ("series", 2),
}


def build(cls: type, dtype: str = "float32", **kwargs) -> nn.Module:
    """An instance with seeded random weights in `dtype`, in eval mode."""
    torch.manual_seed(zlib.crc32(f"{cls.__name__}{dtype}".encode()))
    return cls(**kwargs).to(getattr(torch, dtype)).eval()


class PackedLSTM(nn.Module):
    """A padded batch with its lengths, packed as torch tutorials do (fx cannot trace it)."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(2, 3, batch_first=True)
        self.fc = nn.Linear(3, 1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths, batch_first=True, enforce_sorted=False
        )
        _, (h_n, _) = self.lstm(packed)
        return self.fc(h_n[-1])


class VariableInitialState(nn.Module):
    """An initial state in the legacy `Variable(torch.zeros(...))` wrapper of older tutorials."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(2, 3, batch_first=True)
        self.fc = nn.Linear(3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h0 = torch.autograd.Variable(torch.zeros(1, x.size(0), 3))
        out, _ = self.gru(x, h0)
        return self.fc(out[:, -1])
