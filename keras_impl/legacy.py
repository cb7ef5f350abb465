"""Legacy whole-model HDF5 files (`.h5`, as Keras 2 saved them): checked first, then loaded.

Readers of the tutorial (2021-22, Keras 2) hold `model.save("model.h5")` files. Keras 3 still
loads them, but its legacy HDF5 path has no `safe_mode`: a Lambda layer in the file would be
rebuilt from marshalled Python bytecode, i.e. run code. So the file's `model_config` JSON is read
with h5py and checked *before* Keras sees it: only the model classes Sequential / Functional
(Keras 2's "Model") and the layer classes the readers know (`LAYER_CLASSES`; wrappers checked
inside too) may appear, and no serialized function anywhere, not even nested in an allowed
layer's config (a custom activation, say). Everything else is a `ModelFileError` naming the file
and the layer. What loads is then held to `spec_of` like any other Keras model.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path
from typing import Any

import keras

from keras_impl.translators.readout import crop_mask_warning_silenced
from shared.errors import ModelFileError

LEGACY_SUFFIXES = (".h5", ".hdf5")
MODEL_CLASSES = frozenset({"Sequential", "Functional", "Model"})
# The Keras classes a legacy file may hold: those the chain's or the graph's translators read,
# and the structural ones (tests/keras_impl/test_legacy.py holds this list to the translator
# tables, so a class a reader learns is allowed here too, and nothing else is).
LAYER_CLASSES = frozenset(
    {
        # structural: the input, and the parts of a one-step readout
        "InputLayer", "Cropping1D", "Flatten", "Reshape",
        # recurrent
        "SimpleRNN", "LSTM", "GRU", "Bidirectional",
        # step-wise
        "Embedding", "Masking", "Dense", "TimeDistributed", "Activation",
        "Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
        "LayerNormalization", "BatchNormalization",
        # shape, merges, attention parts, the convolutional front
        "GlobalAveragePooling1D", "GlobalMaxPooling1D", "RepeatVector",
        "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
        "Softmax", "Dot", "Conv1D", "MaxPooling1D", "AveragePooling1D", "Permute",
    }
)  # fmt: skip
# wrappers and the config keys of the layers they hold, each checked like a layer of its own
_WRAPPED = {"Bidirectional": ("layer", "backward_layer"), "TimeDistributed": ("layer",)}
# operations a Functional model of Keras 3 records for its masks (Embedding's mask_zero,
# Masking); Keras 3's HDF5 loader writes them but cannot read them back ("Unknown layer")
MASK_OPERATIONS = frozenset({"NotEqual", "Any"})
# class names under which Keras serializes Python code (Lambda layers, custom functions)
_CODE_CLASSES = frozenset({"Lambda", "__lambda__", "function", "__function__"})
# Keras 2's func_dump writes a function as [base64 of marshal.dumps(code), defaults, closure];
# a marshalled code object starts with byte 0x63 ("c"), or 0xe3 with Python's reference flag.
_MARSHALLED_CODE = (0x63, 0xE3)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else '(no message)'}"


def model_config(path: str | os.PathLike) -> dict[str, Any]:
    """The `model_config` JSON stored in a whole-model HDF5 file.

    Raises:
        ModelFileError: missing file, not HDF5, or an HDF5 file without a model config
            (weights only, e.g. from `save_weights`).
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    if not h5py.is_hdf5(path):
        raise ModelFileError(f"{path}: not an HDF5 file, truncated or corrupt")
    try:
        with h5py.File(path, "r") as handle:
            raw = handle.attrs.get("model_config")
    except Exception as error:  # noqa: BLE001 - any reader failure means an unusable file
        raise ModelFileError(f"{path}: unreadable HDF5 file ({_first_line(error)})") from None
    if raw is None:
        raise ModelFileError(
            f"{path}: holds no model_config (weights only, as save_weights writes them); "
            "a whole-model .h5 from model.save is needed"
        )
    try:
        config = json.loads(raw.decode() if isinstance(raw, bytes) else str(raw))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelFileError(f"{path}: model_config is not JSON ({_first_line(error)})") from None
    if not isinstance(config, dict):
        raise ModelFileError(f"{path}: model_config is not a JSON object")
    return config


