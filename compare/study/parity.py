"""Training parity: the same model, the same start, the same batches; how far apart do they end?

Both frameworks start from identical weights (built in Keras, copied to torch through the
canonical format) and train on the tutorial's windows. In *parity* mode every known difference
is removed; each *gap* mode puts exactly one back, so the report shows what each one costs; the
*users* mode keeps every framework default, as people write it. The known differences:

- double_bias: torch trains bias_ih and bias_hh where Keras has one bias (simple, LSTM, GRU
  with reset_after=False), so the effective bias takes two gradient steps per update. Fix:
  torch keeps bias_hh at 0, frozen.
- own_shuffling: each framework draws its own sample order. Fix: per-epoch permutations drawn
  once in numpy (shared.training.epoch_orders) and handed to both `fit(..., order=...)`.
- epsilon_placement: Keras adds epsilon to sqrt(v), torch to sqrt(v / (1 - beta_2^t)); no
  constant maps one onto the other. Fix: torch runs an Adam with Keras's placement.
- beta_rounding: Keras rounds beta_1, beta_2 through float32 even in float64. Fix: use betas
  that float32 represents exactly in both frameworks.
The users mode adds torch's own default epsilon (1e-8, where Keras's is 1e-7).

Weights are compared as the model computes with them: b + c for one-bias layers
(shared.weights.fold_single_bias), so a torch bias split over two vectors is not a false gap.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from compare.frameworks import SPEED_ONLY_FIT_OPTIONS, both
from compare.study.presets import PRESETS, TORCH_DEFAULT_EPSILON, prepare
from shared.recipe import OptimizerSpec, TrainSpec
from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import DenseSpec, ModelSpec
from shared.training import epoch_orders
from shared.weights import fold_single_bias

GAPS = {
    "double_bias": "torch trains bias_ih and bias_hh; Keras has one bias",
    "own_shuffling": "each framework shuffles with its own generator",
    "epsilon_placement": "Adam's epsilon on sqrt(v) (Keras) vs on sqrt(v_hat) (torch)",
    "beta_rounding": "betas 0.9 / 0.999 (Keras rounds them through float32, torch does not)",
}
MODES = ("parity", *(f"gap:{gap}" for gap in GAPS), "users")
# The factors: each framework default where torch and Keras choose differently, as a switch
# that gives torch Keras's choice (compare.study.factors applies them; `rnn-parity explain`
# measures each one's effect on test RMSE over seeds). Where a factor is a parity gap, its
# words are the gap's. Checked and found alike, so no switch: the loss (MSE, mean over the
# batch, the last short batch a mean over its own samples, in both) and the dtype (float32).
FACTORS = {
    "init_kernel": "input kernel: Keras glorot_uniform, torch U(+-1/sqrt(units))",
    "init_recurrent": "recurrent kernel: Keras orthogonal, torch U(+-1/sqrt(units))",
    "init_bias": "biases: Keras zeros, torch U(+-1/sqrt(units)) on bias_ih and bias_hh",
    "init_head": "Dense head: Keras glorot_uniform and a zero bias, torch kaiming_uniform(a=sqrt 5)"
    " and U(+-1/sqrt(fan_in))",
    "single_bias": GAPS["double_bias"],
    "epsilon_value": f"Adam's epsilon: Keras 1e-7, torch {TORCH_DEFAULT_EPSILON:g}",
    "epsilon_placement": GAPS["epsilon_placement"],
    "beta_rounding": GAPS["beta_rounding"],
    "shuffling": "sample order: Keras's own (one permutation, the same every epoch, from its "
    "TensorFlow pipeline); torch draws a new one each epoch from its own generator",
}
# Factors switched together: a framework's initialisers as a whole, and every factor at once.
FACTOR_GROUPS = {
    "initialisers": ("init_kernel", "init_recurrent", "init_bias"),
    "all": tuple(FACTORS),
}
# Layer kinds of the parity runs, named as the report's forward-agreement rows: "gru" is
# Keras's default (reset_after=True, nn.GRU), "gru-reset-before" the one-bias variant.
KINDS = ("simple", "lstm", "gru", "gru-reset-before")


def parity_spec(kind: str, dtype: str) -> ModelSpec:
    """The tutorial's model (3 units, tanh, Dense(1, tanh), windows of 12) with any of KINDS."""
    if kind not in KINDS:
        raise ValueError(f"unknown parity layer kind {kind!r}; known: {', '.join(KINDS)}")
    layer = RecurrentLayerSpec(
        kind.removesuffix("-reset-before"), 3, activation="tanh", reset_after=kind == "gru"
    )
    return ModelSpec(12, 1, (layer,), DenseSpec(1, "tanh"), dtype)


