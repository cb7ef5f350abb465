"""Porting model graphs, every route checked against the SOURCE model's own forward.

`port_graph_file` writes a file, reads it back, runs it beside the source file's own model and
the numpy reference, and leaves nothing at the destination unless all three agree.
`graph_keras_to_torch` and `graph_torch_to_keras` do the same in memory. The check inputs fit
the graph (`check_inputs`): token ids, padding at the end, middle and start where it masks,
two batch sizes, and two time lengths where the time axis is free. A failure names the first
node where the source and the reference part, when the source can show its nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from compare.frameworks import keras_impl, torch_impl
from compare.port.agreement import Difference, difference
from compare.port.graph_files import (
    GraphSource,
    read_graph_source,
    run_graph_file,
    save_graph_weights,
)
from compare.port.user_files import WRITE_ONLY, check_destination, file_format
from shared.errors import ModelFileError
from shared.graph.reference import evaluate
from shared.graph.reference import predict as reference_predict
from shared.graph.samples import FREE_TIME_STEPS, sample_inputs
from shared.graph.weights import GraphWeights, fold_single_bias
from shared.tolerances import TOLERANCES

CHECK_BATCHES = (32, 3)  # every padding pattern several times, and a batch size of its own


def check_inputs(
    weights: GraphWeights, seed: int = 0, time_steps: int | None = None
) -> list[tuple[str, dict]]:
    """(label, inputs) pairs: two batch sizes, each with its own time length where time is free
    (only `time_steps` where a destination fixed the free axis to it)."""
    graph = weights.graph
    lengths: tuple[int | None, ...] = (None, None)
    if graph.free_time:
        lengths = (time_steps, time_steps) if time_steps is not None else FREE_TIME_STEPS
    sets = []
    for batch, time in zip(CHECK_BATCHES, lengths, strict=True):
        label = f"batch {batch}" + (f", {time} steps" if time else "")
        sets.append((label, sample_inputs(graph, batch, seed + len(sets), time)))
    return sets


def compare_outputs(
    pair: str, got: list[np.ndarray], baseline: list[np.ndarray], dtype: str, label: str
) -> list[Difference]:
    """One row per graph output, each bound scaled by that output's own magnitude."""
    if len(got) != len(baseline):
        raise ModelFileError(f"{pair}: {len(got)} outputs against {len(baseline)}")
    return [
        difference(f"output {index} ({label})", pair, a, b, TOLERANCES[dtype])
        for index, (a, b) in enumerate(zip(got, baseline, strict=True))
    ]


def first_diverging_node(weights: GraphWeights, inputs: Any, outputs_of: Any) -> str:
    """The first node (in the graph's order) whose values differ from the reference's."""
    if outputs_of is None:
        return "the source cannot show its nodes' values"
    trace, dtype = evaluate(weights, inputs), weights.graph.dtype
    nodes = outputs_of(inputs)
    for node in weights.graph.nodes:
        if node.name not in nodes:
            continue
        rows = compare_outputs(node.name, nodes[node.name], trace.values[node.name], dtype, "")
        if not all(row.ok for row in rows):
            return f"first diverging node: {node.describe()} ({max(r.max_abs for r in rows):.2e})"
    return "no single node diverges beyond tolerance; the difference builds up over nodes"


def refuse_rows(rows: list[Difference], dtype: str, where: str) -> None:
    failed = [row for row in rows if not row.ok]
    if failed:
        worst = max(failed, key=lambda row: row.max_abs / row.tolerance)
        raise ModelFileError(
            f"{worst.pair}: {worst.quantity} differs by {worst.max_abs:.2e} > tolerance "
            f"{worst.tolerance:.1e} ({TOLERANCES[dtype]:.0e} x max(1, max |outputs|)); {where}; "
            "nothing written or returned"
        )


def check_against_source(
    source: GraphSource,
    run_port: Any,
    what: str,
    seed: int = 0,
    outputs_of: Any = None,
    time_steps: int | None = None,
) -> list[Difference]:
    """Rows of source vs reference and port vs source on every check input set; refuses
    (ModelFileError naming the tolerance and the first diverging node) on any failure."""
    weights, dtype = source.weights, source.weights.graph.dtype
    rows: list[Difference] = []
    for label, inputs in check_inputs(weights, seed, time_steps):
        own = source.run(inputs)
        reference = reference_predict(weights, inputs)
        read_rows = compare_outputs("your model vs what was read", own, reference, dtype, label)
        if not all(row.ok for row in read_rows):
            refuse_rows(read_rows, dtype, first_diverging_node(weights, inputs, outputs_of))
        port_rows = compare_outputs(f"{what} vs your model", run_port(inputs), own, dtype, label)
        refuse_rows(port_rows, dtype, f"the reader agrees with your model, so {what} is at fault")
        rows += read_rows + port_rows
    return rows


