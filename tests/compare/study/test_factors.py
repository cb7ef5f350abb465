"""The factors as switches: each changes exactly its own thing; all of them reproduce Keras.

The recipe and initial-weight checks need no framework. The reproduction trains both
frameworks from two seeds for 2 epochs on the first 10 tutorial windows, and holds torch with
every switch on to Keras's run from the same seed within the parity tests' float32 bounds.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from compare.study.factors import INIT_ARRAYS, expand, switched_start, torch_train_spec
from compare.study.parity import FACTOR_GROUPS, FACTORS
from compare.study.presets import PRESETS
from shared.errors import SpecError
from shared.weights import random_weights
from tests.compare.study.test_parity_bounds import FLOAT32_LOSS_BOUND, FLOAT32_STEP_LOSS_BOUND

RECIPE_FACTORS = {  # factor -> the one TrainSpec field it sets
    "single_bias": "single_bias",
    "epsilon_value": "optimizer.epsilon",
    "epsilon_placement": "optimizer.epsilon_style",
    "beta_rounding": "optimizer.beta_1+beta_2",
}


def _flat(spec) -> dict:
    data = dataclasses.asdict(spec)
    optimizer = data.pop("optimizer")
    flat = {**data, **{f"optimizer.{k}": v for k, v in optimizer.items()}}
    # the two betas are one factor: Keras rounds both through float32
    flat["optimizer.beta_1+beta_2"] = (flat.pop("optimizer.beta_1"), flat.pop("optimizer.beta_2"))
    return flat


def test_every_factor_is_a_recipe_or_an_initialiser_or_the_order():
    assert set(FACTORS) == set(RECIPE_FACTORS) | set(INIT_ARRAYS) | {"shuffling"}
    assert expand(["all"]) == tuple(FACTORS)
    assert expand(["initialisers"]) == FACTOR_GROUPS["initialisers"]
    with pytest.raises(SpecError, match="unknown factor 'eps'"):
        expand(["eps"])


@pytest.mark.parametrize("factor", list(FACTORS))
def test_each_switch_changes_exactly_its_own_recipe_field(factor):
    base = PRESETS["tutorial"].train
    before, after = _flat(torch_train_spec(base, [])), _flat(torch_train_spec(base, [factor]))
    changed = {key for key in before if before[key] != after[key]}
    assert changed == ({RECIPE_FACTORS[factor]} if factor in RECIPE_FACTORS else set())
    # torch's defaults where not switched; Keras's (the preset's recipe) where switched
    if factor in RECIPE_FACTORS:
        assert before["optimizer.epsilon"] == 1e-8 and after["optimizer.epsilon"] in (1e-8, 1e-7)


@pytest.mark.parametrize("factor", list(INIT_ARRAYS))
def test_each_initialiser_switch_takes_exactly_its_arrays_from_keras(factor):
    spec = PRESETS["sliding"].model
    torch_start, keras_start = random_weights(spec, seed=1), random_weights(spec, seed=2)
    switched = switched_start(torch_start, keras_start, [factor]).to_arrays()
    mine, theirs = torch_start.to_arrays(), keras_start.to_arrays()
    taken = {name for name in switched if np.array_equal(switched[name], theirs[name])}
    kept = {name for name in switched if np.array_equal(switched[name], mine[name])}
    expected = {
        "init_kernel": {"layer0/forward/W/h"},
        "init_recurrent": {"layer0/forward/U/h"},
        "init_bias": {"layer0/forward/b/h", "layer0/forward/c/h"},
        "init_head": {"head/W_y", "head/b_y"},
    }[factor]
    assert taken == expected and kept == set(switched) - expected


@pytest.mark.parametrize("seed", [0, 1])
def test_every_switch_on_reproduces_keras_from_the_same_seed(seed):
    from compare.study.factors import variant_run

    preset = PRESETS["tutorial"].to_dict()
    keras = variant_run("keras", preset, seed, [], epochs=2, samples=10)
    torch = variant_run("torch", preset, seed, ["all"], epochs=2, samples=10)
    losses = np.abs(np.subtract(keras["epoch_loss"], torch["epoch_loss"]))
    assert losses.max() < FLOAT32_LOSS_BOUND
    # test RMSE (scaled, ~0.1-0.3) is a loss-sized value: the step-loss bound applies
    assert abs(keras["test_rmse_scaled"] - torch["test_rmse_scaled"]) < FLOAT32_STEP_LOSS_BOUND


def test_fit_orders_are_keras_own_shuffling():
    from compare.frameworks import keras_impl, keras_side

    side = keras_side()
    data_preset = PRESETS["tutorial"]
    from compare.study.presets import prepare

    data = prepare(data_preset)
    X, Y = data.X_train[:16], data.Y_train[:16]
    spec = dataclasses.replace(data_preset.train, epochs=2, batch_size=4, seed=3)
    orders = keras_impl().inputs.fit_orders(16, 2, 3, 4)
    own = side.fit(side.build_model(data_preset.model, seed=3), X, Y, spec)
    given = side.fit(side.build_model(data_preset.model, seed=3), X, Y, spec, orders)
    assert own.step_loss == given.step_loss
    assert np.array_equal(orders[0], orders[1])  # Keras reuses its permutation every epoch


def test_explain_torch_trains_with_the_rmse_studys_torch_recipe():
    """Both say "torch as users write it": torch.optim.Adam's own epsilon 1e-8, exact betas,
    two biases; Keras's recipe is the preset's, epsilon 1e-7."""
    import dataclasses

    from compare.study.experiment import plan_experiment
    from compare.study.factors import torch_train_spec
    from compare.study.presets import PRESETS, users_preset

    for preset in PRESETS.values():
        study_torch = users_preset("torch", preset).train
        assert study_torch == torch_train_spec(preset.train, [])
        assert study_torch.optimizer.epsilon == 1e-8  # torch.optim.Adam's default
        assert users_preset("keras", preset) == preset and preset.train.optimizer.epsilon == 1e-7
        assert users_preset("torch", dataclasses.replace(preset, train=study_torch)).train == (
            study_torch
        )
    plan = plan_experiment(units=[2], time_steps=[6], layers=[1], seeds=1, epochs=1)
    epsilons = {
        job.kwargs["framework"]: job.kwargs["preset"]["train"]["optimizer"]["epsilon"]
        for job in plan.jobs
        if job.group
    }
    assert epsilons == {"keras": 1e-7, "torch": 1e-8}  # in the job's kwargs: its cache key
