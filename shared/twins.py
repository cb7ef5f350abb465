"""The twin functions keras_impl and torch_impl both expose: the mirror, written as a type.

`compare/` runs either framework through one interface, so every function here exists in both
packages with this exact signature (names, kinds, defaults, annotations), and means the same
thing in both; tests/test_mirror.py holds both packages to it. A framework's native model (a
`keras.Model`, a torch `RNNModel`) is typed `NativeModel` here, since this module imports no
framework. A module satisfies `FrameworkSide` structurally (PEP 544), so compare/frameworks.py
hands either package out as one.

Each side may add framework-only keyword options with defaults (`FRAMEWORK_OPTIONS`); anything
else that differs between the two is a broken mirror.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol, TypeAlias

import numpy as np

from shared.graph.model import ModelGraph
from shared.graph.weights import GraphWeights
from shared.recipe import TrainSpec
from shared.spec import ModelSpec
from shared.training import FitHistory
from shared.weights import CanonicalWeights

# keras.Model in keras_impl, torch_impl.model.RNNModel in torch_impl
NativeModel: TypeAlias = Any

# Keyword-only options one framework's twin adds beyond the protocol (speed or placement only,
# same results): package -> function -> option names.
FRAMEWORK_OPTIONS: dict[str, dict[str, frozenset[str]]] = {
    "keras_impl": {"fit": frozenset({"jit_compile", "scan_steps"})},
    "torch_impl": {"fit": frozenset({"device", "barebones"}), "predict": frozenset({"device"})},
}


class FrameworkSide(Protocol):
    """One framework's implementation, as `compare/` uses it (keras_impl or torch_impl)."""

    def build_model(self, spec: ModelSpec, seed: int | None = None) -> NativeModel:
        """A new model of `spec`, its weights initialised from `seed`."""
        ...

    def create_rnn(
        self,
        hidden_units: int,
        dense_units: int,
        input_shape: tuple[int, int],
        activation: list[str],
    ) -> NativeModel:
        """The tutorial's one-layer SimpleRNN model."""
        ...

    def spec_of(self, model: NativeModel) -> ModelSpec:
        """The spec a model is built to."""
        ...

    def to_canonical(self, model: NativeModel) -> CanonicalWeights:
        """The model's weights in the framework-neutral layout."""
        ...

    def from_canonical(self, weights: CanonicalWeights) -> NativeModel:
        """A new model holding `weights`."""
        ...

    def set_canonical(self, model: NativeModel, weights: CanonicalWeights) -> None:
        """Write `weights` into an existing model of the same spec."""
        ...

    def native_weights(self, model: NativeModel) -> dict[str, np.ndarray]:
        """The model's weights as the framework names and lays them out."""
        ...

    def fit(
        self,
        model: NativeModel,
        X: np.ndarray,
        Y: np.ndarray,
        train_spec: TrainSpec,
        order: list[np.ndarray] | None = None,
        *,
        record_weights: bool = False,
        progress: bool = False,
        steps_per_execution: int = 1,
        epoch_clock: list[float] | None = None,
    ) -> FitHistory:
        """Train the model in place as `train_spec` says; every step's pre-update loss."""
        ...

    def predict(self, model: NativeModel, X: np.ndarray) -> np.ndarray:
        """The model's outputs for X, in the model's dtype."""
        ...

    def save_model(self, model: NativeModel, path: str | os.PathLike) -> Path:
        """Write the model to `path` in the framework's own file format."""
        ...

    def load_model(self, path: str | os.PathLike) -> NativeModel:
        """A model read back from `save_model`'s file."""
        ...

    # The model graph (shared.graph): any graph as the framework's native model.

    def build_graph_model(self, graph: ModelGraph, seed: int | None = None) -> NativeModel:
        """The native model computing `graph`, with the framework's default initialisation."""
        ...

    def read_graph(self, model: NativeModel) -> tuple[ModelGraph, dict[str, Any]]:
        """The graph a native model computes, and the layer or module behind each node."""
        ...

    def graph_to_canonical(self, model: NativeModel) -> GraphWeights:
        """Every node's canonical arrays (copies)."""
        ...

    def graph_set_canonical(self, model: NativeModel, weights: GraphWeights) -> None:
        """Copy canonical weights into the model; all checked before anything changes."""
        ...

    def graph_from_canonical(self, weights: GraphWeights) -> NativeModel:
        """Build the graph's native model and load the weights into it."""
        ...

    def graph_predict(self, model: NativeModel, inputs: Any) -> list[np.ndarray]:
        """One array per graph output; inputs as `shared.graph.reference.graph_inputs` takes."""
        ...

    def save_graph_model(self, model: NativeModel, path: str | os.PathLike) -> Path:
        """Write the model with its graph, safely (no code in the file), atomically."""
        ...

    def load_graph_model(self, path: str | os.PathLike) -> NativeModel:
        """Load a graph model file safely, or ModelFileError naming the file and reason."""
        ...
