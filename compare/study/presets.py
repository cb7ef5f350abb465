"""The RMSE study: each framework trained with several seeds on sunspots, beside baselines.

Two presets. `tutorial` is the tutorial exactly: MinMaxScaler fitted on the whole series (which
leaks the test part's range), non-overlapping windows of 12, SimpleRNN(3, tanh) + Dense(1, tanh),
Adam, MSE, 20 epochs, batch 1, each framework with its own initialisers, its own shuffling and its
own Adam (torch's epsilon 1e-8 on sqrt(v_hat), Keras's 1e-7 on sqrt(v)), as users write it.
`sliding` is the honest variant: scaler fitted on the training part only, sliding windows
(stride 1: twelve times the training windows), a linear head (test values may exceed the
training range), more units and a batch of 16. Its settings were checked on a validation split
(the last 20% of the training part, never the test part): SimpleRNN(16) reached 15.0-15.5
sunspots RMSE there against linear AR's 15.0, and LSTM(16), GRU(16), 32 units, 40 epochs or a
learning rate of 3e-3 did no better, so the preset keeps the small, cheap model. A one-step
monthly forecast from 12 values is close to linear; the report says so when AR wins.

Each run becomes one `training_run` record (RMSE in scaled units and in sunspot numbers, loss
history, predictions for the plots); persistence and a linear AR model become `baseline` records
on the very same windows. The report reads only these records.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from compare.frameworks import SPEED_ONLY_FIT_OPTIONS, both
from compare.study.baselines import linear_ar, persistence, rmse
from shared.data import get_train_test, inverse_scale, load_sunspots
from shared.recipe import TrainSpec
from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import DenseSpec, ModelSpec, tutorial_spec
from shared.windows import make_windows

FRAMEWORKS = ("keras", "torch")
# torch.optim.Adam's default eps. A preset's recipe is Keras's (OptimizerSpec's defaults are
# Keras's Adam, epsilon 1e-7); `users_preset` gives torch its own.
TORCH_DEFAULT_EPSILON = 1e-8


@dataclass(frozen=True)
class Preset:
    """One way of preparing the data and the model, with the recipe both frameworks follow."""

    name: str
    description: str
    scaling: str  # "all" (tutorial, leaks test range) or "train"
    stride: int | None  # None: the tutorial's non-overlapping get_XY
    model: ModelSpec
    train: TrainSpec

    def to_dict(self) -> dict:
        """JSON-able form: how a job hands a preset to a worker process (and to the cache key)."""
        return {
            "name": self.name,
            "description": self.description,
            "scaling": self.scaling,
            "stride": self.stride,
            "model": self.model.to_dict(),
            "train": self.train.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Preset:
        return cls(
            data["name"],
            data["description"],
            data["scaling"],
            data["stride"],
            ModelSpec.from_dict(data["model"]),
            TrainSpec.from_dict(data["train"]),
        )


PRESETS = {
    "tutorial": Preset(
        "tutorial",
        "the tutorial exactly: scaler fit on all data, non-overlapping windows of 12, "
        "SimpleRNN(3, tanh) + Dense(1, tanh), Adam, MSE, 20 epochs, batch 1",
        "all",
        None,
        tutorial_spec(),
        TrainSpec(epochs=20, batch_size=1, shuffle=True),
    ),
    "sliding": Preset(
        "sliding",
        "scaler fit on the training part only, sliding windows of 12 (stride 1), "
        "SimpleRNN(16, tanh) + Dense(1, linear), Adam, MSE, 20 epochs, batch 16",
        "train",
        1,
        ModelSpec(
            12, 1, (RecurrentLayerSpec("simple", 16, activation="tanh"),), DenseSpec(1, "linear")
        ),
        TrainSpec(epochs=20, batch_size=16, shuffle=True),
    ),
}


def users_preset(framework: str, preset: Preset) -> Preset:
    """The preset as users write it in `framework`.

    A preset's recipe is the tutorial's, whose optimizer is Keras's `Adam(learning_rate=1e-3)`
    with Keras's defaults. Its torch twin, as the Lightning program writes it
    (`torch.optim.Adam(self.parameters(), lr=0.001)`, torch_impl/tutorial.py), keeps torch's
    defaults: epsilon 1e-8, placed on sqrt(v_hat), with the betas as given. The placement and the
    betas are torch's own already ("native" style); only the epsilon's value is set here. Keras's
    recipe is returned unchanged. `rnn-parity explain` measures what each of these costs.
    """
    optimizer = preset.train.optimizer
    if framework != "torch" or optimizer.name != "adam" or optimizer.epsilon_style != "native":
        return preset
    torch_optimizer = dataclasses.replace(optimizer, epsilon=TORCH_DEFAULT_EPSILON)
    return dataclasses.replace(
        preset, train=dataclasses.replace(preset.train, optimizer=torch_optimizer)
    )


@dataclass
class StudyData:
    """The windows a preset trains and tests on, and the scaler that maps back to sunspots."""

    X_train: np.ndarray  # (samples, time_steps, 1)
    Y_train: np.ndarray  # (samples, 1)
    X_test: np.ndarray
    Y_test: np.ndarray
    scaler: object
    train_values: int  # length of the training part of the series, before windowing


def prepare(preset: Preset, dtype: str = "float32") -> StudyData:
    """Load sunspots, split, scale and window them as the preset says."""
    return _prepared(preset.scaling, preset.stride, preset.model.time_steps, dtype)


@functools.lru_cache(maxsize=16)
def _prepared(scaling: str, stride: int | None, steps: int, dtype: str) -> StudyData:
    """The windows of one data recipe, made once per process (a worker runs many jobs)."""
    train, test, scaler = get_train_test(load_sunspots(), 0.8, scaling, dtype=dtype)
    X_train, Y_train = make_windows(train, steps, stride)
    X_test, Y_test = make_windows(test, steps, stride)
    return StudyData(X_train, Y_train, X_test, Y_test, scaler, len(train))


def _errors(data: StudyData, train_pred: np.ndarray, test_pred: np.ndarray) -> dict[str, float]:
    """Train and test RMSE in scaled units and in sunspot numbers."""

    def units(values: np.ndarray) -> np.ndarray:
        return inverse_scale(data.scaler, values)

    return {
        "train_rmse_scaled": rmse(train_pred, data.Y_train),
        "test_rmse_scaled": rmse(test_pred, data.Y_test),
        "train_rmse_units": rmse(units(train_pred), units(data.Y_train)),
        "test_rmse_units": rmse(units(test_pred), units(data.Y_test)),
    }


BASELINES = ("persistence", "linear_ar")


def baseline_record(preset: Preset, data: StudyData, name: str) -> dict:
    """One baseline (persistence or linear AR) on the preset's windows, as a `baseline` record."""
    predictors: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "persistence": persistence,
        "linear_ar": lambda X: linear_ar(data.X_train, data.Y_train, X),
    }
    predict = predictors[name]
    return {
        "kind": "baseline",
        "preset": preset.name,
        "name": name,
        **_errors(data, predict(data.X_train), predict(data.X_test)),
    }


