"""Keras optimizers and losses from a spec, including an Adam that places epsilon as torch does.

Training parity needs both frameworks to start from the same recipe. Keras's Adam adds epsilon
to sqrt(v) and folds both bias corrections into the step size; torch's adds it to sqrt(v_hat).
`OptimizerSpec.epsilon_style="torch"` selects `ParityAdam` with torch's placement, and "keras"
selects `ParityAdam` with Keras's own update held exactly in float64 (stock Keras casts the
betas through float32).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_impl.model import floatx_scope
from shared.errors import SpecError
from shared.recipe import OptimizerSpec


@keras.saving.register_keras_serializable(package="rnn_parity")
class ParityAdam(keras.optimizers.Adam):
    """Adam with exact constants and a choice of where epsilon goes.

    epsilon_style "keras": Keras's update, w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v)
    + eps), written like `keras.optimizers.Adam.update_step` (so float32 results are bit-identical
    to it) except that beta_1 and beta_2 enter in the variable's dtype: stock Keras casts them
    through float32, which costs float64 training about 1e-8 of relative accuracy.

    epsilon_style "torch": torch.optim.Adam's update, w -= lr / (1 - b1^t) * m / (sqrt(v) /
    sqrt(1 - b2^t) + eps), with v updated as torch does (v * b2 + (1 - b2) * g^2) and the bias
    corrections formed in float64, then rounded to the variable's dtype, as torch forms them in
    Python floats. Epsilon is effectively sqrt(1 - b2^t) times smaller than in Keras's update.

    Create it under `floatx_scope("float64")` so the learning rate is held in float64 exactly.
    """

    def __init__(self, *args: Any, epsilon_style: str = "keras", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if epsilon_style not in ("keras", "torch"):
            raise SpecError(f"epsilon_style must be 'keras' or 'torch', got {epsilon_style!r}")
        if self.amsgrad:
            raise SpecError("ParityAdam does not implement amsgrad")
        self.epsilon_style = epsilon_style

    def update_step(self, gradient: Any, variable: keras.Variable, learning_rate: Any) -> None:
        """Update one variable from its gradient (called by `apply`, inside the compiled step)."""
        dtype = variable.dtype
        gradient = ops.cast(gradient, dtype)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        if self.epsilon_style == "keras":
            self._keras_update(gradient, variable, m, v, learning_rate)
        else:
            self._torch_update(gradient, variable, m, v, learning_rate)

    def _keras_update(
        self, gradient: Any, variable: keras.Variable, m: Any, v: Any, learning_rate: Any
    ) -> None:
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        step = ops.cast(self.iterations + 1, dtype)
        # convert_to_tensor keeps 0.9 exact in float64; ops.cast(0.9, ...) passes through float32
        beta_1_power = ops.power(ops.convert_to_tensor(self.beta_1, dtype), step)
        beta_2_power = ops.power(ops.convert_to_tensor(self.beta_2, dtype), step)
        alpha = lr * ops.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - self.beta_2))
        self.assign_sub(
            variable, ops.divide(ops.multiply(m, alpha), ops.add(ops.sqrt(v), self.epsilon))
        )

    def _torch_update(
        self, gradient: Any, variable: keras.Variable, m: Any, v: Any, learning_rate: Any
    ) -> None:
        dtype = variable.dtype
        # scalars in float64, as torch computes them in Python floats, then rounded once
        step = ops.cast(self.iterations + 1, "float64")
        lr = ops.cast(learning_rate, "float64")
        correction_1 = 1 - ops.power(ops.convert_to_tensor(self.beta_1, "float64"), step)
        correction_2 = 1 - ops.power(ops.convert_to_tensor(self.beta_2, "float64"), step)
        step_size = ops.cast(lr / correction_1, dtype)
        root_correction_2 = ops.cast(ops.sqrt(correction_2), dtype)
        # m.lerp_(g, 1 - b1) and v.mul_(b2).addcmul_(g, g, value=1 - b2), as torch writes them
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign(
            v,
            ops.add(
                ops.multiply(v, ops.convert_to_tensor(self.beta_2, dtype)),
                ops.multiply(ops.square(gradient), 1 - self.beta_2),
            ),
        )
        denominator = ops.add(ops.divide(ops.sqrt(v), root_correction_2), self.epsilon)
        self.assign_sub(variable, ops.divide(ops.multiply(m, step_size), denominator))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["epsilon_style"] = self.epsilon_style
        return config


def make_optimizer(optimizer: OptimizerSpec) -> keras.optimizers.Optimizer:
    """The Keras optimizer an `OptimizerSpec` describes.

    "adam" with epsilon_style "native" is stock `keras.optimizers.Adam`; "keras" and "torch" are
    `ParityAdam`, held in float64 so its learning rate is exact. "sgd" is `keras.optimizers.SGD`.
    Call it under `floatx_scope(model dtype)` so the learning rate has the model's precision.
    """
    if optimizer.name == "sgd":
        return keras.optimizers.SGD(
            learning_rate=float(optimizer.learning_rate), momentum=float(optimizer.momentum)
        )
    options = {
        "learning_rate": float(optimizer.learning_rate),
        "beta_1": float(optimizer.beta_1),
        "beta_2": float(optimizer.beta_2),
        "epsilon": float(optimizer.epsilon),
    }
    if optimizer.epsilon_style == "native":
        return keras.optimizers.Adam(**options)
    with floatx_scope("float64"):
        return ParityAdam(epsilon_style=optimizer.epsilon_style, **options)


def make_loss(name: str) -> keras.losses.Loss:
    """The loss a TrainSpec names: "mse" or "mae", both batch means.

    Call it under `floatx_scope(model dtype)` so the loss is computed in the model's precision.
    """
    losses = {"mse": keras.losses.MeanSquaredError, "mae": keras.losses.MeanAbsoluteError}
    if name not in losses:
        raise ValueError(f"unknown loss {name!r}; known: {', '.join(losses)}")
    return losses[name]()
