"""Hypothesis strategies that draw model graphs as people write them: fronts, stacks, branches.

`graphs()` draws a valid `ModelGraph` from every family of nodes: a masking or embedding front
(or none), an optional Conv1D + pooling front, one or two recurrent layers with random options,
an optional second branch (often go_backwards) merged by a random merge, a readout (pooling,
the last step, flatten, attention pooling, or an LSTM-autoencoder's repeat and decoder), head
layers and a final Dense, in float32 or float64. Masks are tracked as the graph carries them, so
every drawn graph is valid; a failing example is shown by `ModelGraph.describe`.
"""

from __future__ import annotations

from hypothesis import strategies as st

from shared.graph import layers, shape_ops
from shared.graph.model import GraphInput, ModelGraph, Node, Ref
from shared.graph.recurrent import Recurrent


class _Builder:
    """Nodes appended one by one, named n0, n1, ...; `masked` follows the current value."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []

    def add(self, kind, *inputs: Ref) -> Ref:
        name = f"n{len(self.nodes)}"
        self.nodes.append(Node(name, kind, tuple(inputs)))
        return Ref(name)


@st.composite
def recurrent_kinds(draw, sequences: bool, masked: bool) -> Recurrent:
    kind = draw(st.sampled_from(["simple", "lstm", "gru"]))
    choices = ["tanh", "relu"] + (["linear"] if kind == "simple" else [])
    bidirectional = draw(st.booleans())
    return Recurrent(
        kind,
        draw(st.integers(1, 3)),
        activation=draw(st.sampled_from(choices)),
        recurrent_activation=(
            "sigmoid" if kind == "simple" else draw(st.sampled_from(["sigmoid", "hard_sigmoid"]))
        ),
        use_bias=draw(st.booleans()),
        return_sequences=sequences,
        go_backwards=not bidirectional and draw(st.booleans()),
        reset_after=kind != "gru" or draw(st.booleans()),
        zero_output_for_mask=sequences
        if bidirectional
        else masked and sequences and draw(st.booleans()),
        bidirectional=bidirectional,
        merge_mode=draw(st.sampled_from(["concat", "sum", "ave", "mul"]))
        if bidirectional
        else "concat",
    )


@st.composite
def graphs(draw) -> ModelGraph:
    dtype = draw(st.sampled_from(["float32", "float64"]))
    time = draw(st.sampled_from([None, 4, 5]))
    tokens = draw(st.booleans())
    build = _Builder()
    if tokens:
        graph_input = GraphInput("x", "tokens", time)
        mask_zero = draw(st.booleans())
        value = build.add(layers.Embedding(7, draw(st.integers(1, 3)), mask_zero), Ref("x"))
        masked = mask_zero
    else:
        graph_input = GraphInput("x", "floats", time, draw(st.integers(1, 3)))
        value, masked = Ref("x"), draw(st.booleans())
        if masked:
            value = build.add(layers.Masking(0.0), value)
    if draw(st.integers(0, 3)) == 0:  # the CNN-LSTM front: convolution drops the mask
        padding = draw(st.sampled_from(["same", "causal"]))
        value = build.add(shape_ops.Conv1D(2, 2, padding=padding, activation="relu"), value)
        value = build.add(
            shape_ops.Pool1D(draw(st.sampled_from(["max", "average"])), 2, 1, "same"), value
        )
        masked = False
    front = value
    readout = draw(
        st.sampled_from(["final", "pool", "last", "flatten", "attention", "autoencoder"])
    )
    if readout in ("flatten", "last") and time is None:
        readout = "pool"  # Keras's Flatten and Cropping1D need the length
    if readout == "attention" and masked:
        readout = "final"  # Keras's Softmax cannot take the (batch, time) mask of its scores
    if readout == "autoencoder" and time is None:
        readout = "final"
    sequences = readout not in ("final", "autoencoder")
    depth = draw(st.integers(1, 2))
    for index in range(depth):
        last = index == depth - 1
        kind = draw(recurrent_kinds(sequences or not last, masked))
        value = build.add(kind, value)
    if draw(st.booleans()):  # a second branch from the front, merged with the first
        other = draw(recurrent_kinds(sequences, masked))
        mine = build.nodes[-1].kind
        other = Recurrent(
            other.kind, mine.units, other.activation, use_bias=other.use_bias,
            return_sequences=mine.return_sequences,
            go_backwards=not mine.bidirectional and draw(st.booleans()),
            bidirectional=mine.bidirectional, merge_mode=mine.merge_mode,
            zero_output_for_mask=mine.bidirectional and mine.return_sequences,
        )  # fmt: skip
        branch = build.add(other, front)
        op = draw(
            st.sampled_from(["add", "subtract", "multiply", "average", "maximum", "concatenate"])
        )
        value = build.add(shape_ops.Merge(op, -1), value, branch)
    masked = masked and sequences
    if readout == "pool":
        value = build.add(shape_ops.GlobalPool(draw(st.sampled_from(["average", "max"]))), value)
    elif readout == "last":
        value = build.add(shape_ops.Step(draw(st.sampled_from(["last", "first"]))), value)
    elif readout == "flatten":
        value = build.add(shape_ops.Flatten(), value)
    elif readout == "attention":
        scores = build.add(layers.Dense(1, "tanh"), value)
        weights = build.add(shape_ops.Softmax(axis=1), scores)
        context = build.add(shape_ops.Dot((1, 1)), weights, value)
        value = build.add(shape_ops.Flatten(), context)
    elif readout == "autoencoder":
        value = build.add(shape_ops.Repeat(time), value)
        value = build.add(Recurrent("lstm", 2, return_sequences=True), value)
    for head in draw(
        st.lists(
            st.sampled_from(["dense", "activation", "dropout", "layer_norm", "batch_norm"]),
            max_size=2,
        )
    ):
        value = build.add(
            {
                "dense": lambda: layers.Dense(2, "relu"),
                "activation": lambda: layers.Activation("tanh"),
                "dropout": lambda: layers.Dropout(0.3),
                "layer_norm": lambda: layers.LayerNorm(1e-5),
                "batch_norm": lambda: layers.BatchNorm(1e-3),
            }[head](),
            value,
        )
    value = build.add(
        layers.Dense(draw(st.integers(1, 2)), draw(st.sampled_from(["linear", "sigmoid"]))), value
    )
    return ModelGraph((graph_input,), tuple(build.nodes), (value,), dtype)