def baseline_records(preset: Preset, data: StudyData) -> list[dict]:
    """Every baseline on the preset's windows."""
    return [baseline_record(preset, data, name) for name in BASELINES]


def training_record(
    framework: str, preset: Preset, data: StudyData, seed: int, epochs: int | None = None
) -> dict:
    """Train one framework's model as users write it (its own seeded initialisation, its own
    shuffling, its own Adam epsilon: `users_preset`); return its record.

    A NaN or infinite loss marks the record `diverged`; its RMSEs are then NaN, never a number
    that could be mistaken for a result.
    """
    keras_side, torch_side = both()
    impl = keras_side if framework == "keras" else torch_side
    preset = users_preset(framework, preset)  # a no-op on a preset the planner converted
    train_spec = dataclasses.replace(preset.train, seed=seed, epochs=epochs or preset.train.epochs)
    model = impl.build_model(preset.model, seed=seed)
    history = impl.fit(
        model, data.X_train, data.Y_train, train_spec, **SPEED_ONLY_FIT_OPTIONS[framework]
    )
    train_pred = impl.predict(model, data.X_train)
    test_pred = impl.predict(model, data.X_test)
    diverged = history.diverged or not (
        np.all(np.isfinite(train_pred)) and np.all(np.isfinite(test_pred))
    )
    errors = (
        {key: float("nan") for key in _errors(data, data.Y_train, data.Y_test)}
        if diverged
        else _errors(data, train_pred, test_pred)
    )
    return {
        "kind": "training_run",
        "preset": preset.name,
        "preset_description": preset.description,
        "framework": framework,
        "seed": seed,
        "model_spec": preset.model.to_dict(),
        "train_spec": train_spec.to_dict(),
        "epoch_loss": history.epoch_loss,
        "seconds": history.seconds,
        "diverged": diverged,
        **errors,
        "train_values": data.train_values,
        "actual_scaled": np.concatenate([data.Y_train, data.Y_test]).ravel().tolist(),
        "predicted_scaled": np.concatenate([train_pred, test_pred]).ravel().tolist(),
        "actual_units": inverse_scale(data.scaler, np.concatenate([data.Y_train, data.Y_test]))
        .ravel()
        .tolist(),
        "predicted_units": inverse_scale(data.scaler, np.concatenate([train_pred, test_pred]))
        .ravel()
        .tolist(),
        "n_train_windows": len(data.Y_train),
    }


# ---------------------------------------------------------------- jobs (see compare.jobs.runner)


def training_job(
    framework: str, preset: dict, seed: int, epochs: int | None = None, series: bool = True
) -> dict:
    """`training_record` from JSON-able arguments, so a worker process can run it.

    Args:
        preset: `Preset.to_dict()`; the whole recipe, so it is part of the job's cache key.
        series: keep the actual and predicted series (the report's plots); False drops them
            (the experiment's hundreds of runs need only the RMSEs).
    """
    described = Preset.from_dict(preset)
    record = training_record(framework, described, prepare(described), seed, epochs)
    if not series:
        for key in ("actual_scaled", "predicted_scaled", "actual_units", "predicted_units"):
            del record[key]
    return record


def baseline_job(preset: dict, baseline: str) -> dict:
    """`baseline_record` from JSON-able arguments (`Preset.to_dict()` and a BASELINES name)."""
    described = Preset.from_dict(preset)
    return baseline_record(described, prepare(described), baseline)
