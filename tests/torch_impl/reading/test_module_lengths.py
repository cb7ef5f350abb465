"""read_module_graph on forwards fed padded batches with their lengths (tests/user_lengths_nets.py).

The numpy reference of what was read must reproduce the module's own forward within
shared.tolerances (1e-6 float32, 1e-12 float64, scaled by the outputs' magnitude) on two batch
sizes and two time lengths, lengths in any order, the smaller batch's longest sequence shorter
than T. Refusals are one line naming the construct, the node or the source line.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from compare.port.graph_port import check_inputs
from shared.graph.reference import predict
from shared.tolerances import TOLERANCES, allowed_difference
from tests.user_lengths_nets import (
    LENGTHS_NETS,
    VOCAB,
    BidirectionalLastValid,
    ClampCases,
    ClampedBiLSTMSentiment,
    LastValidStep,
    PackedLSTMFinal,
    PythonLoopDecoder,
    SortedBiGRUBothDirections,
    UnpackedBiHalves,
    UnpaddedMean,
    VariableInitialState,
    build,
)
from torch_impl.reading import read_module_graph
from torch_impl.reading.traced_values import GrammarError


def _worst(got: list[np.ndarray], expected: list[np.ndarray], dtype: str) -> float:
    """The largest gap over the outputs, in units of its tolerance."""
    ratios = []
    for a, b in zip(got, expected, strict=True):
        assert a.shape == b.shape
        bound = allowed_difference(TOLERANCES[dtype], float(np.abs(b).max()))
        ratios.append(float(np.abs(a.astype(np.float64) - b).max()) / bound)
    return max(ratios)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "cls", [*LENGTHS_NETS, VariableInitialState, UnpackedBiHalves], ids=lambda c: c.__name__
)
def test_each_lengths_pattern_reads_as_the_module_computes(cls, dtype):
    module = build(cls, dtype)
    weights, reading = read_module_graph(module)
    for _, inputs in check_inputs(weights, seed=1):
        assert (
            _worst(predict(weights, inputs), reading.run(module, weights.graph, inputs), dtype) <= 1
        )


def test_the_graph_has_a_lengths_input_masking_the_recurrent_input():
    weights, _ = read_module_graph(build(PackedLSTMFinal))
    graph = weights.graph
    assert [(i.name, i.kind) for i in graph.inputs] == [("x", "floats"), ("lengths", "lengths")]
    lines = graph.describe()
    assert "lstm_mask = length_mask()(x, lengths)" in lines
    assert "zero_output_for_mask=True" in lines and "(lstm_mask)" in lines


def test_check_inputs_hold_a_batch_whose_longest_sequence_is_shorter_than_t():
    weights, _ = read_module_graph(build(PackedLSTMFinal))
    sets = [inputs for _, inputs in check_inputs(weights)]
    steps = [inputs["x"].shape[1] for inputs in sets]
    assert any(inputs["lengths"].max() < t for inputs, t in zip(sets, steps, strict=True))
    assert any(inputs["lengths"].max() == t for inputs, t in zip(sets, steps, strict=True))
    assert any(np.any(np.diff(inputs["lengths"]) > 0) for inputs in sets)  # not sorted


def test_enforce_sorted_forwards_run_on_sorted_batches_and_answer_in_the_batchs_order():
    module = build(SortedBiGRUBothDirections, "float64")
    weights, reading = read_module_graph(module)
    inputs = check_inputs(weights)[0][1]
    got = reading.run(module, weights.graph, inputs)[0]
    for row in range(3):  # each sample alone is trivially sorted
        one = {name: array[row : row + 1] for name, array in inputs.items()}
        with torch.no_grad():
            alone = module(torch.from_numpy(one["x"]), torch.from_numpy(one["lengths"]))
        np.testing.assert_allclose(got[row], alone.numpy()[0], rtol=0, atol=1e-12)


def test_a_last_valid_step_misread_as_the_last_step_would_differ():
    """Why the reading cannot be out[:, -1]: the padding changes that, not the valid step."""
    module = build(LastValidStep, "float64")
    weights, reading = read_module_graph(module)
    inputs = check_inputs(weights)[1][1]
    padded = dict(inputs, x=inputs["x"].copy())
    padded["x"][np.arange(inputs["x"].shape[1])[None, :] >= inputs["lengths"][:, None]] = 9.0
    run = reading.run(module, weights.graph, padded)[0]
    np.testing.assert_allclose(run, reading.run(module, weights.graph, inputs)[0], atol=1e-12)
    np.testing.assert_allclose(predict(weights, padded)[0], run, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("cls", "words"),
    [
        (
            UnpaddedMean,
            "reads pad_packed_sequence's output without total_length, which has max(lengths) "
            "steps, not the input's T: pass total_length=x.size(1): call_method mean (node mean) "
            "at user_lengths_nets.py:",
        ),
        (
            BidirectionalLastValid,
            "out[torch.arange(B), lengths - 1] of a bidirectional output: its backward half at "
            "lengths - 1 has read one step",
        ),
        (
            PythonLoopDecoder,
            "a Python loop over a traced size (range(x.size(1))), which fx cannot trace: "
            "call_function range (node range",
        ),
    ],
    ids=["no-total-length", "bidirectional-gather", "python-loop"],
)
def test_refusals_are_one_line_naming_the_construct(cls, words):
    with pytest.raises(GrammarError) as caught:
        read_module_graph(build(cls))
    message = str(caught.value)
    assert words in message and "at user_lengths_nets.py:" in message and "\n" not in message
    assert "__cuda_array_interface__" not in message


@pytest.mark.parametrize(
    ("cls", "options"),
    [
        (ClampedBiLSTMSentiment, {"spelling": "clamp"}),
        (ClampedBiLSTMSentiment, {"spelling": "clamp_min"}),
        (ClampCases, {"case": "gather"}),
    ],
    ids=["lengths.clamp", "clamp_min", "gather-at-clamped-lengths-minus-1"],
)
def test_lengths_clamped_to_one_read_step_zero_of_an_empty_sample(cls, options):
    """clamp(min=1) is no identity: a length-0 sample reads its first step (the check inputs
    hold one, so a port that masked it whole, blind to every step, could not pass)."""
    module = build(cls, "float64", **options)
    weights, reading = read_module_graph(module)
    assert "length_mask(min_length=1)" in weights.graph.describe()
    for _, inputs in check_inputs(weights, seed=2):
        empty = inputs["lengths"] == 0
        assert empty.any()
        other = dict(inputs, x=inputs["x"].copy())
        tokens = cls is ClampedBiLSTMSentiment  # another id, or another value, at step 0
        other["x"][empty, 0] = (other["x"][empty, 0] + 1) % VOCAB if tokens else 5.0
        before = reading.run(module, weights.graph, inputs)
        after = reading.run(module, weights.graph, other)
        assert np.abs(after[0][empty] - before[0][empty]).min() > 1e-3  # step 0 is read
        assert _worst(predict(weights, inputs), before, "float64") <= 1
        assert _worst(predict(weights, other), after, "float64") <= 1


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("min2", "clamps lengths other than lengths.clamp(min=1)"),
        ("max", "clamps lengths other than lengths.clamp(min=1)"),
        ("unclamped", "gathers at lengths - 1 with the lengths clamped otherwise than where"),
        ("forward-first", "the forward half at step 0 is no final state of a packed bidirectional"),
        ("third", "only [:4] (forward) and [4:] (backward), the hidden size, ports"),
    ],
)
def test_other_clamps_and_halves_are_refused_in_one_line(case, words):
    with pytest.raises(GrammarError) as caught:
        read_module_graph(build(ClampCases, case=case))
    message = str(caught.value)
    assert words in message and "at user_lengths_nets.py:" in message and "\n" not in message
