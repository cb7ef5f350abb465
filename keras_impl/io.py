"""Saving and loading Keras models as `.keras` files, safely and with one-line errors.

A model file is input like any other: it may be missing, truncated, not a zip, a zip of
something else, or a Keras model outside the specs. `load_model` turns each case into a
`ModelFileError` naming the file and the reason, never a deep traceback, and never runs code
from the file (Keras's `safe_mode=True` refuses serialized lambdas). `save_model` writes through
a temporary file and `os.replace`, so a crash never leaves a half-written model under the name.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import keras

from keras_impl.legacy import LEGACY_SUFFIXES, load_legacy_h5
from keras_impl.model import default_compile
from keras_impl.reading import spec_of
from keras_impl.translators.readout import crop_mask_warning_silenced
from shared.errors import ModelFileError


def keras_path(path: str | os.PathLike) -> Path:
    """`path` as a .keras destination, or ModelFileError (legacy or other suffix, no folder)."""
    path = Path(path)
    if path.suffix.lower() in LEGACY_SUFFIXES:
        raise ModelFileError(
            f"{path}: legacy HDF5 ({path.suffix}) is read, never written; write .keras instead"
        )
    if path.suffix != ".keras":
        raise ModelFileError(f"{path}: Keras model files must end in .keras")
    if not path.parent.is_dir():
        raise ModelFileError(f"{path}: folder {path.parent} does not exist")
    return path


def save_model(model: keras.Model, path: str | os.PathLike) -> Path:
    """Write `model` (architecture, weights, compile settings) to a `.keras` file, atomically.

    Args:
        model: a model `spec_of` accepts (checked first, so every saved file loads back).
        path: destination ending in ".keras"; replaced if it exists.

    Returns:
        The path written.

    Raises:
        ModelFileError: if the path does not end in .keras or the model is outside the specs.
    """
    path = keras_path(path)
    spec_of(model)
    return write_keras_file(model, path)


def write_keras_file(model: keras.Model, path: Path) -> Path:
    """Write `model` to the `.keras` file `path` through a temporary file and `os.replace`."""
    # Keras insists on the .keras suffix, so the temporary name keeps it.
    temporary = path.with_name(f".{path.name}.partial.keras")
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not optimizer.built:
        # Its zero slots, saved: a compiled model saved before training otherwise loads in
        # plain Keras with "Skipping variable loading for optimizer" (2 saved vs 2n+2 built).
        optimizer.build(model.trainable_variables)
    try:
        model.save(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else '(no message)'}"


def load_model(path: str | os.PathLike) -> keras.Model:
    """Load a `.keras` model file (or a legacy whole-model `.h5`) safely, within the specs.

    A `.h5` file's config is checked by `keras_impl.legacy` before Keras reads it. The file is
    loaded with `safe_mode=True` and `compile=False`, then compiled like
    `build_model` compiles (Adam with Keras defaults, MSE); optimizer state is not restored.

    Args:
        path: a `.keras` file, or a whole-model `.h5` / `.hdf5` (Keras 2 style).

    Returns:
        The model, compiled.

    Raises:
        ModelFileError: naming the file and the reason: missing, not a zip (or corrupt), a zip
            that is not a Keras model, a model Keras cannot rebuild safely, or a model outside
            the specs (naming the layer).
    """
    path = Path(path)
    if path.suffix.lower() in LEGACY_SUFFIXES:
        return _checked(path, load_legacy_h5(path))
    return _checked(path, read_keras_file(path))


def read_keras_file(path: Path) -> object:
    """What Keras rebuilds from the `.keras` file `path`, loaded with safe_mode=True.

    Raises:
        ModelFileError: naming the file: missing, not a zip (or corrupt), a zip that is not a
            Keras model, or a model Keras cannot rebuild safely.
    """
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path}: not a .keras model file (not a zip archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            broken = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ModelFileError(f"{path}: corrupt zip archive ({_first_line(error)})") from None
    if broken is not None:
        raise ModelFileError(f"{path}: corrupt zip archive (bad CRC in {broken!r})")
    if "config.json" not in names:
        raise ModelFileError(f"{path}: a zip archive but not a Keras model (no config.json)")
    try:
        with crop_mask_warning_silenced():
            model = keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # anything Keras raises on a bad file is this file's fault
        named = _code_layer(path)
        if named:
            raise ModelFileError(f"{path}: {named}") from None
        raise ModelFileError(f"{path}: Keras cannot load it ({_first_line(error)})") from None
    return model


def _code_layer(path: Path) -> str | None:
    """The first layer of a `.keras` file's config that is code, not data (a Lambda, a custom
    class), as one sentence naming it; None if the config names none. Read as JSON only."""
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return None
    for layer in _layers_in(config):
        class_name, module = layer.get("class_name"), str(layer.get("module") or "")
        name = (layer.get("config") or {}).get("name", "?")
        if class_name == "Lambda":
            return (
                f"layer {name!r} (Lambda) holds Python code, which no file can carry safely: "
                "rewrite it with built-in layers"
            )
        if not module.startswith("keras"):
            return (
                f"layer {name!r} ({class_name}, from module {module or '?'!r}) is a custom "
                "layer: its code is not in the file, so what it computes cannot be read"
            )
    return None


def _layers_in(config: object) -> list[dict]:
    """Every layer config nested in a Keras model config (wrapped layers included)."""
    found: list[dict] = []
    if isinstance(config, dict):
        if "class_name" in config and isinstance(config.get("config"), dict):
            found.append(config)
        for value in config.values():
            found += _layers_in(value)
    elif isinstance(config, list):
        for value in config:
            found += _layers_in(value)
    return found


def _checked(path: Path, model: object) -> keras.Model:
    """`model` once `spec_of` accepts it, compiled as `build_model` compiles."""
    if not isinstance(model, keras.Model):
        raise ModelFileError(f"{path}: holds a {type(model).__name__}, not a model")
    try:
        spec = spec_of(model)
    except ModelFileError as error:
        raise ModelFileError(f"{path}: {error}") from None
    default_compile(model, spec.dtype)
    return model
