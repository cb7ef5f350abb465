"""A user's module the chain grammar cannot describe, ported as a model graph.

The chain reader refuses forwards that pool, attend, merge branches or hand states on; those
are read as a model graph (`torch_impl.read_module_graph`) instead. As on every route, the port
is checked against the USER'S OWN module: `check_against_source` runs the module itself on the
graph's check inputs (two batch sizes, two time lengths where the time axis is free) beside the
numpy reference of what was read and the Keras model (or the written file), and refuses with
the tolerance and the first node where the module and what was read part.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from compare.frameworks import keras_impl, torch_impl
from compare.port.graph_files import GraphSource
from compare.port.graph_port import (
    GraphPortResult,
    check_against_source,
    compare_outputs,
    refuse_rows,
    write_checked,
)
from shared.errors import ModelFileError


def module_source(module: Any, time_steps: int | None, path: Path) -> tuple[GraphSource, Any]:
    """The module read as a graph, with the module's own forward as the source to check."""
    weights, reading = torch_impl().read_module_graph(module, time_steps)
    graph = weights.graph
    source = GraphSource(path, weights, lambda X: reading.run(module, graph, X), "torch", module)
    return source, reading


def _outputs_of(source: GraphSource, reading: Any) -> Any:
    return lambda inputs: reading.node_outputs(source.weights.graph, inputs)


def _check_example(source: GraphSource, reading: Any, model: Any, example: Any) -> None:
    """The example input, in the module's own layout, through both models."""
    if reading.takes_lengths:
        raise ModelFileError(
            "example_input: your forward takes (x, lengths); the port is checked on padded "
            "batches of its own with lengths in any order, so pass no example_input"
        )
    example = np.asarray(example)
    batch_major = np.swapaxes(example, 0, 1) if reading.input_time_major else example
    own = source.run(batch_major)
    got = keras_impl().graph_predict(model, batch_major)
    dtype = source.weights.graph.dtype
    rows = compare_outputs("the Keras model vs your model", got, own, dtype, "example_input")
    refuse_rows(rows, dtype, "on your example_input")


def graph_module_to_keras(
    module: Any, example_input: Any, time_steps: int | None, seed: int
) -> Any:
    """A Keras model of the module read as a graph, checked against the module's forward.

    Raises:
        ModelFileError: naming the node the reader cannot port, or the tolerance and the first
            diverging node where the Keras model or the reading differ from the module.
    """
    keras = keras_impl()
    source, reading = module_source(module, time_steps, Path(f"<{type(module).__name__}>"))
    model = keras.graph_from_canonical(source.weights)
    check_against_source(
        source,
        lambda inputs: keras.graph_predict(model, inputs),
        "the Keras model",
        seed,
        _outputs_of(source, reading),
    )
    if example_input is not None:
        _check_example(source, reading, model, example_input)
    return model


def port_module_graph(
    module: Any, source_path: Path, destination: Path, time_steps: int | None, seed: int
) -> GraphPortResult:
    """`port model.pt DST --module ...` for a module read as a graph: written, checked against
    the module's own forward, then moved into place (nothing is left on a failure)."""
    source, reading = module_source(module, time_steps, source_path)
    return write_checked(source, destination, seed, time_steps, _outputs_of(source, reading))
