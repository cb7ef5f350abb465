"""Small model graphs, one per node kind and recurrent option, and the check against the
reference that every Keras graph test makes.

Graphs are tiny (3 features, 4 units) so each builds and runs in well under a second; the time
axis is free unless the kind needs it known, so each check runs two lengths. Graphs that mask
start with Masking, so `shared.graph.samples` plants padding at the end, middle and start.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

from keras_impl.graph import graph_predict, graph_to_canonical
from shared.graph import reference
from shared.graph.base import NodeKind
from shared.graph.layers import (
    Activation,
    BatchNorm,
    Dense,
    Dropout,
    Embedding,
    LayerNorm,
    Masking,
)
from shared.graph.model import GraphInput, ModelGraph, Node, Ref
from shared.graph.recurrent import Recurrent
from shared.graph.samples import sample_inputs
from shared.graph.shape_ops import (
    Conv1D,
    Dot,
    Flatten,
    GlobalPool,
    Merge,
    Permute,
    Pool1D,
    Reduce,
    Repeat,
    Softmax,
    Step,
)
from shared.tolerances import TOLERANCES, allowed_difference

FEATURES, UNITS, BATCH = 3, 4, 8
TIME_LENGTHS = (4, 7)  # the two lengths run where the time axis is free
FIXED_TIME = 6


def chain(
    *kinds: NodeKind, time: int | None = None, masked: bool = False, tokens: bool = False
) -> ModelGraph:
    """Input -> [Masking] -> kinds in a row (node names n0, n1, ...); the last is the output."""
    graph_input = (
        GraphInput("x", "tokens", time) if tokens else GraphInput("x", "floats", time, FEATURES)
    )
    front = (Masking(),) if masked else ()
    nodes, previous = [], "x"
    for index, kind in enumerate((*front, *kinds)):
        nodes.append(Node(f"n{index}", kind, (Ref(previous),)))
        previous = f"n{index}"
    return ModelGraph((graph_input,), tuple(nodes), (Ref(previous),))


def rnn(kind: str = "lstm", **options: object) -> Recurrent:
    return Recurrent(kind, UNITS, **options)


def seq(kind: str = "lstm", **options: object) -> Recurrent:
    return Recurrent(kind, UNITS, return_sequences=True, **options)


def with_states(kind: str, bidirectional: bool = False, masked: bool = False) -> ModelGraph:
    """Encoder (return_state) handing its final states to a decoder's initial_state."""
    where = {"merge_mode": "concat", "bidirectional": True} if bidirectional else {}
    encoder = Recurrent(kind, UNITS, return_state=True, **where)
    decoder = Recurrent(
        kind, UNITS, return_sequences=True, zero_output_for_mask=bidirectional, **where
    )
    states = tuple(Ref("enc", 1 + i) for i in range(encoder.state_count))
    front = (Node("mask", Masking(), (Ref("x"),)),) if masked else ()
    source = "mask" if masked else "x"
    nodes = (
        *front,
        Node("enc", encoder, (Ref(source),)),
        Node("dec", decoder, (Ref("y"), *states)),
    )
    inputs = (GraphInput("x", "floats", None, FEATURES), GraphInput("y", "floats", None, 2))
    return ModelGraph(inputs, nodes, (Ref("dec"), *states))


def merged(op: str, axis: int = -1, masked: bool = False) -> ModelGraph:
    """Two branches of one input (one going backwards) merged by `op`."""
    nodes = [
        Node("a", seq("gru"), (Ref("x"),)),
        Node("b", seq("simple", go_backwards=True), (Ref("x"),)),
        Node("m", Merge(op, axis), (Ref("a"), Ref("b"))),
        Node("out", seq("lstm"), (Ref("m"),)),
    ]
    if masked:
        nodes.insert(0, Node("mask", Masking(), (Ref("x"),)))
        nodes[1:3] = [Node(n.name, n.kind, (Ref("mask"),)) for n in nodes[1:3]]
    return ModelGraph((GraphInput("x", "floats", None, FEATURES),), tuple(nodes), (Ref("out"),))


def attention(use_dot: bool) -> ModelGraph:
    """Scores Dense(1) over a bidirectional sequence, softmax over time, weighted sum."""
    combine = (
        Node("context", Dot((1, 1)), (Ref("weights"), Ref("bi")))
        if use_dot
        else Node("context", Merge("multiply"), (Ref("weights_wide"), Ref("bi")))
    )
    nodes = [
        Node("bi", seq("lstm", bidirectional=True, zero_output_for_mask=True), (Ref("x"),)),
        Node("scores", Dense(1, "tanh"), (Ref("bi"),)),
        Node("weights", Softmax(axis=1), (Ref("scores"),)),
        combine,
        Node("head", Dense(2), (Ref("context"),)),
    ]
    if not use_dot:
        nodes.insert(3, Node("weights_wide", Dense(2 * UNITS, use_bias=False), (Ref("weights"),)))
        nodes.insert(5, Node("pooled", GlobalPool("average"), (Ref("context"),)))
        nodes[-1] = Node("head", Dense(2), (Ref("pooled"),))
    return ModelGraph((GraphInput("x", "floats", None, FEATURES),), tuple(nodes), (Ref("head"),))


