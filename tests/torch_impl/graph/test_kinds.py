"""Every non-recurrent node kind in torch vs the numpy reference, float32 and float64.

Kinds that carry or consume masks also run behind a Masking node (padding at the end, middle
and start), followed where needed by a masked average pool, so a mask handed on wrongly shows
in the outputs; a free time axis runs at two lengths.
"""

from __future__ import annotations

import pytest

from shared.graph import layers
from shared.graph import shape_ops as ops
from shared.graph.model import GraphInput, ModelGraph, Node, Ref
from shared.graph.recurrent import Recurrent
from tests.torch_impl.graph.graphs import assert_matches_reference, one_node

DTYPES = ("float32", "float64")
POOL = ops.GlobalPool("average")  # consumes a mask: a wrong one changes the output
SEQ_LSTM = Recurrent("lstm", 2, return_sequences=True)

# name -> (kind, options of one_node)
CASES: dict[str, tuple] = {
    "dense": (layers.Dense(4, "tanh"), {}),
    "dense-no-bias-rank1": (layers.Dense(2, use_bias=False), {"before": (POOL,)}),
    "dense-masked": (layers.Dense(4, "relu"), {"masked": True, "after": (POOL,)}),
    "activation": (layers.Activation("gelu"), {"masked": True, "after": (POOL,)}),
    "layer-norm": (layers.LayerNorm(epsilon=1e-5), {}),
    "layer-norm-no-center": (layers.LayerNorm(center=False), {"masked": True, "after": (POOL,)}),
    "layer-norm-no-scale": (layers.LayerNorm(scale=False), {}),
    "layer-norm-neither": (layers.LayerNorm(center=False, scale=False), {}),
    "batch-norm": (layers.BatchNorm(), {"masked": True, "after": (POOL,)}),
    "batch-norm-rank1": (layers.BatchNorm(epsilon=1e-5, scale=False), {"before": (POOL,)}),
    "batch-norm-no-center": (layers.BatchNorm(center=False), {}),
    "global-average": (POOL, {}),
    "global-average-masked": (POOL, {"masked": True}),
    "global-max-masked": (ops.GlobalPool("max"), {"masked": True}),
    "flatten": (ops.Flatten(), {"time": 5}),
    "repeat": (ops.Repeat(3), {"before": (POOL,)}),
    "step-last": (ops.Step("last"), {}),
    "step-first": (ops.Step("first"), {"masked": True}),
    "softmax-features": (ops.Softmax(), {}),
    "softmax-time": (ops.Softmax(axis=1), {}),
    "softmax-rank1": (ops.Softmax(), {"before": (POOL,)}),
    "conv-valid": (ops.Conv1D(4, 3, activation="relu"), {}),
    "conv-same": (ops.Conv1D(4, 3, padding="same"), {}),
    "conv-same-even": (ops.Conv1D(2, 4, padding="same", use_bias=False), {}),
    "conv-same-strided": (ops.Conv1D(3, 3, strides=2, padding="same"), {}),
    "conv-causal-dilated": (ops.Conv1D(3, 2, padding="causal", dilation_rate=2), {}),
    "conv-valid-strided": (ops.Conv1D(2, 2, strides=2), {}),
    "pool-max": (ops.Pool1D("max", 2), {}),
    "pool-max-same": (ops.Pool1D("max", 3, strides=2, padding="same"), {}),
    "pool-average-same": (ops.Pool1D("average", 2, padding="same"), {}),
    "pool-average-same-3": (ops.Pool1D("average", 3, strides=2, padding="same"), {}),
    "pool-average-stride1": (ops.Pool1D("average", 3, strides=1), {}),
    "masked-lstm-pool": (SEQ_LSTM, {"masked": True, "after": (POOL,)}),
    "reduce-sum-time-masked": (ops.Reduce("sum", 1), {"masked": True}),
    "reduce-mean-features-keep": (ops.Reduce("mean", -1, keepdims=True), {}),
    "reduce-max-time": (ops.Reduce("max", 1), {}),
    "reduce-min-keep": (ops.Reduce("min", 2, keepdims=True), {"before": (SEQ_LSTM,)}),
    "permute": (ops.Permute((2, 1)), {"time": 5}),
    "permute-then-pool": (ops.Permute((2, 1)), {"after": (POOL,), "masked": True}),
}
CASES |= {
    f"dropout-{layer}": (layers.Dropout(0.3, layer), {"masked": True, "after": (POOL,)})
    for layer in layers.NOISE_LAYERS
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_kind_matches_reference(name: str, dtype: str) -> None:
    kind, options = CASES[name]
    assert_matches_reference(one_node(kind, dtype, **options))


def test_embedding_masks_id_zero() -> None:
    for mask_zero in (False, True):
        for dtype in DTYPES:
            nodes = (
                Node("embed", layers.Embedding(6, 3, mask_zero=mask_zero), (Ref("ids"),)),
                Node("rnn", Recurrent("gru", 2, return_sequences=True), (Ref("embed"),)),
                Node("pool", ops.GlobalPool("average"), (Ref("rnn"),)),
            )
            inputs = (GraphInput("ids", "tokens", None),)
            graph = ModelGraph(inputs, nodes, (Ref("pool"), Ref("embed")), dtype)
            assert_matches_reference(graph)


def _two_branches(merge: ops.Merge, dtype: str, *, masked: bool = True) -> ModelGraph:
    """Branches of x merged, then pooled over time: a masked branch (Masking) first when
    `masked`, and a third, unmasked branch where the merge takes more than two."""
    branches = {
        "mask": layers.Masking(),
        "plain": layers.Dense(3),
        "other": layers.Dense(3, "tanh"),
    }
    names = ["mask" if masked else "plain", "other"]
    if masked and merge.op != "subtract":
        names.append("plain")
    nodes = tuple(Node(name, branches[name], (Ref("x"),)) for name in names)
    nodes += (
        Node("merge", merge, tuple(Ref(name) for name in names)),
        Node("pool", ops.GlobalPool("average"), (Ref("merge"),)),
    )
    inputs = (GraphInput("x", "floats", None, 3),)
    return ModelGraph(inputs, nodes, (Ref("pool"),), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("masked", [True, False], ids=["masked", "unmasked"])
@pytest.mark.parametrize("op", ops.MERGE_OPS)
def test_merges_match_reference(op: str, masked: bool, dtype: str) -> None:
    assert_matches_reference(_two_branches(ops.Merge(op), dtype, masked=masked))


@pytest.mark.parametrize("dtype", DTYPES)
def test_concatenate_along_time_joins_masks(dtype: str) -> None:
    assert_matches_reference(_two_branches(ops.Merge("concatenate", axis=1), dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("axes", "second_time"),
    [((2, 2), 4), ((-1, -1), None), ((1, 1), None), ((1, 2), None)],
)
def test_dot_matches_reference(axes: tuple[int, int], second_time: int | None, dtype: str) -> None:
    """Attention scores (time, F)·(time', F), per-step and per-feature contractions, and
    (F,)·(F,) -> (1,) after pooling."""
    first = GraphInput("a", "floats", 5, 3)
    second = GraphInput("b", "floats", second_time or 5, 3)
    nodes: list[Node] = []
    refs = [Ref("a"), Ref("b")]
    if axes == (-1, -1):  # vectors
        nodes += [Node(f"p{n}", ops.GlobalPool(), (Ref(n),)) for n in ("a", "b")]
        refs = [Ref("pa"), Ref("pb")]
    if axes == (1, 2):  # (time, F) . (F', time): transpose b by a dense to time-sized features
        nodes.append(Node("tb", layers.Dense(5), (Ref("b"),)))
        refs = [Ref("a"), Ref("tb")]
    nodes.append(Node("dot", ops.Dot(axes), tuple(refs)))
    graph = ModelGraph((first, second), tuple(nodes), (Ref("dot"),), dtype)
    assert_matches_reference(graph)
