"""The assertion behind `compare.testing`: a Keras model and a torch model compute the same.

Users who port a model keep both and want one line in their own pytest suite that fails with a
useful message. `assert_same_outputs` runs both models on the same inputs and, when they differ,
says by how much, for which sample, and, where both map to canonical weights, which layer and
time step's hidden state diverges first, or which part after them (the readout, a head layer).
A user's own torch module is traced (`torch_impl.trace_module`) so it runs as its forward
expects (time-major where it is) and its parts can be compared; see `compare.port.divergence`.
The message tells a wrong weight (a layer diverges) from a wrong forward (every hidden state
agrees, the outputs do not).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from compare.frameworks import both, torch_impl
from compare.port.agreement import random_inputs
from compare.port.divergence import first_divergence
from shared.errors import RnnParityError
from shared.spec import ModelSpec
from shared.tolerances import TOLERANCES, allowed_difference
from shared.twins import FrameworkSide
from shared.weights import CanonicalWeights


def _keras_spec(keras_side: FrameworkSide, keras_model: Any) -> ModelSpec | None:
    try:
        return keras_side.spec_of(keras_model)
    except RnnParityError:
        return None  # outside the specs: compared by outputs only


def _default_inputs(keras_model: Any, spec: ModelSpec | None) -> np.ndarray:
    """8 inputs shaped like the Keras model's: token ids for an Embedding, else standard normal."""
    if spec is not None:
        return random_inputs(spec, batch=8, seed=0)
    _, time_steps, features = tuple(keras_model.inputs[0].shape)
    dtype = str(keras_model.inputs[0].dtype)
    return np.random.default_rng(0).normal(size=(8, time_steps or 12, features)).astype(dtype)


def _torch_side(torch_model: Any, X: np.ndarray) -> tuple[np.ndarray, Any]:
    """The torch model's outputs on X and how to look inside it: rnn-parity's own model by its
    canonical weights, a user's module by its traced forward (None when it cannot be traced)."""
    torch = torch_impl()  # tracing is torch_impl's own, not a twin
    if isinstance(getattr(torch_model, "spec", None), ModelSpec):  # rnn-parity's own model
        return torch.predict(torch_model, X), torch.to_canonical(torch_model)
    try:
        traced = torch.trace_module(torch_model, X.shape[1])
    except RnnParityError:
        return torch.module_outputs(torch_model, X), None
    return torch.traced_outputs(traced, torch_model, X), traced


def _first_divergence(keras_model: Any, inside: Any, X: np.ndarray, atol: float) -> str:
    """Where the two models first part: layer, direction and step, or the part after them."""
    keras_side, _ = both()
    if inside is None:
        return "hidden states not compared (the torch forward is outside the grammar)"
    try:
        keras_weights = keras_side.to_canonical(keras_model)
    except RnnParityError as error:
        return f"hidden states not compared ({error})"
    if isinstance(inside, CanonicalWeights):
        return first_divergence(keras_weights, inside, X, atol)
    labels = {(p.kind, p.index): p.label for p in inside.parts if p.kind != "layer"}
    parts = torch_impl().traced_parts(inside, X)
    return first_divergence(keras_weights, inside.weights, X, atol, parts, labels)


def assert_same_outputs(
    keras_model: Any, torch_model: Any, inputs: Any = None, atol: float | None = None
) -> None:
    """Assert that a Keras model and a torch model give the same outputs.

    Args:
        keras_model: a keras.Model of the grammar, taking (batch, time, features) or token ids
            (batch, time).
        torch_model: an nn.Module (rnn-parity's or your own). Your own is traced (torch.fx), so
            a batch_first=False module gets its inputs time-major and its per-step outputs are
            compared batch-major; a forward outside the grammar is run as `torch_model(x)`
            (a tuple output counts by its first element).
        inputs: as the Keras model takes them (batch first); default 8 samples that fit its
            input (token ids for an Embedding).
        atol: an absolute max abs difference; default 1e-6 for float32 and 1e-12 for float64
            (a few ulps of summation-order drift), scaled by the outputs' size above 1
            (see shared/tolerances.py).

    Raises:
        AssertionError: with the max abs difference, the worst sample and, where both models
            map to the grammar, the first layer and time step whose hidden states diverge, or
            the first part after them (readout, head layer) that does.
    """
    keras_side, _ = both()
    spec = _keras_spec(keras_side, keras_model)
    X = _default_inputs(keras_model, spec) if inputs is None else np.asarray(inputs)
    expected_dims = 2 if spec is not None and spec.embedded else 3
    if X.ndim != expected_dims:
        shape = "(batch, time) token ids" if expected_dims == 2 else "(batch, time, features)"
        raise AssertionError(f"inputs must be {shape}, got shape {X.shape}")
    dtype = spec.dtype if spec is not None else str(X.dtype)
    base = TOLERANCES.get(dtype, TOLERANCES["float32"]) if atol is None else atol
    if spec is not None:
        keras_out = keras_side.predict(keras_model, X)
    else:
        keras_out = np.asarray(keras_model(X, training=False))
    torch_out, inside = _torch_side(torch_model, X)
    if keras_out.shape != torch_out.shape:
        raise AssertionError(
            f"output shapes differ: Keras {keras_out.shape}, torch {torch_out.shape}"
        )
    gap = np.abs(keras_out.astype(np.float64) - torch_out.astype(np.float64))
    max_abs = float(gap.max()) if gap.size else 0.0
    magnitude = float(np.abs(keras_out.astype(np.float64)).max()) if keras_out.size else 0.0
    bound = allowed_difference(base, magnitude) if atol is None else atol
    if not max_abs <= bound:  # also catches NaN
        per_sample = gap.reshape(len(gap), -1).max(axis=1)
        worst = int(np.nanargmax(per_sample)) if np.isfinite(per_sample).any() else 0
        X = X if spec is not None and spec.embedded else X.astype(dtype)
        where = _first_divergence(keras_model, inside, X, base)
        raise AssertionError(
            f"Keras and torch outputs differ: max abs difference {max_abs:.3e} > "
            f"tolerance {bound:.1e}; worst sample {worst} of {len(X)} "
            f"(Keras {keras_out[worst].ravel()[:4]}, "
            f"torch {torch_out[worst].ravel()[:4]}); {where}"
        )
