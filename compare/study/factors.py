"""The factors as switches: torch trained with Keras's choice for some framework defaults.

`compare.study.parity.FACTORS` names each default where the two frameworks choose differently;
a *variant* is torch with a set of them switched to Keras's choice (none: torch as users write
it; all: torch reproducing Keras's run from the same seed, within float32 rounding). Keras runs
as users write it. `variant_run` trains one variant from one seed and returns its test RMSE.

How torch gets Keras's initialisers: copied, array by array, from a Keras model built from the
same seed (`build_model(spec, seed)`), through the canonical format. Not drawn again in numpy
from Keras's formulas: the same formula from another generator is the same distribution but not
the same draw, and only the same draw makes "every switch on" reproduce Keras's run seed by seed,
the check that proves the switches complete. Each initialiser switch replaces only its own
arrays (kernel W, recurrent kernel U, biases b and c, or the Dense head) and keeps torch's own
draw for the rest, so switches combine freely.

How torch gets Keras's sample order: read from Keras's own data pipeline for the same seed
(`keras_impl.inputs.fit_orders`) and handed to torch's `fit` as its order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import numpy as np

from compare.frameworks import SPEED_ONLY_FIT_OPTIONS, both, keras_impl
from compare.study.baselines import rmse
from compare.study.parity import FACTOR_GROUPS, FACTORS
from compare.study.presets import TORCH_DEFAULT_EPSILON, Preset, StudyData, prepare
from shared.data import inverse_scale
from shared.errors import SpecError
from shared.recipe import TrainSpec
from shared.weights import CanonicalWeights

# canonical array names each initialiser switch takes from Keras (see shared.weights)
INIT_ARRAYS = {
    "init_kernel": ("/W/",),
    "init_recurrent": ("/U/",),
    "init_bias": ("/b/", "/c/"),
    "init_head": ("head/",),
}


def expand(switches: Iterable[str]) -> tuple[str, ...]:
    """The factors a list of factor and group names switches, in FACTORS's order.

    Raises:
        SpecError: naming an unknown factor or group.
    """
    chosen: set[str] = set()
    for name in switches:
        if name in FACTOR_GROUPS:
            chosen.update(FACTOR_GROUPS[name])
        elif name in FACTORS:
            chosen.add(name)
        else:
            known = ", ".join([*FACTORS, *FACTOR_GROUPS])
            raise SpecError(f"unknown factor {name!r}; known: {known}")
    return tuple(factor for factor in FACTORS if factor in chosen)


def torch_train_spec(base: TrainSpec, switches: Iterable[str]) -> TrainSpec:
    """Torch's recipe: `base` (the preset's, which is Keras's) with torch's defaults for every
    optimizer and bias factor not switched (epsilon 1e-8 placed on sqrt(v_hat), exact betas,
    two trained biases)."""
    on = expand(switches)
    exact = base.optimizer
    optimizer = dataclasses.replace(
        exact,
        epsilon=exact.epsilon if "epsilon_value" in on else TORCH_DEFAULT_EPSILON,
        epsilon_style="keras" if "epsilon_placement" in on else "native",
        # Keras computes with float32-rounded betas; torch with the Python floats it is given
        beta_1=float(np.float32(exact.beta_1)) if "beta_rounding" in on else exact.beta_1,
        beta_2=float(np.float32(exact.beta_2)) if "beta_rounding" in on else exact.beta_2,
    )
    return dataclasses.replace(base, optimizer=optimizer, single_bias="single_bias" in on)


def switched_start(
    torch_start: CanonicalWeights, keras_start: CanonicalWeights, switches: Iterable[str]
) -> CanonicalWeights:
    """Torch's initial weights with the switched initialisers' arrays taken from Keras's."""
    on = expand(switches)
    arrays = torch_start.to_arrays()
    keras_arrays = keras_start.to_arrays()
    for factor in on:
        for name in arrays:
            if any(part in name for part in INIT_ARRAYS.get(factor, ())):
                arrays[name] = keras_arrays[name]
    return CanonicalWeights.from_arrays(torch_start.spec, arrays)


def _errors(data: StudyData, test_pred: np.ndarray) -> dict[str, float]:
    if not np.all(np.isfinite(test_pred)):
        return {"test_rmse_scaled": float("nan"), "test_rmse_units": float("nan")}
    units = inverse_scale(data.scaler, test_pred)
    return {
        "test_rmse_scaled": rmse(test_pred, data.Y_test),
        "test_rmse_units": rmse(units, inverse_scale(data.scaler, data.Y_test)),
    }


def variant_run(
    framework: str,
    preset: dict,
    seed: int,
    switches: list[str],
    epochs: int | None = None,
    samples: int | None = None,
) -> dict:
    """Train Keras (as users write it) or a torch variant from `seed`; return its test RMSE.

    Args:
        framework: "keras" or "torch".
        preset: `Preset.to_dict()` (the data steps, model and Keras's recipe).
        seed: initial weights and sample order, in each framework's own way.
        switches: factor or group names switched to Keras's choice (torch only).
        epochs: override the preset's epochs.
        samples: train on the first `samples` windows only (the tests' short runs).

    Returns:
        A `training_run` record with test RMSE in scaled units and in sunspots, the train
        spec, the epoch losses, the wall time and whether it diverged.
    """
    if framework == "keras" and switches:
        raise SpecError("switches give torch Keras's choice; Keras runs as users write it")
    keras_side, torch_side = both()
    described = Preset.from_dict(preset)
    data = prepare(described)
    X, Y = data.X_train[:samples], data.Y_train[:samples]
    base = dataclasses.replace(described.train, seed=seed, epochs=epochs or described.train.epochs)
    on = expand(switches)
    if framework == "keras":
        train_spec, order = base, None
        model = keras_side.build_model(described.model, seed=seed)
        impl = keras_side
    else:
        train_spec = torch_train_spec(base, on)
        model = torch_side.build_model(described.model, seed=seed)
        if set(on) & set(INIT_ARRAYS):
            keras_start = keras_side.to_canonical(keras_side.build_model(described.model, seed))
            start = switched_start(torch_side.to_canonical(model), keras_start, on)
            torch_side.set_canonical(model, start)
        order = (
            keras_impl().inputs.fit_orders(len(X), base.epochs, seed, base.batch_size)
            if "shuffling" in on
            else None
        )
        impl = torch_side
    history = impl.fit(model, X, Y, train_spec, order, **SPEED_ONLY_FIT_OPTIONS[framework])
    test_pred = impl.predict(model, data.X_test)
    return {
        "kind": "training_run",
        "framework": framework,
        "switches": list(on),
        "seed": seed,
        "train_spec": train_spec.to_dict(),
        "epoch_loss": history.epoch_loss,
        "seconds": history.seconds,
        "diverged": bool(history.diverged or not np.all(np.isfinite(test_pred))),
        **_errors(data, test_pred),
    }
