"""Keras-named activation functions in numpy: the names every spec uses, and their exact math.

The numpy reference evaluates these; torch_impl mirrors each one by name. Definitions follow
Keras 3 (for example `hard_sigmoid` is relu6(x + 3) / 6 and `leaky_relu` uses slope 0.2), and
tests/keras_impl checks every one against `keras.activations`.
"""

from __future__ import annotations

from collections.abc import Callable
from math import erf as _scalar_erf

import numpy as np

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_erf = np.vectorize(_scalar_erf, otypes=[float])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # Two branches so neither exp overflows: exp(-x) for x >= 0, exp(x) for x < 0.
    positive = x >= 0
    safe = np.where(positive, -x, x)
    exp = np.exp(safe)
    return np.where(positive, 1.0 / (1.0 + exp), exp / (1.0 + exp)).astype(x.dtype)


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0, x).astype(x.dtype)


def _gelu(x: np.ndarray) -> np.ndarray:
    # Keras's default gelu is the exact one (approximate=False): x * Phi(x).
    return (0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))).astype(x.dtype)


def _softmax(x: np.ndarray) -> np.ndarray:
    # Over the last axis (Keras's and torch's dim=-1), shifted by the max so exp never overflows.
    shifted = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return (shifted / np.sum(shifted, axis=-1, keepdims=True)).astype(x.dtype)


def _hard_sigmoid(x: np.ndarray) -> np.ndarray:
    return (np.clip(x + 3.0, 0.0, 6.0) / 6.0).astype(x.dtype)


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda x: x,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "relu": lambda x: np.maximum(x, 0).astype(x.dtype),
    "relu6": lambda x: np.clip(x, 0, 6).astype(x.dtype),
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.2 * x).astype(x.dtype),
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))).astype(x.dtype),
    "selu": lambda x: (
        _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0)))
    ).astype(x.dtype),
    "softplus": _softplus,
    "softsign": lambda x: (x / (1.0 + np.abs(x))).astype(x.dtype),
    "silu": lambda x: (x * _sigmoid(x)).astype(x.dtype),
    "swish": lambda x: (x * _sigmoid(x)).astype(x.dtype),
    "gelu": _gelu,
    "hard_sigmoid": _hard_sigmoid,
    "hard_silu": lambda x: (x * _hard_sigmoid(x)).astype(x.dtype),
    "mish": lambda x: (x * np.tanh(_softplus(x))).astype(x.dtype),
    "exponential": np.exp,
    "softmax": _softmax,
}


def activation(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """Return the numpy function for a Keras activation name.

    Raises:
        KeyError: with the known names, if `name` is not one of them.
    """
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise KeyError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}") from None
