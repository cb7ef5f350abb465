"""The "last_step" readout: the last time step of a bidirectional sequence, as plain Keras layers.

torch's `out[:, -1]` of a bidirectional layer is [forward h_{T-1}, the backward state after
reading step T-1 only]; Keras's Bidirectional final state is not that (its backward half has read
the whole sequence). So the grammar writes it as Bidirectional(return_sequences=True), then
Cropping1D((time_steps - 1, 0)) (keeps the last step, (batch, 1, F)), then Flatten() ((batch, F)):
built-in layers only, so the .keras file loads in plain Keras with safe_mode=True.
Reshape((F,)) in place of Flatten computes the same and is read the same.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import keras

from keras_impl.translators.common import describe
from keras_impl.translators.table import READOUT, Translator, register
from shared.errors import ModelFileError


@register
class LastStepTranslator(Translator):
    """Cropping1D, Flatten and Reshape, which only ever appear as the last-step readout."""

    keras_classes = (keras.layers.Cropping1D, keras.layers.Flatten, keras.layers.Reshape)
    role = READOUT

    @classmethod
    def spec_of(cls, layer: keras.layers.Layer) -> Any:
        return None  # the pair is checked as a whole by `check_last_step`


def build_last_step(time_steps: int, dtype: str) -> list[keras.layers.Layer]:
    """[Cropping1D((time_steps - 1, 0)), Flatten()], named "last_step_crop" and "last_step"."""
    return [
        keras.layers.Cropping1D((time_steps - 1, 0), dtype=dtype, name="last_step_crop"),
        keras.layers.Flatten(dtype=dtype, name="last_step"),
    ]


def check_last_step(layers: list[keras.layers.Layer], time_steps: int, features: int) -> None:
    """Refuse unless `layers` is Cropping1D((time_steps - 1, 0)) then Flatten or Reshape((F,)).

    Args:
        layers: the readout layers found after the last recurrent layer.
        time_steps: the model's time steps.
        features: the features of the recurrent sequence (F).
    """
    if type(layers[0]) is not keras.layers.Cropping1D:
        raise ModelFileError(
            f"{describe(layers[0])} is outside the grammar here: the last step of a sequence "
            "is read as Cropping1D((time_steps - 1, 0)) then Flatten()"
        )
    crop = layers[0]
    if tuple(crop.cropping) != (time_steps - 1, 0):
        raise ModelFileError(
            f"{describe(crop)} crops {tuple(crop.cropping)}: the grammar reads only the last "
            f"step, Cropping1D(({time_steps - 1}, 0))"
        )
    if len(layers) != 2 or type(layers[1]) not in (keras.layers.Flatten, keras.layers.Reshape):
        after = describe(layers[1]) if len(layers) > 1 else "nothing"
        raise ModelFileError(
            f"{describe(crop)} is followed by {after}: the last-step readout is Cropping1D "
            "then Flatten (or Reshape((features,)))"
        )
    if type(layers[1]) is keras.layers.Reshape and tuple(layers[1].target_shape) not in (
        (features,),
        (-1,),
    ):
        raise ModelFileError(
            f"{describe(layers[1])} reshapes to {tuple(layers[1].target_shape)}: the last-step "
            f"readout flattens to ({features},)"
        )


@contextmanager
def crop_mask_warning_silenced() -> Iterator[None]:
    """Hide Keras's warning that Cropping1D drops the mask: the readout means to drop it.

    After the last step is cut out there is nothing left to mask; the warning would tell a user
    of a masked last-step model that something is wrong when nothing is.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Cropping1D.*does not support masking")
        yield
