"""Every port is checked against its SOURCE model's own forward before it is returned or written.

A port checked only against rnn-parity's reconstruction of a model checks rnn-parity against
itself: an option the reader did not understand is missing from the reconstruction too, so the
two agree while the user's model computes something else. So the source runs itself here: the
Keras model as Keras built or loaded it (its own layers, every option it was saved with), or the
torch module's own forward. A disagreement is an error naming the tolerance it broke and the
first part that diverges: inside the source first (a Keras layer whose output the model rebuilt
from what was read does not reproduce), then between the two frameworks
(`compare.port.divergence`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from compare.frameworks import keras_impl
from compare.port.agreement import Difference, difference
from shared.errors import ModelFileError
from shared.tolerances import TOLERANCES
from shared.weights import CanonicalWeights


def keras_source_divergence(model: Any, weights: CanonicalWeights, X: np.ndarray) -> str | None:
    """The first layer of a Keras `model` whose own output what was read does not reproduce.

    Each part of the user's model (recurrent layers, head layers, the final Dense) is tapped in
    the model itself and in the model rebuilt from `weights`, on the same inputs.

    Returns:
        "first diverging layer: layer 'enc' (LSTM) of your model (...)", or None when every
        part agrees (the difference is then between the frameworks, not in the reading).
    """
    keras = keras_impl()  # part_outputs is Keras's own, not a twin
    tolerance = TOLERANCES[weights.spec.dtype]
    ours = keras.part_outputs(model, X)
    rebuilt = keras.part_outputs(keras.from_canonical(weights), X)
    for (label, source), (_, read) in zip(ours, rebuilt, strict=True):
        if source.shape != read.shape:
            return (
                f"first diverging layer: {label} of your model (its output is {source.shape}, "
                f"what was read gives {read.shape})"
            )
        row = difference(label, "read vs your model", read, source, tolerance)
        if not row.ok:
            return (
                f"first diverging layer: {label} of your model (max abs {row.max_abs:.2e} > "
                f"{row.tolerance:.1e}): it computes something the port did not read"
            )
    return None


def check_port(
    source_outputs: np.ndarray,
    port_outputs: np.ndarray,
    dtype: str,
    what: str,
    locate: Callable[[], str],
) -> Difference:
    """The port's outputs against the source's own, or an error naming where they part.

    Args:
        source_outputs: what the source model computes on the check inputs (the baseline).
        port_outputs: what the port computes on the same inputs.
        dtype: the model's dtype, which sets the base tolerance.
        what: the port, as the message names it ("the torch model").
        locate: called only on a failure: one sentence naming the first diverging part.

    Raises:
        ModelFileError: "the torch model differs from your Keras model: max abs difference
            6.62e-02 > tolerance 1.0e-06 (1e-06 x max(1, max |outputs| 0.83)); first diverging
            layer: ...; nothing returned".
    """
    source = np.asarray(source_outputs)
    port = np.asarray(port_outputs)
    if source.shape != port.shape:
        raise ModelFileError(
            f"{what} gives outputs {port.shape}, your model {source.shape}; nothing returned"
        )
    row = difference("outputs", f"{what} vs your model", port, source, TOLERANCES[dtype])
    if not row.ok:
        magnitude = float(np.abs(source.astype(np.float64)).max()) if source.size else 0.0
        raise ModelFileError(
            f"{what} differs from your model: max abs difference {row.max_abs:.2e} > "
            f"tolerance {row.tolerance:.1e} ({TOLERANCES[dtype]:.0e} x max(1, max |outputs| "
            f"{magnitude:.3g})); {locate()}; nothing returned"
        )
    return row
