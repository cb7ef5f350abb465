"""Model graphs in files: read any supported file as a graph, write one, run one as it stands.

A chain (`shared.spec.ModelSpec`) is read by `compare.port.files`; a model that is not a chain
(branches, merges, pooling, states handed on, options the chain never had) is read here, as a
`shared.graph` model graph:

    .keras         a Keras Functional or Sequential model (loaded with safe_mode=True)
    .pt .safetensors  rnn-parity's torch graph files ({"graph_json", "state_dict"})
    .pt2           a torch.export program of a graph (written; run, never read back)
    .npz           canonical arrays with the graph as JSON

`GraphSource.run` runs the file's OWN model (Keras's loaded model, the torch module as saved),
never a rebuild from what was read, so a check against it catches a misread option.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from compare.frameworks import keras_impl, torch_impl
from compare.port.user_files import WRITE_ONLY, check_destination, file_format
from shared.errors import ModelFileError, WeightFormatError
from shared.graph.reference import predict as reference_predict
from shared.graph.weights import GraphWeights
from shared.weight_files import load_any_npz, save_npz

Run = Callable[[Any], list[np.ndarray]]


@dataclass
class GraphSource:
    """A file read as a graph: its canonical weights, and its own model's forward."""

    path: Path
    weights: GraphWeights
    run: Run
    framework: str
    model: Any = None  # the framework's own model, as loaded from the file (None for .npz)


def holds_graph(path: str | Path) -> bool:
    """Whether an rnn-parity torch or .npz file holds a graph (not a chain spec); False for
    Keras files, which are read as a chain first and as a graph where the chain refuses."""
    path = Path(path)
    if not path.is_file() or path.suffix.lower() in WRITE_ONLY:
        return False
    framework = file_format(path)
    if framework == "canonical":
        try:
            return isinstance(load_any_npz(path), GraphWeights)
        except WeightFormatError:
            return False
    if framework == "torch":
        return torch_impl().holds_graph(path)
    return False


def read_graph_source(path: str | Path) -> GraphSource:
    """Read `path` as a graph, keeping its own model to run.

    Raises:
        ModelFileError: unknown extension, a missing, unreadable or unsafe file, or a model
            the graph cannot describe (naming the layer and what is supported).
    """
    path = Path(path)
    framework = file_format(path)
    if path.suffix.lower() in WRITE_ONLY:
        raise ModelFileError(f"{path}: a .pt2 program is a destination only; port its source")
    if not path.is_file():
        raise ModelFileError(f"{path}: no such file")
    if framework == "canonical":
        try:
            weights = load_any_npz(path)
        except WeightFormatError as error:
            raise ModelFileError(str(error)) from None
        if not isinstance(weights, GraphWeights):
            raise ModelFileError(f"{path}: holds a chain spec, not a model graph")
        return GraphSource(path, weights, lambda X: reference_predict(weights, X), framework)
    impl = keras_impl() if framework == "keras" else torch_impl()
    model = impl.load_graph_model(path)
    weights = impl.graph_to_canonical(model)
    return GraphSource(path, weights, lambda X: impl.graph_predict(model, X), framework, model)


def save_graph_weights(
    weights: GraphWeights, path: str | Path, time_steps: int | None = None
) -> Path:
    """Write a graph as the format `path`'s extension names (atomically).

    Args:
        time_steps: for a .pt2 program of a graph whose time axis is free, the one length to
            export where a node fixes it (torch.export unrolls recurrences); else ignored.

    Raises:
        ModelFileError: naming the file and the reason (for .pt2 of a free-time recurrent
            graph without `time_steps`, the node and the option to pass).
    """
    check_destination(path)
    framework = file_format(path)
    if framework == "canonical":
        return save_npz(weights, path)
    if Path(path).suffix.lower() in WRITE_ONLY:
        torch = torch_impl()
        net = torch.graph_from_canonical(weights)
        try:
            return torch.export_graph_program(net, path, time_steps=time_steps)
        except ModelFileError as error:
            if time_steps is not None or "time_steps=N" not in str(error):
                raise
            raise ModelFileError(f"{error} (rnn-parity port --time-steps N)") from None
    impl = keras_impl() if framework == "keras" else torch_impl()
    return impl.save_graph_model(impl.graph_from_canonical(weights), path)


def run_graph_file(path: str | Path, inputs: Any) -> list[np.ndarray]:
    """The outputs of the model stored at `path`, as that file's own framework runs it."""
    if Path(path).suffix.lower() in WRITE_ONLY:
        return torch_impl().run_graph_program(path, inputs)
    return read_graph_source(path).run(inputs)
