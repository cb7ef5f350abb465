"""Every refusal of the chain tracer has a test of its own, found by planting mutants.

An audit replaced each `raise` of torch_impl/reading/traced*.py in turn by `pass` and ran the
tracer's tests; the refusals below survived it, since no test reached them or one caught only a
later, different error (an AttributeError from inside the walk, a verification mismatch). Each
forward here is what a user could write; each must be refused by its own refusal, in one line
naming the construct and, where the forward has one, the node and its source line. The three
mutants of the issue have theirs in test_traced_mutants.py.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from shared.errors import ModelFileError
from torch_impl.reading.traced_model import trace_module

TIME_STEPS = 5


class _Base(nn.Module):
    """A GRU over 2 features and a linear head: the forwards below differ in one construct."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(2, 3, batch_first=True)
        self.fc = nn.Linear(3, 1)


class Plain(_Base):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.gru(x)[0][:, -1])


class StepLoop(_Base):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        steps = [self.fc(step) for step in x.unbind(1)]  # a Python loop over time
        return steps[-1]


class TwoInputs(_Base):
    def forward(self, x: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        return self.fc(self.gru(x)[0][:, -1])  # `scale` unread: the port would drop an input


class ReturnsTheState(_Base):
    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out, h_n = self.gru(x)
        return self.fc(out[:, -1]), h_n


class ReducedState(_Base):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h_n = self.gru(x)
        return self.fc(h_n.sum(0))


class HeadOnTheState(_Base):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h_n = self.gru(x)
        return self.fc(h_n)  # (1, batch, 1): read as a head on every step it would be wrong


class NormalisedEmbedding(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 2, max_norm=1.0)  # renormalises rows as it reads them
        self.gru = nn.GRU(2, 3, batch_first=True)
        self.fc = nn.Linear(3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.gru(self.embed(x))[0][:, -1])


class HeadBetweenRecurrent(_Base):
    def __init__(self) -> None:
        super().__init__()
        self.gru2 = nn.GRU(1, 3, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gru2(self.fc(self.gru(x)[0]))[0][:, -1]  # a Dense between two recurrents


class ChannelsFirst(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(TIME_STEPS, 3, batch_first=True)  # reads (batch, features, time)
        self.fc = nn.Linear(3, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.gru(x.permute(0, 2, 1))[0][:, -1])


class MixedLayouts(_Base):
    def __init__(self) -> None:
        super().__init__()
        self.time_major = nn.GRU(3, 3)  # batch_first=False, fed batch-major without a transpose

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.time_major(self.gru(x)[0])[0][-1])


class FirstStep(_Base):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.gru(x)[0][:, 0])  # the first step: no readout of the grammar


class ComputedSoftmaxDim(_Base):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.fc(self.gru(x)[0][:, -1])
        return torch.softmax(y, dim=y.dim() - 1)  # a dim the trace only knows as a node


class ActivationFirst(_Base):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.relu(self.gru(x)[0][:, -1]))  # relu on the state, before any Linear


class TwoActivations(_Base):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(torch.relu(self.fc(self.gru(x)[0][:, -1])))  # one Dense holds one


class EndsInTheReadout(_Base):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gru(x)[0][:, -1]  # no nn.Linear: the grammar's final Dense is missing


class NoRecurrent(_Base):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous()  # the modules are held but never run


REFUSED = {
    StepLoop: r"iteration over a traced tensor: call_method unbind .* at test_traced_refusals.py",
    TwoInputs: r"forward takes more than one input: placeholder scale",
    ReturnsTheState: r"forward must return one tensor of the main path: output output",
    ReducedState: r"outside the grammar: call_method sum \(node sum_1\) at test_traced_refusals",
    HeadOnTheState: r"self.fc \(Linear\) reads something other than the model's main path",
    NormalisedEmbedding: r"self.embed \(Embedding\) only ports first, without max_norm",
    HeadBetweenRecurrent: r"self.gru2 \(GRU\) reads the output of a readout or head layer",
    ChannelsFirst: r"self.gru \(GRU\) reads an input whose axes were moved",
    FirstStep: r"outside the grammar \(indexing \(slice\(None, None, None\), 0\)\): call_function",
    ComputedSoftmaxDim: r"softmax without an explicit integer dim: call_function softmax",
    ActivationFirst: r"an activation ports only right after an nn.Linear: call_function relu",
    TwoActivations: r"two activations after one nn.Linear: call_function tanh",
    EndsInTheReadout: r"the forward must end in an nn.Linear .* it ends in the readout",
    NoRecurrent: r"NoRecurrent: the forward runs no nn.RNN/LSTM/GRU",
    MixedLayouts: r"self.time_major \(GRU\) reads its input with the wrong axes: call_module",
}


@pytest.mark.parametrize(
    ("cls", "words"), REFUSED.items(), ids=lambda v: getattr(v, "__name__", "")
)
def test_each_refusal_of_the_chain_tracer_is_its_own(cls, words):
    with pytest.raises(ModelFileError, match=words) as caught:
        trace_module(cls(), TIME_STEPS)
    assert "\n" not in str(caught.value)


def test_what_is_no_module_is_named():
    with pytest.raises(ModelFileError, match="expected a torch nn.Module, got OrderedDict"):
        trace_module(Plain().state_dict(), TIME_STEPS)  # a state dict passed for its module


def test_a_window_the_spec_refuses_is_one_line_not_a_spec_traceback():
    with pytest.raises(ModelFileError, match="outside the grammar: model: time_steps") as caught:
        trace_module(Plain(), 0)  # --time-steps 0
    assert "\n" not in str(caught.value)
