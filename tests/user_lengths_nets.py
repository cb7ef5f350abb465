"""Torch models fed padded batches with their lengths, written as public code writes them.

Plain nn.Module classes, no rnn-parity inside: `forward(self, x, lengths)` packing with
`pack_padded_sequence` (enforce_sorted False and True, batch-first and time-major), reading
`h_n[-1]`, both directions of `h_n`, or `pad_packed_sequence` (with and without total_length),
gathering the last valid step `out[torch.arange(B), lengths - 1]`, lengths clamped to >= 1
before packing, a bidirectional output split into its directions' final states
(`out[range(B), lengths - 1, :H]`, `out[:, 0, H:]`), and initial states built the
old way (`Variable(torch.zeros(...))`, `.cuda()` behind `if x.is_cuda`). `LENGTHS_NETS` maps
each class that ports to (input kind, features or vocab); the others are refused in one line.
"""

from __future__ import annotations

import zlib

import lightning
import torch
from torch import nn
from torch.autograd import Variable
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

FEATURES, UNITS, VOCAB = 3, 4, 11


class PackedLSTMFinal(nn.Module):
    """The sentiment-classifier pattern: pack, an LSTM, the last layer's h_n."""

    def __init__(self, hidden_dim: int = UNITS) -> None:
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, hidden_dim, batch_first=True)
        self.fc = nn.Linear(hidden_dim, 2)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        _, (h_n, _) = self.lstm(packed)
        return self.fc(h_n[-1])


class SortedBiGRUBothDirections(nn.Module):
    """Two bidirectional GRU layers over sorted batches (enforce_sorted=True); both directions'
    final states of the top layer, concatenated."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(FEATURES, UNITS, num_layers=2, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * UNITS, 1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(x, lengths, batch_first=True)
        _, h_n = self.gru(packed)
        return self.fc(torch.cat((h_n[-2], h_n[-1]), dim=1))


class PackedTokensMeanPool(nn.Module):
    """Token ids: an embedding, pack, a bidirectional LSTM, pad back to the full length and
    average over time (the zeros past each length included, as torch computes it)."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, UNITS)
        self.lstm = nn.LSTM(UNITS, UNITS, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * UNITS, 2)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        embedded = self.embedding(tokens)
        packed = pack_padded_sequence(
            embedded, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=tokens.size(1))
        return self.fc(out.mean(dim=1))


class TimeMajorPackedLastValid(nn.Module):
    """Time-major (time, batch, features): pack, an RNN, pad back (max(lengths) steps), then the
    last valid step of each sequence."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.RNN(FEATURES, UNITS)
        self.fc = nn.Linear(UNITS, 1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)
        out, _ = self.rnn(packed)
        out, _ = pad_packed_sequence(out)  # (max(lengths), batch, units)
        return self.fc(out[lengths - 1, torch.arange(x.size(1))])


class LastValidStep(nn.Module):
    """No packing: a GRU over the padded batch, then the output at each sequence's last step."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(FEATURES, UNITS, num_layers=2, batch_first=True)
        self.fc = nn.Linear(UNITS, 2)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x)
        idx = (lengths - 1).long()
        last = out[torch.arange(out.size(0)), idx, :]
        return self.fc(torch.relu(last))


class RangeLenLastValid(nn.Module):
    """An LSTM's last valid step gathered with Python's range(len(lengths))."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, UNITS, batch_first=True)
        self.fc = nn.Linear(UNITS, 1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.fc(out[range(len(lengths)), lengths - 1, :])


class VariableInitialState(nn.Module):
    """An older tutorial's LSTM: Variable-wrapped zero states moved to the GPU when x is there."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, UNITS, batch_first=True)
        self.fc = nn.Linear(UNITS, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h0 = Variable(torch.zeros(1, x.size(0), UNITS))
        c0 = torch.autograd.Variable(torch.zeros(1, x.size(0), UNITS, dtype=x.dtype))
        if x.is_cuda:
            h0, c0 = h0.cuda(), c0.cuda()
        out, _ = self.lstm(x, (h0.type_as(x), c0.to(x.device)))
        return self.fc(out[:, -1, :])


class ClampedBiLSTMSentiment(nn.Module):
    """A sentiment classifier that clamps the lengths to at least 1 before packing (an empty
    review then reads its first, padding, token), two bidirectional LSTM layers with dropout
    between them, and the top layer's two final states from h_n."""

    def __init__(self, spelling: str = "torch.clamp") -> None:
        super().__init__()
        self.spelling = spelling
        self.embedding = nn.Embedding(VOCAB, UNITS, padding_idx=0)
        self.lstm = nn.LSTM(
            UNITS, UNITS, num_layers=2, bidirectional=True, dropout=0.3, batch_first=True
        )
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(2 * UNITS, 2)

    def forward(self, text: torch.Tensor, text_lengths: torch.Tensor) -> torch.Tensor:
        embedded = self.dropout(self.embedding(text))
        if self.spelling == "torch.clamp":
            text_lengths = torch.clamp(text_lengths, min=1)
        elif self.spelling == "clamp":
            text_lengths = text_lengths.clamp(min=1)
        else:
            text_lengths = text_lengths.clamp_min(1)
        packed = nn.utils.rnn.pack_padded_sequence(
            embedded, text_lengths, batch_first=True, enforce_sorted=False
        )
        _, (hidden, _) = self.lstm(packed)
        hidden = self.dropout(torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1))
        return self.fc(hidden)


