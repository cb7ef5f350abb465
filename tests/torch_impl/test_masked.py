"""The masked recurrence layer by layer: hidden states, handed-on sequences, the two routes.

Each torch recurrent module is fed the very sequence the reference's layer read, so a gap
belongs to that layer alone: its carried states (trace.hidden), the sequence it hands on
(trace.sequences: previous output or zeros at masked steps) and its final states.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shared import reference
from shared.spec import MaskingSpec
from shared.tolerances import TOLERANCES
from shared.weights import random_weights
from tests.specs import DTYPES_FLOAT64_SLOW, LAYER_KINDS, grammar_spec
from tests.torch_impl.helpers import FUSED_KINDS, MASK_PATTERNS, masked_inputs
from torch_impl import from_canonical
from torch_impl.masked import masked_recurrence, step_states, trailing_lengths

# TOLERANCES: few-ulp drift from summation order (see shared/tolerances.py and test_grammar).
KINDS = dict(LAYER_KINDS)


def _gap(a: torch.Tensor, b: np.ndarray) -> float:
    a = a.detach().numpy()
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b)))


def _layers(kind: str, pattern: str, bidirectional: bool, dtype: str):
    """(module, its input, trace, k) for both layers of a masked two-layer model."""
    spec = grammar_spec(
        KINDS[kind], dtype, bidirectional=bidirectional, front=MaskingSpec(), readout="sequence"
    )
    weights = random_weights(spec, seed=71)
    X = masked_inputs(spec, pattern)
    trace = reference.forward(weights, X)
    model = from_canonical(weights)
    keep = MASK_PATTERNS[pattern]
    layer_inputs = [X * keep[:, :, None], trace.sequences[0]]  # what each layer reads
    for k, source in enumerate(layer_inputs):
        yield model.net.recurrent[k].rnn, torch.from_numpy(source.astype(dtype)), trace, k


@pytest.mark.parametrize("dtype", DTYPES_FLOAT64_SLOW)
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("pattern", list(MASK_PATTERNS))
@pytest.mark.parametrize("kind", list(KINDS))
def test_hidden_states_sequences_and_finals_match_reference(kind, pattern, bidirectional, dtype):
    keep = torch.from_numpy(MASK_PATTERNS[pattern])
    directions = ("forward", "backward") if bidirectional else ("forward",)
    for rnn, inputs, trace, k in _layers(kind, pattern, bidirectional, dtype):
        with torch.no_grad():
            for direction in directions:  # carried over masked steps, index t = step t
                states = step_states(rnn, inputs, keep, direction)
                assert _gap(states, trace.hidden[k][direction]) <= TOLERANCES[dtype], (k, direction)
            sequence, finals = masked_recurrence(rnn, inputs, keep, bidirectional)
        assert _gap(sequence, trace.sequences[k]) <= TOLERANCES[dtype], k
        expected = [trace.hidden[k]["forward"][:, -1]]
        if bidirectional:
            expected.append(trace.hidden[k]["backward"][:, 0])
        assert _gap(finals, np.concatenate(expected, axis=1)) <= TOLERANCES[dtype], k


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("kind", FUSED_KINDS)
def test_packed_sequences_and_the_step_loop_agree(kind, bidirectional, dtype):
    """Two routes to one result: torch's packed kernel and the explicit loop, trailing padding."""
    keep = torch.from_numpy(MASK_PATTERNS["end"])
    assert torch.equal(trailing_lengths(keep), torch.tensor([6, 4, 2, 1]))
    for rnn, inputs, trace, k in _layers(kind, "end", bidirectional, dtype):
        with torch.no_grad():
            packed = masked_recurrence(rnn, inputs, keep, bidirectional, packed=True)
            looped = masked_recurrence(rnn, inputs, keep, bidirectional, packed=False)
        for a, b in zip(packed, looped, strict=True):
            assert _gap(a, b.numpy()) <= TOLERANCES[dtype], k
        assert _gap(packed[0], trace.sequences[k]) <= TOLERANCES[dtype], k


def test_packed_route_needs_trailing_padding():
    for pattern in ("middle", "start", "anywhere"):  # "anywhere" has an all-masked sample
        assert trailing_lengths(torch.from_numpy(MASK_PATTERNS[pattern])) is None, pattern
    rnn, inputs, _, _ = next(_layers("lstm", "start", False, "float64"))
    with pytest.raises(ValueError, match="trailing padding"):
        masked_recurrence(rnn, inputs, torch.from_numpy(MASK_PATTERNS["start"]), False, packed=True)


def test_gradients_flow_through_both_routes():
    """Training with masks: the packed route and the loop give the same gradients."""
    grads = []
    for packed in (True, False):
        rnn, inputs, _, _ = next(_layers("gru-reset-after", "end", True, "float64"))
        keep = torch.from_numpy(MASK_PATTERNS["end"])
        sequence, finals = masked_recurrence(rnn, inputs, keep, True, packed=packed)
        (sequence.sum() + finals.square().sum()).backward()
        grads.append({name: p.grad.clone() for name, p in rnn.named_parameters()})
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:
        assert float((grads[0][name] - grads[1][name]).abs().max()) <= 1e-12, name
