"""Model-graph `.keras` files: written atomically, read safely, refused in one line.

The file handling is `keras_impl.io`'s (`keras_path`, `write_keras_file`, `read_keras_file`:
safe_mode=True, every bad file a ModelFileError naming it); this module adds only the graph
check, so every saved file reads back as a graph and every loaded one is read as one.
"""

from __future__ import annotations

import os
from pathlib import Path

import keras

from keras_impl.graph.reading import read_graph
from keras_impl.io import keras_path, read_keras_file, write_keras_file
from keras_impl.legacy import LEGACY_SUFFIXES, load_legacy_h5
from keras_impl.model import default_compile
from shared.errors import ModelFileError


def save_graph_model(model: keras.Model, path: str | os.PathLike) -> Path:
    """Write `model` to a `.keras` file, atomically, once `read_graph` reads it.

    Raises:
        ModelFileError: if the path does not end in .keras or `read_graph` refuses the model.
    """
    path = keras_path(path)
    read_graph(model)
    return write_keras_file(model, path)


def load_graph_model(path: str | os.PathLike) -> keras.Model:
    """Load a `.keras` model file safely (safe_mode=True), or a legacy `.h5` after checking its
    config (`keras_impl.legacy`), and check it reads as a graph.

    Returns:
        The model, compiled like `build_graph_model` compiles (optimizer state not restored).

    Raises:
        ModelFileError: naming the file and the reason (missing, corrupt, not a Keras model,
            unsafe, or a layer `read_graph` refuses).
    """
    path = Path(path)
    if path.suffix.lower() in LEGACY_SUFFIXES:  # Keras 2's whole-model HDF5, checked first
        model = load_legacy_h5(path)
    elif path.suffix == ".keras":
        model = read_keras_file(path)
    else:
        raise ModelFileError(f"{path}: model graph files are .keras (or legacy .h5) files")
    if not isinstance(model, keras.Model):
        raise ModelFileError(f"{path}: holds a {type(model).__name__}, not a model")
    try:
        graph, _ = read_graph(model)
    except ModelFileError as error:
        raise ModelFileError(f"{path}: {error}") from None
    default_compile(model, graph.dtype)
    return model
