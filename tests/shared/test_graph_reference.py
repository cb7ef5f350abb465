"""The numpy reference over graphs, checked by formula and against itself, framework-free.

Each kind is checked by a property a reader can verify without the reference's own code path:
a masked step acts as if deleted, go_backwards is the forward pass of the reversed sequence,
an initial state continues a run, convolution is numpy's convolution, and the chain grammar's
models compute exactly what the chain reference computes.
"""

from __future__ import annotations

import numpy as np
import pytest

from shared.graph import layers, shape_ops
from shared.graph.chain import graph_weights
from shared.graph.model import GraphInput, ModelGraph, Node, Ref
from shared.graph.recurrent import Recurrent
from shared.graph.reference import evaluate, graph_inputs, predict
from shared.graph.samples import sample_inputs
from shared.graph.weights import GraphWeights, random_weights
from shared.reference import predict as chain_predict
from shared.weights import random_weights as chain_random_weights
from tests.specs import grammar_specs, mixed_spec

DTYPES = ("float32", "float64")
# Two evaluations of one formula in a different order of additions: float32 rounding (~1e-7
# relative per operation over a few dozen operations) or float64's (~1e-16).
TOLERANCE = {"float32": 1e-5, "float64": 1e-12}


def single(kind, time: int | None = 5, features: int = 3, dtype: str = "float64") -> ModelGraph:
    x = GraphInput("x", "floats", time, features)
    return ModelGraph((x,), (Node("n", kind, (Ref("x"),)),), (Ref("n"),), dtype)


def every_output(graph: ModelGraph) -> ModelGraph:
    """`graph` returning every output of its last node (states included)."""
    last = graph.nodes[-1].name
    count = len(graph.nodes[-1].kind.output_shapes(graph.input_shapes(graph.nodes[-1])))
    refs = tuple(Ref(last, index) for index in range(count))
    return ModelGraph(graph.inputs, graph.nodes, refs, graph.dtype)


def run(graph: ModelGraph, weights: dict, inputs) -> list[np.ndarray]:
    return predict(GraphWeights(graph, weights), inputs)


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_chain_computes_what_the_chain_reference_computes(dtype):
    specs = {**grammar_specs(dtype), "mixed": mixed_spec(dtype)}
    for name, spec in specs.items():
        weights = chain_random_weights(spec, seed=3)
        graph_weights_ = graph_weights(weights)
        inputs = sample_inputs(graph_weights_.graph, batch=12, seed=4)["x"]
        expected = chain_predict(weights, inputs)
        (got,) = predict(graph_weights_, inputs)
        np.testing.assert_array_equal(got, expected, err_msg=name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["simple", "lstm", "gru"])
def test_a_masked_step_acts_as_if_deleted(kind, dtype):
    graph = ModelGraph(
        (GraphInput("x", "floats", 6, 2),),
        (
            Node("m", layers.Masking(0.0), (Ref("x"),)),
            Node("r", Recurrent(kind, 3, activation="relu", return_state=True), (Ref("m"),)),
        ),
        (Ref("r", 0), Ref("r", 1)),
        dtype,
    )
    weights = random_weights(graph, seed=1)
    X = np.random.default_rng(2).normal(size=(1, 6, 2)).astype(dtype)
    padded = X.copy()
    padded[0, 2] = 0.0  # step 2 masked
    deleted = np.delete(X, 2, axis=1)
    short = ModelGraph((GraphInput("x", "floats", 5, 2),), graph.nodes, graph.outputs, dtype)
    with_mask = predict(weights, padded)
    without = run(short, weights.arrays, deleted)
    for got, expected in zip(with_mask, without, strict=True):
        np.testing.assert_allclose(got, expected, rtol=0, atol=TOLERANCE[dtype])


def test_masked_outputs_repeat_the_last_output_or_are_zero():
    for zero in (False, True):
        kind = Recurrent("gru", 2, return_sequences=True, zero_output_for_mask=zero)
        graph = ModelGraph(
            (GraphInput("x", "floats", 5, 1),),
            (Node("m", layers.Masking(0.0), (Ref("x"),)), Node("r", kind, (Ref("m"),))),
            (Ref("r"),),
        )
        X = np.array([[[0.0], [1.0], [0.0], [2.0], [0.0]]], dtype="float32")
        (seq,) = predict(random_weights(graph, seed=0), X)
        assert np.all(seq[0, 0] == 0)  # before the first kept step
        if zero:
            assert np.all(seq[0, [2, 4]] == 0)
        else:
            np.testing.assert_array_equal(seq[0, 2], seq[0, 1])
            np.testing.assert_array_equal(seq[0, 4], seq[0, 3])


@pytest.mark.parametrize("dtype", DTYPES)
def test_go_backwards_is_the_forward_pass_of_the_reversed_sequence(dtype):
    forward = single(Recurrent("lstm", 3, return_sequences=True), dtype=dtype)
    backward = single(Recurrent("lstm", 3, return_sequences=True, go_backwards=True), dtype=dtype)
    weights = random_weights(forward, seed=5).arrays
    X = np.random.default_rng(0).normal(size=(4, 5, 3)).astype(dtype)
    (expected,) = run(forward, weights, X[:, ::-1])
    (got,) = run(backward, weights, X)
    np.testing.assert_array_equal(got, expected)  # Keras leaves it in reading order