@dataclass
class GraphPortResult:
    """What a graph port read, wrote and measured."""

    source: Path
    destination: Path
    weights: GraphWeights
    weights_max_abs_diff: float | None  # None: a .pt2 program names no weights
    agreement: list[Difference] = field(default_factory=list)

    def summary(self) -> str:
        graph = self.weights.graph
        lines = [
            f"ported {self.source} ({file_format(self.source)}) -> {self.destination} "
            f"({file_format(self.destination)}), {graph.dtype}, a model graph of "
            f"{len(graph.nodes)} nodes:"
        ]
        lines += [f"  {line}" for line in graph.describe().splitlines()]
        for node in graph.nodes:
            shapes = graph.weight_shapes(node)
            if shapes:
                listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
                lines.append(f"  weights {node.name}: {listed}")
        if self.weights_max_abs_diff is None:
            lines.append("  weights not read back (a .pt2 program names none): outputs below")
        else:
            lines.append(
                f"  weights read back from the destination: max abs diff "
                f"{self.weights_max_abs_diff:.2e} (one-bias layers compared as b + c)"
            )
        worst: dict[str, Difference] = {}
        for row in self.agreement:
            if row.pair not in worst or row.max_abs > worst[row.pair].max_abs:
                worst[row.pair] = row
        for pair, row in worst.items():
            lines.append(
                f"  {pair}: max abs diff {row.max_abs:.2e} over every output and check input "
                f"(tolerance {row.tolerance:.1e}) {'ok' if row.ok else 'FAILED'}"
            )
        return "\n".join(lines)


def source_node_outputs(source: GraphSource) -> Any:
    """A function giving the source model's values per node, where its framework can."""
    if source.framework != "keras" or source.model is None:
        return None
    impl = keras_impl()
    return lambda inputs: impl.graph_node_outputs(source.model, inputs)


def port_graph_file(
    source: str | Path, destination: str | Path, seed: int = 0, time_steps: int | None = None
) -> GraphPortResult:
    """Port the graph model in `source` to `destination`, checked against the source's own model.

    `time_steps` fixes a free time axis for a .pt2 program whose recurrences torch.export
    unrolls; the check then runs that length only.

    Raises:
        ModelFileError: unreadable or unsafe files, a model the graph cannot describe, or a
            port that disagrees (nothing is left at, or changed at, `destination`).
    """
    source, destination = Path(source), Path(destination)
    if source.resolve() == destination.resolve():
        raise ModelFileError(f"{source}: source and destination are the same file")
    check_destination(destination)
    read = read_graph_source(source)
    return write_checked(read, destination, seed, time_steps, source_node_outputs(read))


def write_checked(
    read: GraphSource,
    destination: Path,
    seed: int = 0,
    time_steps: int | None = None,
    outputs_of: Any = None,
) -> GraphPortResult:
    """Write `read`'s graph to `destination` beside it, check the written file against
    `read.run` (the source's own model, or a user's own module), then move it into place.

    Raises:
        ModelFileError: a disagreement or an unwritable graph; nothing is left at `destination`.
    """
    candidate = destination.with_name(f".{destination.stem}.porting{destination.suffix}")
    fixed = time_steps if destination.suffix.lower() in WRITE_ONLY else None
    try:
        save_graph_weights(read.weights, candidate, fixed)
    except ModelFileError as error:  # name the destination, not the temporary beside it
        raise ModelFileError(str(error).replace(str(candidate), str(destination))) from None
    try:
        gap, run_written = None, lambda inputs: run_graph_file(candidate, inputs)
        if destination.suffix.lower() not in WRITE_ONLY:
            written = read_graph_source(candidate)  # loaded once, run on every check input
            gap = fold_single_bias(written.weights).max_abs_diff(fold_single_bias(read.weights))
            run_written = written.run
        rows = check_against_source(
            read, run_written, f"the written {destination.suffix} file", seed, outputs_of, fixed
        )
        candidate.replace(destination)
    finally:
        candidate.unlink(missing_ok=True)
    return GraphPortResult(read.path, destination, read.weights, gap, rows)


def graph_keras_to_torch(model: Any, seed: int = 0) -> Any:
    """A torch GraphNet computing what the Keras `model` computes, checked against `model`."""
    keras, torch = keras_impl(), torch_impl()
    weights = keras.graph_to_canonical(model)
    net = torch.graph_from_canonical(weights)
    source = GraphSource(Path("<memory>"), weights, lambda X: keras.graph_predict(model, X), "")
    outputs_of = lambda inputs: keras.graph_node_outputs(model, inputs)  # noqa: E731
    check_against_source(
        source, lambda X: torch.graph_predict(net, X), "the torch model", seed, outputs_of
    )
    return net.eval()  # as checked: a net left training ran its dropout on a first call


def graph_torch_to_keras(net: Any, seed: int = 0) -> Any:
    """A Keras model computing what the torch GraphNet `net` computes, checked against `net`."""
    keras, torch = keras_impl(), torch_impl()
    weights = torch.graph_to_canonical(net)
    model = keras.graph_from_canonical(weights)
    source = GraphSource(Path("<memory>"), weights, lambda X: torch.graph_predict(net, X), "")
    check_against_source(source, lambda X: keras.graph_predict(model, X), "the Keras model", seed)
    return model
