"""`rnn-parity experiment --explain`: Holm picks the cells, explain records exactly those.

A fixture grid of three 6-step cells with 5 seeds each: Keras and torch 10 sunspots apart
(differs after the correction), 2.6 apart (Welch p about 0.03: differs uncorrected, not after
Holm's correction across 3 cells) and equal. Only the first is explained and the experiment
page gains its "Why they differ" section. The explain runs are a fixture function on the real
job runner (`rnn-parity explain`'s own training is tested end to end in test_explain.py).
"""

from __future__ import annotations

import argparse
import json
import math

import pytest

from compare.commands.experiment import explain_differing
from compare.report.experiment.differ import cells_that_differ, holm
from compare.report.experiment.render import summarise_experiment, write_experiment_report
from compare.study import explain
from compare.study.presets import Preset


def test_holm_adjusts_by_rank_and_keeps_the_order():
    # sorted 0.01, 0.03, 0.04 of 3 tested: 3 x 0.01, 2 x 0.03, then max(0.06, 1 x 0.04)
    adjusted = holm([0.01, 0.04, 0.03, math.nan])
    assert adjusted[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert math.isnan(adjusted[3])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1


SHIFTS = {3: 10.0, 8: 2.6, 32: 0.0}  # units -> torch minus Keras, sunspots
BASE = [20.0, 21.0, 22.0, 23.0, 24.0]


def _grid() -> dict:
    runs = [
        {
            "framework": framework,
            "units": units,
            "time_steps": 6,
            "layers": 1,
            "kind": "simple",
            "seed": seed,
            "test_rmse_units": value + (shift if framework == "torch" else 0.0),
            "error": None,
        }  # fmt: skip
        for units, shift in SHIFTS.items()
        for framework in ("keras", "torch")
        for seed, value in enumerate(BASE)
    ]
    baselines = [
        {"name": name, "time_steps": 6, "test_rmse": 0.1, "test_rmse_units": 30.0, "error": None}
        for name in ("persistence", "linear_ar")
    ]
    return {"preset": "tutorial", "runs": runs, "baselines": baselines}


def fixture_run(framework: str, preset: dict, seed: int, switches: list[str], **_) -> dict:
    """A training_run record without training: Keras 20 + seed, torch 30 + seed, and 20 + seed
    with every factor switched, on the planned cell's windows."""
    assert Preset.from_dict(preset).model.time_steps == 6
    rmse = 20.0 + seed if framework == "keras" or "all" in switches else 30.0 + seed
    return {"kind": "training_run", "test_rmse_units": rmse, "test_rmse_scaled": rmse / 250,
            "seconds": 0.0, "diverged": False}  # fmt: skip


@pytest.mark.slow  # the page's plots
def test_explain_runs_on_exactly_the_cells_that_differ_after_holm(tmp_path, monkeypatch):
    monkeypatch.setattr(explain, "variant_run", fixture_run)
    data = _grid()
    summary = summarise_experiment(data)
    rows = {row["units"]: row for row in summary["tables"][6]["rows"]}
    assert rows[8]["p_value"] < 0.05 < rows[8]["p_holm"]  # the correction decides this one
    assert [c["units"] for c in cells_that_differ(summary)] == [3]
    args = argparse.Namespace(
        preset="tutorial", epochs=1, explain_seeds=2, jobs=1, cluster=None,
        out=str(tmp_path), fresh=False,
    )  # fmt: skip
    assert explain_differing(args, summary, samples=8) == ["explain-tutorial-u3-t6-l1-simple"]
    assert sorted(p.name for p in tmp_path.glob("explain-*.json")) == [
        "explain-tutorial-u3-t6-l1-simple.json"
    ]
    record = json.loads((tmp_path / "explain-tutorial-u3-t6-l1-simple.json").read_text())
    assert record["cell"] == {"units": 3, "time_steps": 6, "layers": 1, "kind": "simple"}
    assert record["meta"]["selected_by"]["correction"] == "holm"
    assert len(record["runs"]) == 2 * len(explain.VARIANTS)
    write_experiment_report(data, tmp_path)
    page = (tmp_path / "experiment.md").read_text()
    assert "## Why they differ" in page and "Holm's step-down correction" in page
    assert "cell 1 x simple(3), 6 time steps" in page
    assert "Cells that differ after Holm's" in page and "1 x simple(3), 6 steps (Holm p" in page
