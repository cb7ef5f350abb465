"""Why they differ: each framework default's effect on test RMSE, planned as jobs.

For the RMSE study of a preset, or for one experiment cell on its data steps, every seed trains
Keras as users write it, torch as users write it, torch with each factor of
`compare.study.parity.FACTORS` switched alone to Keras's choice, and torch with each group of
FACTOR_GROUPS switched (its initialisers as a whole; everything, which reproduces Keras). The
runs are jobs on the shared runner (cached, Dask-able, like `experiment`); `collect` turns
their records into one `explain` record that the report's "Why they differ" section reads.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from compare.jobs.runner import Job
from compare.records import as_float
from compare.study.experiment import Cell, cell_preset, check_positive
from compare.study.factors import variant_run
from compare.study.parity import FACTOR_GROUPS, FACTORS
from compare.study.presets import PRESETS, Preset
from shared.errors import SpecError
from shared.recurrent_spec import RECURRENT_KINDS

DEFAULT_SEEDS = 10
# variant name -> (framework, switches); "torch" and "keras" are each framework's defaults
VARIANTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "keras": ("keras", ()),
    "torch": ("torch", ()),
    **{factor: ("torch", (factor,)) for factor in FACTORS},
    **{group: ("torch", (group,)) for group in FACTOR_GROUPS},
}


@dataclass
class ExplainPlan:
    """The jobs, and which variant and seed each one is."""

    preset: Preset
    cell: Cell | None
    seeds: int
    epochs: int
    samples: int | None
    jobs: list[Job]
    rows: dict[str, dict[str, Any]]

    @property
    def label(self) -> str:
        """The record's name: explain-PRESET or explain-PRESET-CELL."""
        return f"explain-{self.preset.name}" + (f"-{self.cell.label}" if self.cell else "")


def parse_cell(text: str) -> Cell:
    """UNITS,STEPS,LAYERS,KIND (as `--cell 3,6,1,simple`) as a Cell.

    Raises:
        SpecError: naming what is wrong with the text.
    """
    parts = text.split(",")
    if len(parts) != 4:
        raise SpecError(f"--cell must be UNITS,STEPS,LAYERS,KIND, got {text!r}")
    try:
        units, steps, layers = (int(part) for part in parts[:3])
    except ValueError:
        raise SpecError(
            f"--cell's UNITS, STEPS and LAYERS must be integers, got {text!r}"
        ) from None
    check_positive([units, steps, layers], "--cell's UNITS, STEPS and LAYERS")
    if parts[3] not in RECURRENT_KINDS:
        raise SpecError(f"--cell's KIND must be one of {', '.join(RECURRENT_KINDS)}")
    return Cell(units, steps, layers, parts[3])


def plan_explain(
    preset: str = "tutorial",
    cell: str | None = None,
    seeds: int = DEFAULT_SEEDS,
    epochs: int | None = None,
    samples: int | None = None,
) -> ExplainPlan:
    """Check the inputs, then plan every variant x seed as a job.

    Args:
        preset: a PRESETS name: its RMSE study, or the data steps of `cell`.
        cell: "UNITS,STEPS,LAYERS,KIND" for one experiment cell; None for the preset's study.
        seeds: seeds per variant (0 .. seeds-1).
        epochs: override the preset's epochs.
        samples: train on the first `samples` windows only (short runs for tests).

    Raises:
        SpecError: an unknown preset, a bad cell, or seeds, epochs or samples below 1.
    """
    if preset not in PRESETS:
        raise SpecError(f"--preset must be one of {', '.join(PRESETS)}; got {preset!r}")
    check_positive([seeds], "--seeds")
    for value, flag in ((epochs, "--epochs"), (samples, "samples")):
        if value is not None:
            check_positive([value], flag)
    base = PRESETS[preset]
    epochs = epochs or base.train.epochs
    chosen = parse_cell(cell) if cell else None
    described = cell_preset(base, chosen, epochs) if chosen else base
    described = dataclasses.replace(
        described, train=dataclasses.replace(described.train, epochs=epochs)
    )
    plan = ExplainPlan(described, chosen, seeds, epochs, samples, [], {})
    for variant, (framework, switches) in VARIANTS.items():
        for seed in range(seeds):
            name = f"{plan.label}-{variant}-seed{seed}"
            kwargs = {
                "framework": framework,
                "preset": described.to_dict(),
                "seed": seed,
                "switches": list(switches),
                "samples": samples,
            }
            plan.jobs.append(Job(name, variant_run, kwargs, group=variant))
            plan.rows[name] = {"variant": variant, "seed": seed}
    return plan


def collect(plan: ExplainPlan, records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The `explain` record: every run's test RMSE by variant and seed, and what each means."""
    nan = float("nan")
    runs = []
    for job in plan.jobs:
        record = records[job.name]
        failed = record["kind"] == "failed_job" or record.get("diverged")
        runs.append(
            {
                **plan.rows[job.name],
                "test_rmse_units": nan if failed else as_float(record["test_rmse_units"]),
                "test_rmse": nan if failed else as_float(record["test_rmse_scaled"]),
                "seconds": as_float(record.get("seconds", nan)),
                "error": record.get("error") or ("diverged" if record.get("diverged") else None),
            }
        )
    return {
        "kind": "explain",
        "preset": plan.preset.name,
        "preset_description": plan.preset.description,
        "cell": dataclasses.asdict(plan.cell) if plan.cell else None,
        "label": plan.label,
        "seeds": plan.seeds,
        "epochs": plan.epochs,
        "samples": plan.samples,
        "factors": dict(FACTORS),
        "groups": {name: list(members) for name, members in FACTOR_GROUPS.items()},
        "variants": list(VARIANTS),
        "runs": runs,
    }
