"""`rnn-parity experiment`: the grid's plan and checks, its records, its page, end to end.

The end-to-end test trains a tiny grid (2 cells, 1 seed, 1 epoch) with 1 worker and with 2,
and on a real Dask cluster with one worker killed mid-job, and demands identical numbers:
results must depend neither on --jobs nor on where the jobs ran.
"""

from __future__ import annotations

import json
import math

import pytest
from scipy import stats

from compare.cli import main
from compare.jobs.runner import cache_key
from compare.report.experiment.render import (
    experiment_markdown,
    experiment_section,
    summarise_experiment,
    write_experiment_report,
)
from compare.report.render import render_markdown
from compare.report.summary import summarise
from compare.study.experiment import collect, plan_experiment
from compare.study.presets import Preset
from tests.dask_helpers import kill_a_worker_mid_job, running
from tests.job_gate import gated_calls

TINY = ["--units", "2", "--time-steps", "6", "--layers", "1", "2", "--seeds", "1"]
TINY += ["--epochs", "1"]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--units", "3", "0"], "--units must be integers >= 1, got 0"),
        (["--time-steps", "-6"], "--time-steps must be integers >= 1, got -6"),
        (["--seeds", "0"], "--seeds must be integers >= 1, got 0"),
        (["--layers", "0"], "--layers must be integers >= 1, got 0"),
        (["--kind", "simple", "transformer"], "--kind must be among simple, lstm, gru"),
        (["--preset", "nonsense"], "--preset must be one of tutorial, sliding"),
        (["--time-steps", "12", "600"], "--time-steps 600 is too long for the test split"),
        (["--jobs", "0"], "--jobs must be integers >= 1, got 0"),
        (["--explain-seeds", "0"], "--explain-seeds must be integers >= 1, got 0"),
    ],
)
def test_bad_input_is_one_line_before_any_training(tmp_path, capsys, flags, message):
    assert main(["experiment", *flags, "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1
    assert not (tmp_path / ".cache").exists()  # nothing ran


def test_the_plan_stacks_layers_and_shares_baselines_per_time_steps():
    plan = plan_experiment("sliding", [2, 8, 2], [6, 12], [1, 2], ["simple", "gru"], 3, 4)
    training = [job for job in plan.jobs if job.group]
    assert len(training) == 2 * 2 * 2 * 2 * 3 * 2  # units x steps x layers x kinds x seeds x fw
    assert len(plan.jobs) - len(training) == 2 * 2  # persistence and linear AR per steps value
    assert len({job.group for job in training}) == 16
    job = next(j for j in training if j.name == "experiment-sliding-u8-t12-l2-gru-torch-seed2")
    preset = Preset.from_dict(job.kwargs["preset"])
    assert [layer.return_sequences for layer in preset.model.layers] == [True, False]
    assert {layer.kind for layer in preset.model.layers} == {"gru"}
    assert preset.model.time_steps == 12 and preset.train.epochs == 4 and preset.stride == 1
    assert preset.model.head.activation == "linear"  # the sliding preset's head
    assert job.kwargs["seed"] == 2 and not job.kwargs["series"]
    # every job, each seed included, has a cached record of its own
    assert len({cache_key(job)[0] for job in plan.jobs}) == len(plan.jobs)


def _run(framework: str, units: int, layers: int, seed: int, rmse: float, **extra) -> dict:
    row = {"framework": framework, "units": units, "time_steps": 12, "layers": layers}
    row |= {"kind": "simple", "seed": seed, "epochs": 2, "train_rmse": rmse, "test_rmse": rmse}
    row |= {"train_rmse_units": rmse * 250, "test_rmse_units": rmse * 250, "seconds": 1.0}
    return row | {"error": None} | extra


KERAS = [0.10, 0.12, 0.11]
TORCH = [0.20, 0.22, 0.21]
FIXTURE = {
    "preset": "tutorial",
    "meta": {"grid": {"units": [3, 8], "time_steps": [12], "layers": [1]}},
    "runs": [_run("keras", 3, 1, s, v) for s, v in enumerate(KERAS)]
    + [_run("torch", 3, 1, s, v) for s, v in enumerate(TORCH)]
    + [_run("keras", 8, 1, s, 0.3) for s in range(2)]
    + [_run("torch", 8, 1, 0, 0.3)]
    + [_run("torch", 8, 1, 1, "nan", error="RuntimeError: out of memory")],
    "baselines": [
        {"name": "persistence", "time_steps": 12, "test_rmse": 0.2, "test_rmse_units": 50.0},
        {"name": "linear_ar", "time_steps": 12, "test_rmse": 0.15, "test_rmse_units": 37.5},
    ],
}


def test_the_summary_on_fixture_records():
    table = summarise_experiment(FIXTURE)["tables"][12]
    assert table["best_baseline"] == {"name": "linear_ar", "test_rmse_units": 37.5}
    small, large = table["rows"]
    assert small["keras"]["mean"] == pytest.approx(27.5) and small["keras"]["n"] == 3
    assert small["keras"]["sd"] == pytest.approx(2.5)  # sample sd of 25, 30, 27.5
    assert small["difference"] == pytest.approx(-25.0)
    expected = stats.ttest_ind([v * 250 for v in KERAS], [v * 250 for v in TORCH], equal_var=False)
    assert small["p_value"] == pytest.approx(expected.pvalue, rel=1e-12)
    assert small["beats_best_baseline"] == ["keras"]  # 27.5 < 37.5 (linear AR) < 52.5
    assert large["torch"]["n"] == 1 and math.isnan(large["p_value"])  # one finished torch run
    assert large["failed"] == ["torch seed 1: RuntimeError: out of memory"]
    assert large["beats_best_baseline"] == []


def test_the_page_and_the_report_section_on_fixture_records(tmp_path):
    summary = write_experiment_report(FIXTURE, tmp_path)
    text = (tmp_path / "experiment.md").read_text()
    assert "## 12 time steps" in text and "best: linear ar" in text
    assert "| 1 | simple | 3 | 27.50 ± 2.50 | 52.50 ± 2.50 | -25.00 |" in text
    assert "torch seed 1: RuntimeError: out of memory" in text
    assert "differ at the 5% level (Welch): 1 of 1 tested" in text
    for png in ("experiment_rmse_vs_units.png", "experiment_difference.png"):
        assert (tmp_path / png).stat().st_size > 1000
    assert experiment_markdown(summary, FIXTURE) == text
    report = render_markdown({**summarise([]), "experiment": summary})
    assert "## Experiments: units, time steps and stacked layers" in report
    assert experiment_section(None) == []


def test_failed_and_diverged_jobs_become_nan_runs_with_their_reason():
    plan = plan_experiment("tutorial", [2], [6], [1], ["simple"], 1, 1)
    records = {}
    for job in plan.jobs:
        if "keras" in job.name:
            records[job.name] = {"kind": "failed_job", "name": job.name, "error": "ValueError: x"}
        elif "torch" in job.name:
            records[job.name] = {"kind": "training_run", "diverged": True, "seconds": 2.0}
            records[job.name] |= {k: "nan" for k in ("train_rmse_scaled", "test_rmse_scaled")}
            records[job.name] |= {k: "nan" for k in ("train_rmse_units", "test_rmse_units")}
        else:
            records[job.name] = {"kind": "baseline", "test_rmse_scaled": 0.1}
            records[job.name] |= {"test_rmse_units": 25.0}
    data = collect(plan, records)
    keras, torch = data["runs"]
    assert keras["error"] == "ValueError: x" and math.isnan(keras["test_rmse_units"])
    assert torch["error"].startswith("diverged") and math.isnan(torch["test_rmse"])
    assert torch["seconds"] == 2.0 and keras["units"] == 2 and keras["layers"] == 1
    assert {b["name"] for b in data["baselines"]} == {"persistence", "linear_ar"}


RUN_FIELDS = {"framework", "units", "time_steps", "layers", "kind", "seed", "train_rmse"}
RUN_FIELDS |= {"test_rmse", "test_rmse_units", "seconds", "error"}


@pytest.mark.slow
def test_tiny_grid_end_to_end_same_numbers_with_1_and_2_workers_and_on_a_cluster(
    tmp_path, capsys, dask_cluster, monkeypatch
):
    one, two, three = tmp_path / "one", tmp_path / "two", tmp_path / "three"
    assert main(["experiment", *TINY, "--jobs", "1", "--out", str(one)]) == 0
    assert "6 job(s) run, 0 reused" in capsys.readouterr().out
    assert main(["experiment", *TINY, "--jobs", "2", "--out", str(two)]) == 0
    first, second = (json.loads((out / "experiment.json").read_text()) for out in (one, two))
    assert len(first["runs"]) == 4 and len(first["baselines"]) == 2
    for run in first["runs"]:
        assert set(run) >= RUN_FIELDS and run["error"] is None
        assert 0 < run["test_rmse"] < 1 and run["test_rmse_units"] > run["test_rmse"]
    assert {(r["framework"], r["layers"]) for r in first["runs"]} == {
        (f, n) for f in ("keras", "torch") for n in (1, 2)
    }
    for base in first["baselines"]:
        assert {"name", "time_steps", "test_rmse", "test_rmse_units"} <= set(base)

    def untimed(data: dict) -> list[dict]:
        return [{k: v for k, v in run.items() if k != "seconds"} for run in data["runs"]]

    assert untimed(first) == untimed(second)  # bit for bit: JSON holds every digit
    assert first["baselines"] == second["baselines"]
    assert "## 6 time steps" in (one / "experiment.md").read_text()
    # Reuse and --fresh are the runner's (tests/compare/jobs/test_runner.py), and --jobs being
    # out of the key is checked by the Ctrl-C test's resumed run: not run again here.

    # A scheduler and two `dask worker` processes on 127.0.0.1; one is killed mid-job (its
    # nanny restarts it). The scheduler runs the job again: every record, the pool's numbers.
    # The jobs wait at the cluster's gate until the worker of the first is killed: mid-job.
    capsys.readouterr()
    gated_calls(monkeypatch)
    watcher, killed = kill_a_worker_mid_job(dask_cluster)
    cli = ["experiment", *TINY, "--cluster", dask_cluster.address, "--out", str(three)]
    assert main(cli) == 0
    watcher.join(timeout=10)  # a bound only: it opened the gate the run went through
    assert killed.pid and killed.job, "no worker was killed mid-job"
    assert "6 job(s) run, 0 reused" in capsys.readouterr().out
    on_cluster = json.loads((three / "experiment.json").read_text())
    assert untimed(on_cluster) == untimed(second) and on_cluster["baselines"] == second["baselines"]
    assert on_cluster["meta"]["cluster"] == dask_cluster.address
    assert not any(running(pid) for pid in killed.children)  # its job process ended with it
