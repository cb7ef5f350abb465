"""Torch mirrors of `shared.activations`: every Keras activation name as a torch function.

Recurrent loops, dense head layers and the final head all look activations up here, by the same
Keras names the spec carries, so one table decides what "hard_sigmoid" or "leaky_relu" means.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F  # noqa: N812 - the universal torch spelling

from shared.activations import ACTIVATIONS


def _softplus(x: torch.Tensor) -> torch.Tensor:
    # log(1 + e^x) without F.softplus's linear cut-off above 20, to mirror np.logaddexp(0, x).
    return torch.logaddexp(torch.zeros_like(x), x)


def _hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    # Keras 3: relu6(x + 3) / 6 (not Keras 2's 0.2 x + 0.5).
    return F.relu6(x + 3.0) / 6.0


# Torch mirrors of shared.activations.ACTIVATIONS, name for name (tests check every one).
TORCH_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "linear": lambda x: x,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "relu6": F.relu6,
    "leaky_relu": lambda x: F.leaky_relu(x, negative_slope=0.2),  # Keras's slope, not torch's
    "elu": F.elu,
    "selu": F.selu,
    "softplus": _softplus,
    "softsign": F.softsign,
    "silu": F.silu,
    "swish": F.silu,
    "gelu": F.gelu,  # exact erf form, as Keras's default approximate=False
    "hard_sigmoid": _hard_sigmoid,
    "hard_silu": lambda x: x * _hard_sigmoid(x),
    "mish": lambda x: x * torch.tanh(_softplus(x)),
    "exponential": torch.exp,
    "softmax": lambda x: torch.softmax(x, dim=-1),  # over features, as Keras's axis=-1
}
if set(TORCH_ACTIVATIONS) != set(ACTIVATIONS):  # fail at import, not mid-training
    raise ImportError(
        "torch_impl activations out of step with shared.activations: "
        f"{sorted(set(TORCH_ACTIVATIONS) ^ set(ACTIVATIONS))}"
    )


def torch_activation(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """Return the torch function for a Keras activation name.

    Raises:
        KeyError: with the known names, if `name` is not one of them.
    """
    try:
        return TORCH_ACTIVATIONS[name]
    except KeyError:
        known = ", ".join(TORCH_ACTIVATIONS)
        raise KeyError(f"unknown activation {name!r}; known: {known}") from None
