"""`compare.testing.assert_same_outputs` passes on a faithful port and explains an unfaithful one.

The helper is what users put in their own suites, so its failure message must point at the
fault: a changed weight shows up as the first layer, direction and time step whose hidden state
diverges; a forward that reads the wrong step shows up as "every hidden state agrees".
Tolerances are the project's (1e-6 float32, 1e-12 float64; see shared/tolerances.py).
"""

from __future__ import annotations

import re

import pytest
import torch

from compare.port import torch_module_to_keras
from compare.testing import assert_same_outputs
from tests.user_nets import TIME_STEPS, UserNet, make_net, user_inputs

# Every case builds a Keras and a torch model and ports between them.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gru_pair(impls):
    """A user's two-layer GRU (float32) and its Keras port."""
    net = make_net("gru", 2, False, "float32")
    return net, torch_module_to_keras(net, time_steps=TIME_STEPS)


def _failure(keras_model, torch_model, **options) -> str:
    with pytest.raises(AssertionError) as caught:
        assert_same_outputs(keras_model, torch_model, **options)
    return str(caught.value)


def test_a_faithful_port_passes_with_default_or_given_inputs(gru_pair):
    net, keras_model = gru_pair
    assert_same_outputs(keras_model, net)
    assert_same_outputs(keras_model, net, user_inputs("float32", batch=3, seed=9))


def test_float64_uses_the_float64_tolerance(impls):
    net = make_net("lstm", 1, True, "float64")
    keras_model = torch_module_to_keras(net, time_steps=TIME_STEPS)
    assert_same_outputs(keras_model, net)
    with torch.no_grad():
        net.fc.bias += 1e-10  # far below float32's tolerance, far above float64's
    message = _failure(keras_model, net)
    assert re.search(r"tolerance \d\.\de-12", message), message
    assert "max abs difference 1.000e-10" in message


@pytest.mark.parametrize(
    ("parameter", "where"),
    [
        ("weight_ih_l0", "layer 0 forward, time step 0"),
        ("weight_hh_l1", "layer 1 forward, time step 1"),  # h_0 = 0: U acts from step 1
    ],
)
def test_a_changed_weight_names_the_first_diverging_hidden_state(gru_pair, parameter, where):
    net, keras_model = gru_pair
    changed = make_net("gru", 2, False, "float32")
    changed.load_state_dict(net.state_dict())
    with torch.no_grad():
        getattr(changed.rnn, parameter)[0, 0] += 0.5
    message = _failure(keras_model, changed)
    assert message.startswith("Keras and torch outputs differ: max abs difference ")
    assert "worst sample " in message and f"first diverging hidden state: {where}" in message


class _LastStep(UserNet):
    """A bidirectional net whose forward reads out[:, -1]: the backward half after one step."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.rnn(x)[0][:, -1])


def test_a_different_forward_is_told_apart_from_different_weights(impls):
    net = make_net("rnn", 1, True, "float32")
    keras_model = torch_module_to_keras(net, time_steps=TIME_STEPS)
    reads_last_step = _LastStep("rnn", 1, True)
    reads_last_step.load_state_dict(net.state_dict())
    message = _failure(keras_model, reads_last_step)
    assert "every hidden state agrees" in message
    assert_same_outputs(keras_model, reads_last_step, atol=10.0)  # a loose atol passes


def test_output_shapes_must_match(gru_pair):
    _, keras_model = gru_pair
    other = make_net("gru", 2, False, "float32", outputs=3)
    assert "output shapes differ: Keras (8, 2), torch (8, 3)" in _failure(keras_model, other)
