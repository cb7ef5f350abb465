"""`rnn-parity check FILE` for a model graph: the file's own model first, then the frameworks.

As for chains (`compare.port.file_check`), rebuilding both frameworks from what was read and
finding them equal says nothing about the file, so the first rows are the file's own model
(Keras loads the `.keras` itself; a torch graph file runs as saved) against the reference, and
only then Keras and torch, each built from the canonical weights, against the reference and
each other, on every check input set (`compare.port.graph_port.check_inputs`).
"""

from __future__ import annotations

from pathlib import Path

from compare.frameworks import keras_impl, torch_impl
from compare.port.agreement import Difference, difference
from compare.port.graph_files import read_graph_source
from compare.port.graph_port import check_inputs, first_diverging_node, source_node_outputs
from shared.graph.reference import predict as reference_predict
from shared.tolerances import TOLERANCES


def measure_graph_file(
    path: str | Path, seed: int = 0, tolerance: float | None = None
) -> tuple[list[Difference], str | None, str]:
    """Rows of every comparison, where the file's model first diverges (or None), and the graph.

    Args:
        tolerance: an absolute bound; default the dtype's, scaled by each output's size.
    """
    source = read_graph_source(path)
    weights = source.weights
    dtype = weights.graph.dtype
    bound = TOLERANCES[dtype] if tolerance is None else tolerance
    keras, torch = keras_impl(), torch_impl()
    keras_model = keras.graph_from_canonical(weights)
    torch_net = torch.graph_from_canonical(weights)
    rows: list[Difference] = []
    where = None
    for label, inputs in check_inputs(weights, seed):
        runs = {
            "your file": source.run(inputs),
            "keras": keras.graph_predict(keras_model, inputs),
            "torch": torch.graph_predict(torch_net, inputs),
            "reference": reference_predict(weights, inputs),
        }
        for a, b in (
            ("your file", "reference"),
            ("keras", "reference"),
            ("torch", "reference"),
            ("keras", "torch"),
        ):
            for index, (got, base) in enumerate(zip(runs[a], runs[b], strict=True)):
                quantity = f"output {index} ({label})"
                row = difference(quantity, f"{a} vs {b}", got, base, bound, tolerance is None)
                rows.append(row)
                if a == "your file" and not row.ok and where is None:
                    outputs_of = source_node_outputs(source)
                    where = first_diverging_node(weights, inputs, outputs_of)
    return rows, where, weights.graph.describe()
