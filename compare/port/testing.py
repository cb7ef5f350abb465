"""The assertion behind `compare.testing`: a Keras model and a torch model compute the same.

Users who port a model keep both and want one line in their own pytest suite that fails with a
useful message. `assert_same_outputs` runs both models on the same inputs and, when they differ,
says by how much, for which sample, and, where both map to canonical weights, which layer and
time step's hidden state diverges first. The hidden states come from the probe models of
`compare.port.agreement` (each framework's own computation, from its own weights), so the
message tells a wrong weight (a layer diverges) from a wrong forward (every hidden state agrees,
the outputs do not).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from compare.frameworks import both
from compare.port.agreement import TOLERANCES, probe_weights
from shared.errors import RnnParityError
from shared.spec import ModelSpec


def _keras_spec(keras_impl: Any, keras_model: Any) -> ModelSpec | None:
    try:
        return keras_impl.spec_of(keras_model)
    except RnnParityError:
        return None  # outside the specs: compared by outputs only


def _default_inputs(keras_model: Any, spec: ModelSpec | None) -> np.ndarray:
    """Standard-normal (8, time, features) inputs shaped like the Keras model's input."""
    if spec is not None:
        time_steps, features, dtype = spec.time_steps, spec.features, spec.dtype
    else:
        _, time_steps, features = tuple(keras_model.inputs[0].shape)
        dtype = str(keras_model.inputs[0].dtype)
    return np.random.default_rng(0).normal(size=(8, time_steps or 12, features)).astype(dtype)


def _torch_canonical(torch_impl: Any, torch_model: Any, time_steps: int) -> Any:
    if isinstance(getattr(torch_model, "spec", None), ModelSpec):  # rnn-parity's own model
        return torch_impl.to_canonical(torch_model)
    return torch_impl.canonical_from_module(torch_model, time_steps=time_steps).weights


def _first_divergence(keras_model: Any, torch_model: Any, X: np.ndarray, atol: float) -> str:
    """Where the two models' hidden states first part, in each layer's own reading order."""
    keras_impl, torch_impl = both()
    try:
        keras_weights = keras_impl.to_canonical(keras_model)
        torch_weights = _torch_canonical(torch_impl, torch_model, X.shape[1])
    except RnnParityError as error:
        return f"hidden states not compared ({error})"
    keras_layers, torch_layers = keras_weights.spec.layers, torch_weights.spec.layers
    keras_shapes = [(layer.kind, layer.units, layer.bidirectional) for layer in keras_layers]
    torch_shapes = [(layer.kind, layer.units, layer.bidirectional) for layer in torch_layers]
    if keras_shapes != torch_shapes:
        return f"the recurrent layers differ: Keras {keras_shapes}, torch {torch_shapes}"
    for index, layer in enumerate(keras_layers):
        keras_hidden = keras_impl.predict(
            keras_impl.from_canonical(probe_weights(keras_weights, index)), X
        )
        torch_hidden = torch_impl.predict(
            torch_impl.from_canonical(probe_weights(torch_weights, index)), X
        )
        gap = np.abs(keras_hidden.astype(np.float64) - torch_hidden.astype(np.float64))
        for position, direction in enumerate(layer.directions):
            per_step = gap[:, :, position * layer.units : (position + 1) * layer.units].max(
                axis=(0, 2)
            )  # (time,)
            steps = range(len(per_step))
            for step in reversed(steps) if direction == "backward" else steps:
                if per_step[step] > atol:
                    return (
                        f"first diverging hidden state: layer {index} {direction}, time step "
                        f"{step} (max abs {per_step[step]:.2e})"
                    )
    return (
        "every hidden state agrees: the difference comes after the recurrent layers (the head, "
        "its activation, or which step of the recurrent output the torch forward reads)"
    )


def assert_same_outputs(
    keras_model: Any, torch_model: Any, inputs: Any = None, atol: float | None = None
) -> None:
    """Assert that a Keras model and a torch model give the same outputs.

    Args:
        keras_model: a keras.Model taking (batch, time, features).
        torch_model: an nn.Module (rnn-parity's or your own) called as `torch_model(x)` with x
            (batch, time, features); a tuple output counts by its first element.
        inputs: (batch, time, features); default 8 standard-normal samples shaped like the
            Keras model's input.
        atol: max abs difference allowed; default 1e-6 for float32 and 1e-12 for float64
            (a few ulps of summation-order drift, see compare.port.agreement).

    Raises:
        AssertionError: with the max abs difference, the worst sample and, where both models
            map to canonical weights, the first layer and time step whose hidden states diverge.
    """
    keras_impl, torch_impl = both()
    spec = _keras_spec(keras_impl, keras_model)
    X = _default_inputs(keras_model, spec) if inputs is None else np.asarray(inputs)
    if X.ndim != 3:
        raise AssertionError(f"inputs must be (batch, time, features), got shape {X.shape}")
    dtype = spec.dtype if spec is not None else str(X.dtype)
    atol = TOLERANCES.get(dtype, TOLERANCES["float32"]) if atol is None else atol
    if spec is not None:
        keras_out = keras_impl.predict(keras_model, X)
    else:
        keras_out = np.asarray(keras_model(X, training=False))
    torch_out = torch_impl.module_outputs(torch_model, X)
    if keras_out.shape != torch_out.shape:
        raise AssertionError(
            f"output shapes differ: Keras {keras_out.shape}, torch {torch_out.shape}"
        )
    gap = np.abs(keras_out.astype(np.float64) - torch_out.astype(np.float64))
    max_abs = float(gap.max()) if gap.size else 0.0
    if not max_abs <= atol:  # also catches NaN
        per_sample = gap.reshape(len(gap), -1).max(axis=1)
        worst = int(np.nanargmax(per_sample)) if np.isfinite(per_sample).any() else 0
        where = _first_divergence(keras_model, torch_model, X.astype(dtype), atol)
        raise AssertionError(
            f"Keras and torch outputs differ: max abs difference {max_abs:.3e} > atol "
            f"{atol:.0e}; worst sample {worst} of {len(X)} (Keras {keras_out[worst].ravel()[:4]}, "
            f"torch {torch_out[worst].ravel()[:4]}); {where}"
        )