# name -> graph factory: every recurrent option, then every other node kind.
RECURRENT_GRAPHS: dict[str, Callable[[], ModelGraph]] = {
    **{f"{k}_final": (lambda k=k: chain(rnn(k))) for k in ("simple", "lstm", "gru")},
    **{f"{k}_sequence": (lambda k=k: chain(seq(k))) for k in ("simple", "lstm", "gru")},
    **{
        f"{k}_masked": (lambda k=k: chain(seq(k), rnn(k), masked=True))
        for k in ("simple", "lstm", "gru")
    },
    "go_backwards_sequence": lambda: chain(seq("lstm", go_backwards=True)),
    "go_backwards_final_masked": lambda: chain(rnn("gru", go_backwards=True), masked=True),
    "go_backwards_sequence_masked": lambda: chain(seq("simple", go_backwards=True), masked=True),
    "no_bias": lambda: chain(seq("lstm", use_bias=False), rnn("gru", use_bias=False)),
    "activations": lambda: chain(
        seq("lstm", activation="relu", recurrent_activation="hard_sigmoid"),
        rnn("simple", activation="linear"),
    ),
    "gru_reset_before": lambda: chain(seq("gru", reset_after=False), rnn("gru", reset_after=False)),
    "zero_output_for_mask": lambda: chain(seq("lstm", zero_output_for_mask=True), masked=True),
    "zero_output_final": lambda: chain(rnn("gru", zero_output_for_mask=True), masked=True),
    **{
        f"return_state_{k}": (lambda k=k: chain(rnn(k, return_state=True)))
        for k in ("simple", "lstm", "gru")
    },
    **{
        f"bidirectional_{mode}": (
            lambda mode=mode: chain(
                seq("gru", bidirectional=True, merge_mode=mode, zero_output_for_mask=True),
                masked=True,
            )
        )
        for mode in ("concat", "sum", "ave", "mul")
    },
    "bidirectional_none_states": lambda: chain(
        rnn("lstm", bidirectional=True, merge_mode=None, return_state=True)
    ),
    "bidirectional_final_masked": lambda: chain(rnn("lstm", bidirectional=True), masked=True),
    "initial_state_lstm": lambda: with_states("lstm"),
    "initial_state_gru_masked": lambda: with_states("gru", masked=True),
    "initial_state_bidirectional": lambda: with_states("lstm", bidirectional=True),
}