@pytest.mark.parametrize("mode", ["concat", "sum", "ave", "mul", None])
def test_bidirectional_merges_the_two_directions(mode):
    kind = Recurrent(
        "gru", 2, return_sequences=True, zero_output_for_mask=True, bidirectional=True,
        merge_mode=mode,
    )  # fmt: skip
    graph = single(kind)
    graph = every_output(graph)  # merge_mode None: the forward and the backward sequence
    weights = random_weights(graph, seed=7).arrays["n"]
    half = single(Recurrent("gru", 2, return_sequences=True))
    X = np.random.default_rng(1).normal(size=(3, 5, 3))
    forward = run(half, {"n": _direction(weights, "forward")}, X)[0]
    backward = run(half, {"n": _direction(weights, "backward")}, X[:, ::-1])[0][:, ::-1]
    got = run(graph, {"n": weights}, X)
    expected = {
        "concat": [np.concatenate([forward, backward], axis=-1)],
        "sum": [forward + backward],
        "ave": [(forward + backward) / 2],
        "mul": [forward * backward],
        None: [forward, backward],
    }[mode]
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def _direction(arrays: dict, direction: str) -> dict:
    return {
        key.replace(direction, "forward"): value
        for key, value in arrays.items()
        if key.startswith(direction)
    }


@pytest.mark.parametrize("kind", ["simple", "lstm", "gru"])
def test_an_initial_state_continues_a_run(kind):
    whole = every_output(single(Recurrent(kind, 3, return_state=True), time=6))
    weights = random_weights(whole, seed=2).arrays
    X = np.random.default_rng(3).normal(size=(2, 6, 3))
    expected = run(whole, weights, X)
    head = every_output(single(Recurrent(kind, 3, return_state=True), time=4))
    first = run(head, weights, X[:, :4])
    states = len(first) - 1
    inputs = [GraphInput("x", "floats", 2, 3)] + [
        GraphInput(f"s{i}", "floats", 1, 3) for i in range(states)
    ]
    nodes = [Node(f"f{i}", shape_ops.Flatten(), (Ref(f"s{i}"),)) for i in range(states)]
    references = (Ref("x"), *(Ref(f"f{i}") for i in range(states)))
    nodes.append(Node("n", Recurrent(kind, 3, return_state=True), references))
    outputs = tuple(Ref("n", i) for i in range(states + 1))
    rest = ModelGraph(tuple(inputs), tuple(nodes), outputs, "float64")
    got = run(rest, weights, [X[:, 4:], *(state[:, None, :] for state in first[1:])])
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_no_bias_is_zero_bias():
    with_bias = single(Recurrent("lstm", 3))
    weights = random_weights(with_bias, seed=0).arrays["n"]
    zeroed = {k: (0 * v if "/b/" in k or "/c/" in k else v) for k, v in weights.items()}
    bare = {k: v for k, v in weights.items() if "/b/" not in k and "/c/" not in k}
    X = np.random.default_rng(0).normal(size=(2, 5, 3))
    (expected,) = run(with_bias, {"n": zeroed}, X)
    (got,) = run(single(Recurrent("lstm", 3, use_bias=False)), {"n": bare}, X)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