def recipes(mode: str, epochs: int, seed: int) -> tuple[TrainSpec, TrainSpec, bool]:
    """(Keras train spec, torch train spec, whether both get the same explicit order)."""
    if mode not in MODES:
        raise ValueError(f"unknown parity mode {mode!r}; known: {', '.join(MODES)}")
    gaps = set(GAPS) if mode == "users" else ({mode.removeprefix("gap:")} - {"parity"})
    exact_betas = "beta_rounding" in gaps
    beta_1 = 0.9 if exact_betas else float(np.float32(0.9))
    beta_2 = 0.999 if exact_betas else float(np.float32(0.999))
    keras_optimizer = OptimizerSpec(beta_1=beta_1, beta_2=beta_2, epsilon=1e-7)
    torch_optimizer = dataclasses.replace(
        keras_optimizer,
        epsilon_style="torch" if "epsilon_placement" in gaps else "keras",
        epsilon=TORCH_DEFAULT_EPSILON if mode == "users" else 1e-7,
    )
    shared_order = "own_shuffling" not in gaps
    keras_spec = TrainSpec(
        epochs=epochs, batch_size=1, optimizer=keras_optimizer, seed=seed, shuffle=not shared_order
    )
    torch_spec = dataclasses.replace(
        keras_spec, optimizer=torch_optimizer, single_bias="double_bias" not in gaps
    )
    return keras_spec, torch_spec, shared_order


def parity_record(
    kind: str, dtype: str, mode: str, epochs: int, seed: int = 0, samples: int | None = None
) -> dict:
    """Train both frameworks from one start; record losses and weight gaps per epoch.

    Args:
        kind: one of KINDS.
        dtype: "float32" or "float64".
        mode: one of MODES.
        epochs: epochs both frameworks train.
        seed: starting weights and sample orders.
        samples: train on the first `samples` windows only (the tests' short runs); None
            for all 187 of the tutorial.

    Returns:
        A `parity_run` record: per-epoch losses of each framework, their difference, the max abs
        weight difference after each epoch, and the first epoch's per-step losses.
    """
    keras_side, torch_side = both()
    spec = parity_spec(kind, dtype)
    tutorial = prepare(PRESETS["tutorial"], dtype)  # the tutorial's 187 training windows
    X, Y = tutorial.X_train[:samples], tutorial.Y_train[:samples]
    keras_spec, torch_spec, shared_order = recipes(mode, epochs, seed)
    keras_model = keras_side.build_model(spec, seed=seed)
    start = keras_side.to_canonical(keras_model)
    torch_model = torch_side.from_canonical(start)
    order = epoch_orders(len(X), epochs, seed) if shared_order else None
    keras_history = keras_side.fit(
        keras_model,
        X,
        Y,
        keras_spec,
        order,
        record_weights=True,
        **SPEED_ONLY_FIT_OPTIONS["keras"],
    )
    torch_history = torch_side.fit(
        torch_model,
        X,
        Y,
        torch_spec,
        order,
        record_weights=True,
        **SPEED_ONLY_FIT_OPTIONS["torch"],
    )
    weight_gap = [
        fold_single_bias(k).max_abs_diff(fold_single_bias(t))
        for k, t in zip(keras_history.epoch_weights, torch_history.epoch_weights, strict=True)
    ]
    loss_gap = [
        abs(k - t) for k, t in zip(keras_history.epoch_loss, torch_history.epoch_loss, strict=True)
    ]
    steps = len(X)  # batch 1: one step per sample in the first epoch
    return {
        "kind": "parity_run",
        "layer_kind": kind,
        "dtype": dtype,
        "mode": mode,
        # what the mode puts back, in words: the report reads it from here, not from GAPS
        "mode_description": GAPS.get(mode.removeprefix("gap:"), ""),
        "epochs": epochs,
        "seed": seed,
        "keras_train_spec": keras_spec.to_dict(),
        "torch_train_spec": torch_spec.to_dict(),
        "keras_epoch_loss": keras_history.epoch_loss,
        "torch_epoch_loss": torch_history.epoch_loss,
        "keras_first_epoch_step_loss": keras_history.step_loss[:steps],
        "torch_first_epoch_step_loss": torch_history.step_loss[:steps],
        "epoch_loss_abs_diff": loss_gap,
        "epoch_weight_max_abs_diff": weight_gap,
        "diverged": keras_history.diverged or torch_history.diverged,
    }
