"""The experiments the tutorial invites, in both frameworks: a grid of cells, as jobs.

The tutorial ends with "experiment with different hidden units and time steps; add a second
SimpleRNN". A cell is one such setting (units, time steps, layers, layer kind); every cell is
trained in Keras and in Lightning with the same seeds on a preset's data steps (its scaling,
windows, head and training recipe), and the persistence and linear-AR baselines are computed
once per time-steps value on the same windows. `plan_experiment` checks the whole grid before
anything trains, then returns the jobs for `compare.jobs.run_jobs`; `collect` turns their
records into experiment.json's "runs" and "baselines".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from compare.jobs.runner import Job
from compare.records import as_float
from compare.study.presets import (
    BASELINES,
    FRAMEWORKS,
    PRESETS,
    Preset,
    baseline_job,
    prepare,
    training_job,
    users_preset,
)
from shared.errors import DataError, SpecError
from shared.recurrent_spec import RECURRENT_KINDS, RecurrentLayerSpec
from shared.spec import ModelSpec

# The defaults: the tutorial's 3 units among smaller and larger ones, its 12 time steps
# between half and double, one SimpleRNN and two stacked.
DEFAULT_UNITS = (2, 3, 8, 32)
DEFAULT_TIME_STEPS = (6, 12, 24)
DEFAULT_LAYERS = (1, 2)
DEFAULT_KINDS = ("simple",)
DEFAULT_SEEDS = 5
DEFAULT_EPOCHS = 20


@dataclass(frozen=True)
class Cell:
    """One setting of the grid."""

    units: int
    time_steps: int
    layers: int
    kind: str

    @property
    def label(self) -> str:
        return f"u{self.units}-t{self.time_steps}-l{self.layers}-{self.kind}"


@dataclass
class ExperimentPlan:
    """The jobs to run, and what each training or baseline job stands for in the output."""

    preset: str
    jobs: list[Job]
    rows: dict[str, dict[str, Any]]  # job name -> the fields of its run or baseline row


def check_positive(values: list[int], flag: str) -> list[int]:
    """The values, each once, in order; a non-positive one is a one-line SpecError."""
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SpecError(f"{flag} must be integers >= 1, got {value!r}")
    return list(dict.fromkeys(values))


def cell_preset(base: Preset, cell: Cell, epochs: int) -> Preset:
    """The base preset's data steps and recipe with the cell's model (stacked layers feed the
    next one every time step, so all but the last return sequences)."""
    layers = tuple(
        RecurrentLayerSpec(
            cell.kind,
            cell.units,
            activation=base.model.layers[0].activation,
            return_sequences=index < cell.layers - 1,
        )
        for index in range(cell.layers)
    )
    model = ModelSpec(cell.time_steps, 1, layers, base.model.head, base.model.dtype)
    return Preset(
        base.name,
        f"{base.name} data steps; {cell.layers} x {cell.kind}({cell.units}), "
        f"{cell.time_steps} time steps, {epochs} epochs",
        base.scaling,
        base.stride,
        model,
        dataclasses.replace(base.train, epochs=epochs),
    )


def _check_time_steps(base: Preset, time_steps: list[int]) -> None:
    """Each time-steps value must leave at least one window in the test split."""
    for steps in time_steps:
        data_only = dataclasses.replace(
            base, model=dataclasses.replace(base.model, time_steps=steps)
        )
        try:
            prepare(data_only)
        except DataError:
            raise DataError(
                f"--time-steps {steps} is too long for the test split of preset {base.name!r} "
                "(it leaves no window with a target)"
            ) from None


def plan_experiment(
    preset: str = "tutorial",
    units: list[int] = list(DEFAULT_UNITS),  # noqa: B006 - read only
    time_steps: list[int] = list(DEFAULT_TIME_STEPS),  # noqa: B006
    layers: list[int] = list(DEFAULT_LAYERS),  # noqa: B006
    kinds: list[str] = list(DEFAULT_KINDS),  # noqa: B006
    seeds: int = DEFAULT_SEEDS,
    epochs: int = DEFAULT_EPOCHS,
) -> ExperimentPlan:
    """Check the grid, then plan every training run and baseline as a job.

    Raises:
        SpecError: an unknown preset or kind, or a units, time-steps, layers, seeds or epochs
            value below 1.
        DataError: a time-steps value too long for the test split.
    """
    if preset not in PRESETS:
        raise SpecError(f"--preset must be one of {', '.join(PRESETS)}; got {preset!r}")
    unknown = [kind for kind in kinds if kind not in RECURRENT_KINDS]
    if unknown:
        raise SpecError(f"--kind must be among {', '.join(RECURRENT_KINDS)}; got {unknown[0]!r}")
    units, time_steps = check_positive(units, "--units"), check_positive(time_steps, "--time-steps")
    layers = check_positive(layers, "--layers")
    check_positive([seeds], "--seeds")
    check_positive([epochs], "--epochs")
    base = PRESETS[preset]
    _check_time_steps(base, time_steps)
    jobs, rows = [], {}
    for steps in time_steps:
        data_only = dataclasses.replace(
            base, model=dataclasses.replace(base.model, time_steps=steps)
        )
        for baseline in BASELINES:
            name = f"experiment-{preset}-t{steps}-{baseline}"
            jobs.append(
                Job(name, baseline_job, {"preset": data_only.to_dict(), "baseline": baseline})
            )
            rows[name] = {"name": baseline, "time_steps": steps}
    for steps in time_steps:
        for kind in dict.fromkeys(kinds):
            for depth in layers:
                for width in units:
                    cell = Cell(width, steps, depth, kind)
                    described = cell_preset(base, cell, epochs)
                    for seed in range(seeds):
                        for framework in FRAMEWORKS:
                            name = f"experiment-{preset}-{cell.label}-{framework}-seed{seed}"
                            kwargs = {
                                "framework": framework,
                                # the recipe each trains with, so it keys the job's cache
                                "preset": users_preset(framework, described).to_dict(),
                                "seed": seed,
                                "series": False,
                            }
                            jobs.append(Job(name, training_job, kwargs, group=cell.label))
                            rows[name] = {
                                "framework": framework,
                                **dataclasses.asdict(cell),
                                "seed": seed,
                                "epochs": epochs,
                            }
    return ExperimentPlan(preset, jobs, rows)


def _error(record: dict[str, Any]) -> str | None:
    """Why a run has no RMSE: the job's error, a divergence, or None for a finished run."""
    if record["kind"] == "failed_job":
        return record["error"]
    if record.get("diverged"):
        return "diverged (NaN or infinite loss or prediction)"
    return None


def collect(plan: ExperimentPlan, records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """experiment.json's "runs" and "baselines" from the jobs' records (failed ones kept, NaN)."""
    nan = float("nan")
    runs, baselines = [], []
    for job in plan.jobs:
        record, row = records[job.name], plan.rows[job.name]

        def metric(key: str, record: dict[str, Any] = record) -> float:
            return as_float(record[key]) if key in record else nan

        if "framework" in row:
            runs.append(
                {
                    **row,
                    "train_rmse": metric("train_rmse_scaled"),
                    "test_rmse": metric("test_rmse_scaled"),
                    "train_rmse_units": metric("train_rmse_units"),
                    "test_rmse_units": metric("test_rmse_units"),
                    "seconds": metric("seconds"),
                    "error": _error(record),
                }
            )
        else:
            baselines.append(
                {
                    **row,
                    "test_rmse": metric("test_rmse_scaled"),
                    "test_rmse_units": metric("test_rmse_units"),
                    "error": _error(record),
                }
            )
    return {"preset": plan.preset, "runs": runs, "baselines": baselines}
