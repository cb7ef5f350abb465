"""Small torch models written the way PyTorch users write them, for the user-model port tests.

Nothing here uses rnn-parity: each class is what a user's own script would hold (an nn.RNN,
nn.LSTM or nn.GRU, then an nn.Linear on the final hidden state), so the tests compare ports
against the user's own forward, not against rnn-parity's model of it. torch's default
initialisation draws every weight and bias at random (uniform in +-1/sqrt(units)), so no
constant hides a swapped gate or a dropped bias.
"""

from __future__ import annotations

import zlib

import lightning
import numpy as np
import torch
from torch import nn

RECURRENT = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
TIME_STEPS, FEATURES = 5, 2


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