@pytest.mark.parametrize(("strides", "dilation"), [(1, 1), (2, 1), (1, 2)])
def test_conv1d_is_numpys_correlation(padding, strides, dilation):
    kind = shape_ops.Conv1D(2, 3, strides, padding, dilation, use_bias=False)
    graph = single(kind, time=7, features=2)
    weights = random_weights(graph, seed=1).arrays
    X = np.random.default_rng(0).normal(size=(2, 7, 2))
    (got,) = run(graph, weights, X)
    span = 2 * dilation + 1
    total = {
        "valid": 0,
        "causal": span - 1,
        "same": max((-(-7 // strides) - 1) * strides + span - 7, 0),
    }[padding]
    left = total if padding == "causal" else total // 2
    padded = np.pad(X, ((0, 0), (left, total - left), (0, 0)))
    W = weights["n"]["W"]  # (kernel, in, filters)
    dilated = np.zeros((span, 2, 2))
    dilated[::dilation] = W
    full = (
        np.stack(
            [
                sum(np.correlate(padded[b, :, i], dilated[:, i, f], "valid") for i in range(2))
                for b in range(2)
                for f in range(2)
            ]
        )
        .reshape(2, 2, -1)
        .transpose(0, 2, 1)
    )
    np.testing.assert_allclose(got, full[:, ::strides][:, : got.shape[1]], atol=1e-12)
    assert got.shape[1] == graph.shape(Ref("n"))[0]


def test_pooling_max_and_same_average_count_real_steps_only():
    X = np.arange(10, dtype=float).reshape(1, 5, 2)
    (pooled,) = run(single(shape_ops.Pool1D("max", 2), features=2), {}, X)
    np.testing.assert_array_equal(pooled[0], [[2, 3], [6, 7]])
    (average,) = run(single(shape_ops.Pool1D("average", 2, padding="same"), features=2), {}, X)
    np.testing.assert_array_equal(average[0], [[1, 2], [5, 6], [8, 9]])  # last window: 1 step


def test_average_pooling_excludes_masked_steps_and_max_pooling_does_not():
    X = np.array([[[1.0], [0.0], [3.0], [-5.0]]])
    for op, expected in (("average", (1 + 3 - 5) / 3), ("max", 3.0)):
        graph = ModelGraph(
            (GraphInput("x", "floats", 4, 1),),
            (
                Node("m", layers.Masking(0.0), (Ref("x"),)),
                Node("p", shape_ops.GlobalPool(op), (Ref("m"),)),
            ),
            (Ref("p"),),
        )
        (got,) = run(graph, {}, X)
        assert got[0, 0] == pytest.approx(expected)


def test_attention_pooling_is_a_weighted_sum_over_time():
    sequence = GraphInput("x", "floats", 4, 3)
    graph = ModelGraph(
        (sequence,),
        (
            Node("score", layers.Dense(1), (Ref("x"),)),
            Node("alpha", shape_ops.Softmax(axis=1), (Ref("score"),)),
            Node("ctx", shape_ops.Dot((1, 1)), (Ref("alpha"), Ref("x"))),
            Node("flat", shape_ops.Flatten(), (Ref("ctx"),)),
        ),
        (Ref("flat"), Ref("alpha")),
        "float64",
    )
    X = np.random.default_rng(0).normal(size=(2, 4, 3))
    flat, alpha = predict(random_weights(graph, seed=3), X)
    np.testing.assert_allclose(alpha.sum(axis=1), 1.0)
    np.testing.assert_allclose(flat, np.einsum("bt,btf->bf", alpha[..., 0], X), atol=1e-12)


def test_merges_and_their_masks():
    x = GraphInput("x", "floats", 4, 2)
    graph = ModelGraph(
        (x,),
        (
            Node("m", layers.Masking(0.0), (Ref("x"),)),
            Node("neg", layers.Dense(2, use_bias=False), (Ref("x"),)),
            Node("sub", shape_ops.Merge("subtract"), (Ref("m"), Ref("neg"))),
            Node("time", shape_ops.Merge("concatenate", 1), (Ref("m"), Ref("neg"))),
            Node("mx", shape_ops.Merge("maximum"), (Ref("m"), Ref("neg"), Ref("x"))),
        ),
        (Ref("sub"), Ref("time"), Ref("mx")),
    )
    weights = random_weights(graph, seed=0)
    X = np.random.default_rng(0).normal(size=(1, 4, 2))
    X[0, 1] = 0.0
    trace = evaluate(weights, X)
    W = weights.arrays["neg"]["W"]
    np.testing.assert_allclose(trace.outputs[0], X - X @ W)
    np.testing.assert_array_equal(trace.masks["sub"][0], [[True, False, True, True]])
    np.testing.assert_array_equal(trace.masks["time"][0][0], [1, 0, 1, 1, 1, 1, 1, 1])
    np.testing.assert_allclose(trace.outputs[2], np.maximum(X, X @ W))


def test_inputs_are_checked_by_name_and_shape():
    graph = single(layers.Dense(1), time=None)
    assert graph_inputs(graph, {"x": np.zeros((2, 7, 3))})["x"].dtype == np.float64
    with pytest.raises(Exception, match="input 'x' must be shaped"):
        graph_inputs(graph, np.zeros((2, 3)))
    with pytest.raises(Exception, match="must be named"):
        graph_inputs(graph, {"y": np.zeros((2, 7, 3))})
    fixed = single(layers.Dense(1), time=4)
    with pytest.raises(Exception, match="4 time steps, got 7"):
        graph_inputs(fixed, np.zeros((2, 7, 3)))


def test_free_time_runs_any_length():
    graph = single(Recurrent("simple", 2, return_sequences=True), time=None)
    weights = random_weights(graph, seed=0)
    for time in (3, 9):
        (out,) = predict(weights, sample_inputs(graph, batch=2, time_steps=time))
        assert out.shape == (2, time, 2)


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min"])
def test_reduce_and_permute_are_numpys(op):
    X = np.random.default_rng(0).normal(size=(2, 4, 3))
    (got,) = run(single(shape_ops.Reduce(op, 1), time=4), {}, X)
    np.testing.assert_array_equal(got, getattr(np, op)(X, axis=1))
    (kept,) = run(single(shape_ops.Reduce(op, -1, keepdims=True), time=4), {}, X)
    assert kept.shape == (2, 4, 1)
    (swapped,) = run(single(shape_ops.Permute((2, 1)), time=4), {}, X)
    np.testing.assert_array_equal(swapped, X.transpose(0, 2, 1))
