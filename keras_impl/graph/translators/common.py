"""What the graph translators share: options that must keep their default, and plain checks.

Every option a Keras layer has that changes what it computes is either read into the node or
refused here, naming the layer and the option (DESIGN "The model graph": never a silent
default). Regularizers, constraints, LoRA and frozen layers are refused as the chain refuses
them (`keras_impl.translators.common.check_plain`).
"""

from __future__ import annotations

from typing import Any

import keras

from keras_impl.translators.common import check_plain, describe
from shared.errors import ModelFileError

# Why an option is refused, where a reason is worth more than "only X is supported".
REASONS = {
    "stateful": "a file cannot carry the state from one call to the next",
}


def plain_config(layer: keras.layers.Layer, **required: Any) -> dict[str, Any]:
    """The layer's config, after refusing settings it may not have.

    Args:
        layer: the Keras layer being read.
        required: config keys and the only value each may hold (a missing key passes).

    Raises:
        ModelFileError: `layer 'd' (Dot) has normalize=True: only normalize=False is supported`.
    """
    config = layer.get_config()
    check_plain(layer, config, need_bias=False)
    if config.get("quantization_config") or getattr(layer, "quantization_mode", None):
        raise ModelFileError(f"{describe(layer)} is quantized, which is not supported")
    for key, allowed in required.items():
        if key in config and config[key] != allowed:
            reason = f" ({REASONS[key]})" if key in REASONS else ""
            raise ModelFileError(
                f"{describe(layer)} has {key}={config[key]!r}: only {key}={allowed!r} is "
                f"supported{reason}"
            )
    return config


def single(value: Any) -> Any:
    """A Keras 1-d size written as a one-element tuple or list, as the number."""
    return value[0] if isinstance(value, list | tuple) and len(value) == 1 else value