def _is_marshalled_code(text: str) -> bool:
    """Whether a string is base64 of marshalled bytecode (read by its first byte only)."""
    try:
        head = base64.b64decode(text[:8], validate=False)
    except (binascii.Error, ValueError):
        return False
    return bool(head) and head[0] in _MARSHALLED_CODE


def _code_inside(value: Any, where: str = "config") -> str | None:
    """Where the first serialized function sits in a JSON value, and its form, else None.

    Both Keras 3's form ({"class_name": "__lambda__" or "function", ...}) and Keras 2's
    (base64 bytecode, e.g. a lambda activation stored as {"value": [code, null, null]}).
    """
    if isinstance(value, dict):
        if value.get("class_name") in _CODE_CLASSES:
            return f"{value['class_name']} in {where}"
        children = [(f"{where}.{key}", child) for key, child in value.items()]
    elif isinstance(value, list):
        children = [(f"{where}[{index}]", child) for index, child in enumerate(value)]
    elif isinstance(value, str) and len(value) >= 8 and _is_marshalled_code(value):
        return f"bytecode in {where}"
    else:
        return None
    for child_where, child in children:
        found = _code_inside(child, child_where)
        if found:
            return found
    return None


def _check_layer(path: Path, layer: Any) -> None:
    if not isinstance(layer, dict):
        raise ModelFileError(f"{path}: model_config holds a layer that is not a JSON object")
    class_name = layer.get("class_name")
    config = layer.get("config") or {}
    name = config.get("name", layer.get("name", "?"))
    if class_name in MASK_OPERATIONS:
        raise ModelFileError(
            f"{path}: layer {name!r} ({class_name}) computes the mask of a Functional model, "
            "which Keras's HDF5 loader cannot rebuild; save the model as .keras instead"
        )
    if class_name not in LAYER_CLASSES:
        raise ModelFileError(
            f"{path}: layer {name!r} ({class_name}) is not allowed in a legacy .h5 (only "
            f"{', '.join(sorted(LAYER_CLASSES))}); refused before loading, since older Keras's "
            "HDF5 loader has no safe_mode"
        )
    code = _code_inside(layer.get("config"))
    if code:
        raise ModelFileError(
            f"{path}: layer {name!r} ({class_name}) holds serialized Python code ({code}); "
            "refused before loading"
        )
    for part in _WRAPPED.get(class_name, ()):
        if config.get(part) is not None:
            _check_layer(path, config[part])


def check_config(path: str | os.PathLike, config: dict[str, Any]) -> None:
    """Refuse any model class, layer or serialized function outside the allowed set.

    Raises:
        ModelFileError: naming the file and the offending layer or class.
    """
    path = Path(path)
    class_name = config.get("class_name")
    if class_name not in MODEL_CLASSES:
        raise ModelFileError(
            f"{path}: model class {class_name!r} is not allowed in a legacy .h5 (only "
            f"{', '.join(sorted(MODEL_CLASSES))})"
        )
    inner = config.get("config")
    layers = inner.get("layers") if isinstance(inner, dict) else None
    if not isinstance(layers, list):
        raise ModelFileError(f"{path}: model_config lists no layers")
    for layer in layers:
        _check_layer(path, layer)
    code = _code_inside(config)
    if code:
        raise ModelFileError(
            f"{path}: model_config holds serialized Python code ({code}); refused before loading"
        )


def load_legacy_h5(path: str | os.PathLike) -> Any:
    """Load a whole-model `.h5` (Sequential or Functional) after checking its config.

    Returns:
        What Keras loaded, uncompiled (keras_impl.io checks it is a model within the specs).

    Raises:
        ModelFileError: naming the file and the reason.
    """
    path = Path(path)
    check_config(path, model_config(path))
    try:
        with crop_mask_warning_silenced():
            model = keras.models.load_model(path, compile=False)
    except Exception as error:  # anything Keras raises on a bad file is this file's fault
        raise ModelFileError(f"{path}: Keras cannot load it ({_first_line(error)})") from None
    return model
