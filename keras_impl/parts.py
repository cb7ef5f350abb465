"""The output of each part of a Keras model, computed by that model's own layers.

When a port disagrees with its source, the place it first parts says what was mis-read. For a
Keras source this must come from the source itself, not from a model rebuilt from what
rnn-parity read (a reconstruction agrees with itself): so each recurrent layer, head layer and
the final Dense is tapped where it sits in the user's model, every option it was saved with
included. Keras only: a torch source is read part by part from its own forward by
`torch_impl.reading.traced_parts`.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_impl.inputs import model_inputs
from keras_impl.reading import read_model
from keras_impl.translators.common import describe
from keras_impl.translators.readout import crop_mask_warning_silenced


def part_outputs(model: keras.Model, X: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Each part's output in `model` on X, in the model's order.

    Args:
        model: a model `spec_of` reads (Sequential or Functional, as built or loaded).
        X: inputs as `predict` takes them.

    Returns:
        (label, output) per recurrent layer, head layer and the final Dense, labelled as every
        message names a layer (`layer 'enc' (LSTM)`); outputs in the model's dtype, each as the
        layer returns it ((batch, time, units) for a layer returning sequences).
    """
    layers = read_model(model)
    parts = [*layers.recurrent, *layers.head_layers, layers.head]
    X = model_inputs(layers.spec, X)
    tapped = keras.Model(model.inputs[0], [part.output for part in parts])  # one input: read_model
    with crop_mask_warning_silenced():
        outputs = tapped(X, training=False)
    return [
        (describe(part), np.asarray(ops.convert_to_numpy(output), dtype=layers.spec.dtype))
        for part, output in zip(parts, outputs, strict=True)
    ]
