"""The report is rendered from records alone, so it is tested on small hand-made fixture records.

Nothing here trains: the fixtures stand for what the study writes, including a diverged run, so
the tests prove that means, spreads, tests and verdicts come out right and that a NaN loss is
reported, not averaged or plotted.
"""

import json
import math

import numpy as np
import pytest
from scipy import stats

from compare.records import read_records, write_record
from compare.report import render as report
from shared.errors import RnnParityError


def _run(framework: str, seed: int, test_rmse: float, diverged: bool = False) -> dict:
    actual = [0.1, 0.2, 0.3, 0.4, 0.5]
    return {
        "kind": "training_run",
        "preset": "tutorial",
        "framework": framework,
        "seed": seed,
        "preset_description": "the tutorial exactly",
        "epoch_loss": [0.1, 0.05, float("nan") if diverged else 0.02],
        "seconds": 1.5,
        "diverged": diverged,
        "train_rmse_scaled": float("nan") if diverged else test_rmse / 2,
        "test_rmse_scaled": float("nan") if diverged else test_rmse,
        "train_rmse_units": float("nan") if diverged else test_rmse * 100,
        "test_rmse_units": float("nan") if diverged else test_rmse * 200,
        "actual_scaled": actual,
        "predicted_scaled": [v + test_rmse for v in actual],
        "actual_units": [v * 200 for v in actual],
        "predicted_units": [(v + test_rmse) * 200 for v in actual],
        "n_train_windows": 3,
        "train_values": 40,
    }


def _fixture_records() -> list[dict]:
    records = [
        {
            "kind": "meta",
            "created": "2026-11-25",
            "command": "rnn-parity report",
            "machine": "test",
            "versions": {"numpy": "x"},
        }
    ]
    records += [_run("keras", seed, rmse) for seed, rmse in enumerate([0.10, 0.12, 0.11])]
    records += [_run("torch", seed, rmse) for seed, rmse in enumerate([0.15, 0.16])]
    records.append(_run("torch", 2, 0.0, diverged=True))
    records += [
        {
            "kind": "baseline",
            "preset": "tutorial",
            "name": "persistence",
            "train_rmse_scaled": 0.05,
            "test_rmse_scaled": 0.08,
            "train_rmse_units": 10.0,
            "test_rmse_units": 20.0,
        },
        {
            "kind": "baseline",
            "preset": "tutorial",
            "name": "linear_ar",
            "train_rmse_scaled": 0.04,
            "test_rmse_scaled": 0.07,
            "train_rmse_units": 9.0,
            "test_rmse_units": 30.0,
        },
    ]
    for mode, gaps in (("parity", [1e-16, 2e-16]), ("users", [1e-2, 3e-2])):
        records.append(
            {
                "kind": "parity_run",
                "layer_kind": "simple",
                "dtype": "float64",
                "mode": mode,
                "epochs": 2,
                "diverged": False,
                "epoch_weight_max_abs_diff": gaps,
                "epoch_loss_abs_diff": [0.0, 1e-5],
            }
        )
    rows = [
        {
            "quantity": "outputs",
            "pair": pair,
            "max_abs": 1e-16,
            "max_rel": 1e-16,
            "tolerance": 1e-12,
            "ok": True,
        }
        for pair in ("keras vs reference", "torch vs reference", "keras vs torch")
    ]
    rows += [{**row, "quantity": "layer 0 forward h", "max_abs": 3e-16} for row in rows]
    records.append(
        {
            "kind": "agreement_run",
            "ok": True,
            "inputs": "sunspot windows",
            "spec": {"layers": [{"kind": "simple"}], "dtype": "float64"},
            "rows": rows,
        }
    )
    return records


@pytest.fixture
def records_folder(tmp_path):
    folder = tmp_path / "records"
    for index, record in enumerate(_fixture_records()):
        write_record(folder, f"r{index:02d}", record)
    return folder


def test_summary_means_exclude_diverged_runs_and_name_them(records_folder):
    summary = report.summarise(read_records(records_folder))
    tutorial = summary["study"]["tutorial"]
    keras = tutorial["frameworks"]["keras"]["test_rmse_scaled"]
    assert keras["mean"] == pytest.approx(0.11) and keras["n"] == 3
    assert keras["sd"] == pytest.approx(np.std([0.10, 0.12, 0.11], ddof=1))
    torch = tutorial["frameworks"]["torch"]
    assert torch["runs"] == 3 and torch["test_rmse_scaled"]["n"] == 2
    assert tutorial["diverged"] == ["torch seed 2"]
    # Welch's t-test over the finished runs only, as scipy computes it.
    expected = stats.ttest_ind([0.10, 0.12, 0.11], [0.15, 0.16], equal_var=False).pvalue
    assert tutorial["framework_test"]["p_value"] == pytest.approx(expected)
    # keras mean test RMSE in sunspots is 0.11 * 200 = 22: above persistence (20), below AR (30)
    assert tutorial["verdicts"]["keras"] == {"persistence": "does not beat", "linear_ar": "beats"}


@pytest.mark.slow
def test_report_files_and_honest_wording(records_folder, tmp_path):
    out = tmp_path / "out"
    summary = report.write_report(records_folder, out)
    text = (out / "report.md").read_text()
    assert "## Headline" in text and "the tutorial exactly" in text
    assert "**does not beat** persistence" in text
    assert "keras beats linear ar, not persistence" in text  # the headline says it per framework
    assert "Diverged runs (NaN or infinite loss)" in text and "torch seed 2" in text
    assert "| simple | float64 | parity | 2 | 2.00e-16 |" in text
    for image in (
        "tutorial_actual_vs_predicted.png",
        "tutorial_actual_vs_predicted_units.png",
        "tutorial_loss.png",
        "tutorial_rmse.png",
        "parity_float64.png",
    ):
        assert (out / image).stat().st_size > 1000, image
        assert f"]({image})" in text
    saved = json.loads((out / "report.json").read_text())
    assert saved["study"]["tutorial"]["diverged"] == summary["study"]["tutorial"]["diverged"]
    assert not list(out.glob(".*partial*"))


@pytest.mark.slow
def test_a_crash_while_rendering_keeps_the_previous_report(records_folder, tmp_path, monkeypatch):
    out = tmp_path / "out"
    report.write_report(records_folder, out)
    before = (out / "report.md").read_text()

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(report, "render_markdown", broken)
    with pytest.raises(RuntimeError):
        report.write_report(records_folder, out)
    assert (out / "report.md").read_text() == before


def test_nan_is_kept_as_nan_in_json(tmp_path):
    path = write_record(tmp_path, "run", {"kind": "training_run", "loss": float("nan")})
    assert math.isnan(float(json.loads(path.read_text())["loss"]))


def test_bad_records_are_named(tmp_path):
    with pytest.raises(RnnParityError, match="no records folder"):
        read_records(tmp_path / "absent")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(RnnParityError, match="broken.json: not valid JSON"):
        read_records(tmp_path)
    (tmp_path / "broken.json").write_text('{"kind": "mystery"}')
    with pytest.raises(RnnParityError, match="broken.json: not a measurement record"):
        read_records(tmp_path)
    with pytest.raises(RnnParityError, match="kind must be one of"):
        write_record(tmp_path, "x", {"kind": "mystery"})
