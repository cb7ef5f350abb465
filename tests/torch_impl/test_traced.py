"""torch_impl.trace_module reads users' forwards into the grammar, or refuses them by node.

Every model is a plain nn.Module of tests/user_nets.py (no rnn-parity builder),
with torch's random default weights. A correct reading is proven by numbers, not by names: the
numpy reference run on the canonical weights read must compute the user's own forward, within
1e-6 (float32: a few ulps of summation-order drift on values of size ~1) or 1e-12 (float64).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from compare.port.agreement import random_inputs
from shared.errors import ModelFileError
from shared.reference import predict
from shared.tolerances import TOLERANCES
from tests.specs import DTYPES_FLOAT64_SLOW
from tests.user_nets import (
    PORTED,
    PORTED_TIME_STEPS,
    BiLSTMLastStep,
    ConvFront,
    DataDependentBranch,
    PackedLSTM,
    RandomInitialState,
    VariableInitialState,
    build,
)
from torch_impl import trace_module, traced_outputs

# class name -> the spec the forward is read as (ModelSpec.describe without the dtype)
READ_AS = {
    "LSTMForecaster": "lstm(4, seq) -> dropout(0.2) -> lstm(4) -> dense(1, linear)",
    "GRUMultiOutput": "gru(4) -> dense(3, linear)",
    "MLPHead": "simple(4) -> dense(16, relu) -> dense(1, linear)",
    "DropoutHead": "lstm(4) -> dropout(0.3) -> dense(2, sigmoid)",
    "TimeMajorGRU": "gru(4, seq) -> gru(4) -> dense(1, linear)",
    "PerStepHead": "gru(4, seq) -> dense(1, linear)",
    "LayerNormHead": "lstm(4) -> layer_norm(epsilon=1e-05) -> dense(5, gelu) -> dense(1, linear)",
    "BatchNormHead": "gru(4) -> batch_norm(epsilon=1e-05) -> dense(1, linear)",
    "TextClassifier": "embedding(20, 3) -> lstm(4) -> dense(2, linear)",
    "SoftmaxClassifier": "gru(4) -> dense(3, softmax)",
    "BiLSTMLastStep": "lstm(3, bidirectional, seq) -> last step -> dense(1, linear)",
    "BiLSTMFinal": "lstm(3, bidirectional, seq) -> lstm(3, bidirectional) -> dense(1, linear)",
}


def _own_forward(module: nn.Module, X: np.ndarray) -> np.ndarray:
    """The user's forward on batch-major X, called as the user calls it."""
    inputs = torch.from_numpy(X)
    if getattr(module, "gru", None) is not None and not module.gru.batch_first:
        return module(inputs.transpose(0, 1)).detach().numpy()
    return module(inputs).detach().numpy()


@pytest.mark.parametrize("dtype", DTYPES_FLOAT64_SLOW)
@pytest.mark.parametrize("cls", list(PORTED), ids=lambda cls: cls.__name__)
def test_the_forward_is_read_as_the_grammar_computes_it(cls, dtype):
    module = build(cls, dtype)
    traced = trace_module(module, PORTED_TIME_STEPS)
    spec = traced.weights.spec
    assert spec.describe().split(" [")[0] == READ_AS[cls.__name__]
    assert spec.dtype == dtype
    X = random_inputs(spec, batch=8, seed=1)
    with torch.no_grad():
        own = _own_forward(module, X)
    assert np.abs(predict(traced.weights, X) - own).max() <= TOLERANCES[dtype]
    assert np.array_equal(traced_outputs(traced, module, X), own)


def test_time_major_modules_take_time_major_inputs():
    from tests.user_nets import PerStepHead, TimeMajorGRU

    assert trace_module(build(TimeMajorGRU), PORTED_TIME_STEPS).input_time_major
    assert not trace_module(build(PerStepHead), PORTED_TIME_STEPS).input_time_major


class _BackwardOnly(BiLSTMLastStep):
    def forward(self, x):
        _, (h_n, _) = self.lstm(x)
        return self.fc(torch.cat((h_n[-1], h_n[-1]), dim=1))


class _Softmax(BiLSTMLastStep):
    def forward(self, x):
        return torch.softmax(self.fc(self.lstm(x)[0][:, -1]), dim=0)  # over the batch


class _Residual(BiLSTMLastStep):
    def forward(self, x):
        out = self.lstm(x)[0]
        last = out[:, -1]
        return self.fc(last + last)


class _LearnedState(nn.Module):
    def __init__(self):
        super().__init__()
        self.h0 = nn.Parameter(torch.zeros(1, 1, 3))
        self.gru = nn.GRU(2, 3, batch_first=True)
        self.fc = nn.Linear(3, 1)

    def forward(self, x):
        return self.fc(self.gru(x, self.h0.expand(1, x.size(0), 3).contiguous())[0][:, -1])


@pytest.mark.parametrize(
    ("cls", "words"),
    [
        (ConvFront, "(Conv1d): call_module self.conv (node conv) at user_nets.py"),
        (DataDependentBranch, "data-dependent branch (`if` on a traced tensor): call_function gt"),
        (RandomInitialState, "initial state of self.gru is not zeros"),
        (_LearnedState, "initial state of self.gru is not zeros"),
        (_BackwardOnly, "only torch.cat((h_n[-2], h_n[-1]), dim=1) ports"),
        (_Softmax, "softmax over dim 0: the grammar's softmax is over the features"),
        (_Residual, "outside the grammar: call_function add"),
    ],
    ids=lambda value: getattr(value, "__name__", "")[:20],
)
def test_what_the_grammar_cannot_say_is_refused_in_one_line_naming_the_node(cls, words):
    with pytest.raises(ModelFileError) as caught:
        trace_module(cls(), PORTED_TIME_STEPS)
    message = str(caught.value)
    assert words in message and "\n" not in message, message


@pytest.mark.parametrize(
    ("cls", "words"),
    [
        (PackedLSTM, "its forward packs its batch (pack_padded_sequence) at user_nets.py:"),
        (VariableInitialState, "wraps a tensor in the legacy Variable(...) at user_nets.py:"),
    ],
    ids=["packed", "variable"],
)
def test_what_fx_cannot_trace_is_named_with_its_source_line(cls, words):
    """Packing failed inside torch with "`__cuda_array_interface__` must be a dict", which
    names neither packing nor the user's line."""
    with pytest.raises(ModelFileError) as caught:
        trace_module(build(cls), PORTED_TIME_STEPS)
    message = str(caught.value)
    assert message.startswith(f"{cls.__name__}: ") and words in message, message
    assert "cuda" not in message.lower() and "\n" not in message