OTHER_GRAPHS: dict[str, Callable[[], ModelGraph]] = {
    "embedding": lambda: chain(Embedding(9, FEATURES), rnn("gru"), tokens=True),
    "embedding_mask_zero": lambda: chain(
        Embedding(9, FEATURES, mask_zero=True), seq("lstm"), tokens=True
    ),
    "dense_sequence_masked": lambda: chain(seq("gru"), Dense(2, "relu"), masked=True),
    "dense_no_bias": lambda: chain(rnn("lstm"), Dense(2, use_bias=False)),
    "activation": lambda: chain(rnn("lstm"), Dense(3), Activation("sigmoid")),
    **{
        f"dropout_{layer}": (lambda layer=layer: chain(seq("gru"), Dropout(0.3, layer), rnn("gru")))
        for layer in (
            "dropout",
            "spatial_dropout1d",
            "gaussian_noise",
            "gaussian_dropout",
            "alpha_dropout",
        )
    },
    "layer_norm": lambda: chain(seq("lstm"), LayerNorm(epsilon=1e-5), rnn("lstm")),
    "layer_norm_no_center": lambda: chain(rnn("lstm"), LayerNorm(center=False)),
    "layer_norm_no_scale": lambda: chain(rnn("lstm"), LayerNorm(scale=False)),
    "batch_norm": lambda: chain(seq("gru"), BatchNorm(epsilon=1e-4), rnn("gru")),
    "batch_norm_flags": lambda: chain(rnn("gru"), BatchNorm(center=False, scale=False)),
    "global_average": lambda: chain(seq("lstm"), GlobalPool("average")),
    "global_average_masked": lambda: chain(seq("lstm"), GlobalPool("average"), masked=True),
    "global_max_masked": lambda: chain(seq("gru"), GlobalPool("max"), masked=True),
    "flatten": lambda: chain(seq("gru"), Flatten(), Dense(2), time=FIXED_TIME),
    "repeat": lambda: chain(rnn("lstm"), Repeat(3), seq("lstm"), Dense(2)),
    "step_last": lambda: chain(
        seq("gru", bidirectional=True, zero_output_for_mask=True), Step("last"), time=FIXED_TIME
    ),
    "step_first": lambda: chain(seq("lstm"), Step("first"), time=FIXED_TIME),
    **{
        f"merge_{op}": (lambda op=op: merged(op))
        for op in ("add", "subtract", "multiply", "average", "maximum", "minimum")
    },
    "merge_multiply_broadcast": lambda: ModelGraph(
        (GraphInput("x", "floats", None, FEATURES),),
        (
            Node("a", seq("gru"), (Ref("x"),)),
            Node("w", Dense(1, "sigmoid"), (Ref("a"),)),
            Node("m", Merge("multiply"), (Ref("a"), Ref("w"))),
        ),
        (Ref("m"),),
    ),
    "merge_concatenate": lambda: merged("concatenate"),
    "merge_concatenate_time": lambda: merged("concatenate", axis=1),
    "merge_add_masked": lambda: merged("add", masked=True),
    "merge_concatenate_masked": lambda: merged("concatenate", masked=True),
    "merge_concatenate_time_masked": lambda: merged("concatenate", axis=1, masked=True),
    "attention_dot": lambda: attention(use_dot=True),
    "attention_multiply_pool": lambda: attention(use_dot=False),
    "softmax_features": lambda: chain(seq("gru"), Softmax(axis=-1)),
    "dot_features": lambda: ModelGraph(
        (GraphInput("x", "floats", None, FEATURES),),
        (
            Node("a", seq("gru"), (Ref("x"),)),
            Node("b", seq("lstm"), (Ref("x"),)),
            Node("d", Dot((2, 2)), (Ref("a"), Ref("b"))),
        ),
        (Ref("d"),),
    ),
    **{
        f"conv1d_{padding}": (
            lambda padding=padding: chain(
                Conv1D(5, 3, padding=padding, activation="relu"), rnn("gru")
            )
        )
        for padding in ("valid", "same", "causal")
    },
    "conv1d_strides": lambda: chain(Conv1D(4, 2, strides=2, padding="same"), seq("lstm")),
    "conv1d_dilation_no_bias": lambda: chain(
        Conv1D(4, 2, dilation_rate=2, padding="causal", use_bias=False), seq("lstm")
    ),
    "pool1d_max": lambda: chain(Conv1D(4, 2), Pool1D("max", 2), rnn("lstm"), time=FIXED_TIME + 1),
    "pool1d_average_same": lambda: chain(Pool1D("average", 2, padding="same"), seq("gru")),
    "pool1d_max_strides": lambda: chain(Pool1D("max", 3, strides=1), rnn("gru")),
    **{
        f"reduce_{op}": (lambda op=op: chain(seq("gru"), Reduce(op, 1), Dense(2), masked=True))
        for op in ("sum", "mean", "max", "min")
    },
    "reduce_features_keepdims": lambda: chain(seq("lstm"), Reduce("mean", -1, keepdims=True)),
    "permute": lambda: chain(seq("gru"), Permute((2, 1)), rnn("lstm"), time=FIXED_TIME),
}

GRAPHS = {**RECURRENT_GRAPHS, **OTHER_GRAPHS}


def with_dtype(graph: ModelGraph, dtype: str) -> ModelGraph:
    return ModelGraph(graph.inputs, graph.nodes, graph.outputs, dtype)


def check_against_reference(model: keras.Model, seed: int = 0) -> None:
    """The model's own outputs against the reference of the graph it reads as, on its own
    weights, at two time lengths where time is free (padding planted where it masks)."""
    weights = graph_to_canonical(model)
    graph = weights.graph
    lengths = TIME_LENGTHS if graph.free_time else (None,)
    for length in lengths:
        inputs = sample_inputs(graph, batch=BATCH, seed=seed, time_steps=length)
        ours = graph_predict(model, inputs)
        expected = reference.predict(weights, inputs)
        assert len(ours) == len(expected)
        for index, (got, want) in enumerate(zip(ours, expected, strict=True)):
            assert got.shape == want.shape, f"output {index} at T={length}"
            assert got.dtype == np.dtype(graph.dtype)
            bound = allowed_difference(TOLERANCES[graph.dtype], float(np.max(np.abs(want))))
            gap = float(np.max(np.abs(got.astype(np.float64) - want)))
            assert gap <= bound, f"output {index} at T={length}: {gap:.3g} > {bound:.3g}"