class BiGRUSplitFinalStates(nn.Module):
    """The padded output of a packed bidirectional GRU split into its halves: the forward half
    at each sample's last valid step, the backward half at step 0 (its two final states)."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = UNITS
        self.gru = nn.GRU(FEATURES, UNITS, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * UNITS, 1)

    def forward(self, x: torch.Tensor, text_len: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(x, text_len.cpu(), batch_first=True, enforce_sorted=False)
        packed_output, _ = self.gru(packed)
        output, _ = pad_packed_sequence(packed_output, batch_first=True)
        out_forward = output[range(len(output)), text_len - 1, : self.hidden]
        out_reverse = output[:, 0, self.hidden :]
        return self.fc(torch.cat((out_forward, out_reverse), 1))


class UnpackedBiHalves(nn.Module):
    """No lengths: a bidirectional LSTM's output split at its ends, the forward half at the
    last step and the backward half at step 0 (its two final states), time-major."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, UNITS, bidirectional=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)  # (time, batch, 2 * UNITS)
        return torch.cat((out[-1, :, :UNITS], out[0, :, UNITS:]), dim=1)


# class -> (input kind, features or vocab)
LENGTHS_NETS = {
    PackedLSTMFinal: ("floats", FEATURES),
    SortedBiGRUBothDirections: ("floats", FEATURES),
    PackedTokensMeanPool: ("tokens", VOCAB),
    TimeMajorPackedLastValid: ("floats", FEATURES),
    LastValidStep: ("floats", FEATURES),
    RangeLenLastValid: ("floats", FEATURES),
    ClampedBiLSTMSentiment: ("tokens", VOCAB),
    BiGRUSplitFinalStates: ("floats", FEATURES),
}
TIME_MAJOR_INPUT = {TimeMajorPackedLastValid}


class UnpaddedMean(nn.Module):
    """pad_packed_sequence without total_length, then a mean over its max(lengths) steps."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, UNITS, batch_first=True)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = pad_packed_sequence(self.lstm(packed)[0], batch_first=True)
        return out.mean(dim=1)


class BidirectionalLastValid(nn.Module):
    """out[arange, lengths - 1] of a bidirectional output (its backward half read one step)."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, UNITS, batch_first=True, bidirectional=True)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return out[torch.arange(x.size(0)), lengths - 1]


class PythonLoopDecoder(nn.Module):
    """A decoder written as a Python loop over time: beyond any tracer."""

    def __init__(self) -> None:
        super().__init__()
        self.cell = nn.GRUCell(FEATURES, UNITS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.new_zeros(x.size(0), UNITS)
        for t in range(x.size(1)):
            h = self.cell(x[:, t], h)
        return h


class ClampCases(nn.Module):
    """Lengths clamped and read in other ways, by `case`: "gather" packs with clamped lengths and
    gathers at (lengths - 1).clamp(min=0) (ports); "min2", "max" clamp otherwise, "unclamped"
    gathers at the unclamped lengths - 1 (a length 0 would read the last step), "forward-first"
    and "third" slice a bidirectional output's halves where they are no final state (refused)."""

    def __init__(self, case: str = "gather") -> None:
        super().__init__()
        self.case = case
        bidirectional = case in ("forward-first", "third")
        self.lstm = nn.LSTM(FEATURES, UNITS, batch_first=True, bidirectional=bidirectional)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if self.case == "min2":
            clamped = lengths.clamp(min=2)
        elif self.case == "max":
            clamped = lengths.clamp(min=1, max=x.size(1))
        else:
            clamped = lengths.clamp(min=1)
        packed = pack_padded_sequence(x, clamped, batch_first=True, enforce_sorted=False)
        out, _ = pad_packed_sequence(self.lstm(packed)[0], batch_first=True)
        if self.case == "forward-first":
            return out[:, 0, :UNITS]
        if self.case == "third":
            return out[:, 0, UNITS + 1 :]
        index = lengths - 1 if self.case == "unclamped" else (lengths - 1).clamp(min=0)
        return out[torch.arange(x.size(0)), index]


class LitPackedClassifier(lightning.LightningModule):
    """A LightningModule holding the packed classifier as `self.model`, rebuilt from hparams."""

    def __init__(self, hidden_dim: int = UNITS) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.model = PackedLSTMFinal(hidden_dim)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.model(x, lengths)

    def training_step(self, batch: tuple[torch.Tensor, ...], _: int) -> torch.Tensor:
        x, lengths, y = batch
        return nn.functional.cross_entropy(self(x, lengths), y)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=1e-3)


def build(cls: type, dtype: str = "float32", **kwargs: object) -> nn.Module:
    """An instance with seeded random weights in `dtype`, eval mode."""
    torch.manual_seed(zlib.crc32(f"{cls.__name__}{dtype}".encode()))
    return cls(**kwargs).to(getattr(torch, dtype)).eval()
