"""Optimizers and losses from a spec, including an Adam that places epsilon as Keras does.

Training parity needs both frameworks to start from the same recipe. torch's Adam adds epsilon
to sqrt(v_hat) (the bias-corrected second moment); Keras adds it to sqrt(v) and folds both bias
corrections into the step size. With epsilon 1e-7 and small gradients the two drift apart, so
`OptimizerSpec.epsilon_style="keras"` selects `KerasAdam`, which repeats Keras's update
operation for operation (keras/src/optimizers/adam.py, `Adam.update_step`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

from shared.errors import DataError
from shared.recipe import OptimizerSpec


class KerasAdam(torch.optim.Optimizer):
    """Adam with Keras 3's update, in each parameter's own dtype:

        alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        m = m + (g - m) * (1 - beta_1)
        v = v + (g^2 - v) * (1 - beta_2)
        w = w - (m * alpha) / (sqrt(v) + epsilon)

    Every constant is cast to the parameter's dtype before use, as Keras casts them to the
    variable's dtype (Keras's default epsilon is 1e-7).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-7,
    ) -> None:
        if lr <= 0 or eps < 0 or not all(0 <= beta < 1 for beta in betas):
            raise ValueError(f"bad KerasAdam settings: lr={lr}, betas={betas}, eps={eps}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """Apply one update to every parameter that has a gradient.

        Args:
            closure: re-evaluates the model and returns the loss (Lightning passes one).

        Returns:
            The closure's loss, or None.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:  # frozen (e.g. a single_bias recurrent bias)
                    continue
                state = self.state[param]
                if not state:
                    state["step"] = 0
                    state["m"] = torch.zeros_like(param, memory_format=torch.preserve_format)
                    state["v"] = torch.zeros_like(param, memory_format=torch.preserve_format)
                state["step"] += 1
                _keras_adam_update(param, param.grad, state, group)
        return loss


def _keras_adam_update(
    param: torch.Tensor, grad: torch.Tensor, state: dict[str, Any], group: dict[str, Any]
) -> None:
    """One Keras Adam update of `param` in place, in Keras's operation order."""
    dtype = param.dtype

    def const(value: float) -> torch.Tensor:
        # Python constants become 0-d tensors of the variable's dtype, like Keras's ops.cast
        return torch.tensor(value, dtype=dtype, device=param.device)

    beta_1, beta_2 = group["betas"]
    local_step = const(float(state["step"]))
    beta_1_power = torch.pow(const(beta_1), local_step)
    beta_2_power = torch.pow(const(beta_2), local_step)
    alpha = const(group["lr"]) * torch.sqrt(1 - beta_2_power) / (1 - beta_1_power)
    m, v = state["m"], state["v"]
    m.add_((grad - m) * const(1 - beta_1))
    v.add_((grad.square() - v) * const(1 - beta_2))
    param.sub_((m * alpha) / (v.sqrt() + const(group["eps"])))


def make_optimizer(
    params: Iterable[torch.nn.Parameter], spec: OptimizerSpec, *, fused: bool = False
) -> torch.optim.Optimizer:
    """The optimizer `spec` names, over the parameters that require gradients.

    "adam" with epsilon_style "native" or "torch" is torch.optim.Adam (epsilon added to
    sqrt(v_hat)); with "keras" it is `KerasAdam`. "sgd" is torch.optim.SGD with momentum.
    `fused` asks torch.optim.Adam for its fused kernel (one kernel for every parameter, CPU
    included): speed only, the same update up to rounding.

    Raises:
        ValueError: for fused with an optimizer that has no fused kernel (KerasAdam, SGD).
    """
    trainable = [param for param in params if param.requires_grad]
    if fused and (spec.name != "adam" or spec.epsilon_style == "keras"):
        raise ValueError(
            f"fused needs torch's own Adam; {spec.name} with epsilon_style "
            f"{spec.epsilon_style!r} has no fused kernel"
        )
    if spec.name == "sgd":
        return torch.optim.SGD(trainable, lr=spec.learning_rate, momentum=spec.momentum)
    betas = (spec.beta_1, spec.beta_2)
    if spec.epsilon_style == "keras":
        return KerasAdam(trainable, lr=spec.learning_rate, betas=betas, eps=spec.epsilon)
    return torch.optim.Adam(
        trainable, lr=spec.learning_rate, betas=betas, eps=spec.epsilon, fused=fused or None
    )


def make_loss(name: str) -> nn.Module:
    """The loss a TrainSpec names: "mse" (nn.MSELoss) or "mae" (nn.L1Loss), both batch means."""
    losses = {"mse": nn.MSELoss, "mae": nn.L1Loss}
    if name not in losses:
        raise ValueError(f"unknown loss {name!r}; known: {', '.join(losses)}")
    return losses[name](reduction="mean")


def checked_loss(loss_fn: nn.Module, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The loss of outputs against targets of exactly the same shape.

    Raises:
        DataError: if the shapes differ; (batch, 1) against (batch,) would otherwise broadcast
            to (batch, batch) and train on a silently wrong loss.
    """
    if outputs.shape != targets.shape:
        raise DataError(
            f"targets shaped {tuple(targets.shape)} do not match model outputs "
            f"{tuple(outputs.shape)}"
        )
    return loss_fn(outputs, targets)
