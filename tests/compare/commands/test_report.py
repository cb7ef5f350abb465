"""`rnn-parity report --quick` end to end: measurements, records, report files, terminal summary."""

import json

import pytest

from compare.cli import main

# One job at a time in this process (its frameworks are loaded already): the pool's workers
# and the same numbers on 1 and 2 of them are tests/compare/study/test_experiment.py's, and
# spawning two workers that import TensorFlow and torch cost this test about 20 s of CPU.
QUICK_REPORT = ["report", "--quick", "--preset", "tutorial", "--bench", "none", "--jobs", "1"]


@pytest.mark.slow
def test_quick_report_end_to_end(tmp_path, capsys):
    out = tmp_path / "reports"
    assert main([*QUICK_REPORT, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "tutorial  keras  test RMSE" in printed and "report written to" in printed
    text = (out / "report.md").read_text()
    for heading in (
        "## Headline",
        "## Do they compute the same thing?",
        "### Preset `tutorial`",
        "## Training parity",
    ):
        assert heading in text
    summary = json.loads((out / "report.json").read_text())
    assert summary["study"]["tutorial"]["frameworks"]["keras"]["runs"] == 2
    assert all(row["ok"] for row in summary["agreement"])
    assert {row["mode"] for row in summary["parity"]} == {"parity", "users"}
    assert (out / "tutorial_actual_vs_predicted.png").stat().st_size > 1000
    names = {path.name for path in (out / "records").iterdir()}
    assert "meta.json" in names and "run-tutorial-torch-seed1.json" in names
    assert not (out / ".records.staging").exists()
    # the same command again: every record from the cache, the same report numbers
    first = (out / "records" / "run-tutorial-torch-seed1.json").read_text()
    assert main([*QUICK_REPORT, "--out", str(out)]) == 0
    assert "0 job(s) run" in capsys.readouterr().out
    assert (out / "records" / "run-tutorial-torch-seed1.json").read_text() == first


def test_the_report_plan_is_data_and_its_timing_jobs_run_alone(monkeypatch):
    import argparse

    from compare.bench import plan as bench_plan
    from compare.commands.report import plan
    from compare.jobs.runner import function_path
    from compare.port.agreement_rows import AGREEMENT_SHAPES
    from compare.port.shapes import SHAPES

    monkeypatch.setattr(bench_plan, "cuda_available", lambda: False)
    args = argparse.Namespace(
        quick=False,
        seeds=2,
        epochs=None,
        preset="all",
        no_parity=False,
        parity_epochs=3,
        gap_epochs=2,
        lstm_gru_epochs=2,
        bench="quick",
        fresh=False,
    )
    jobs = plan(args)
    shared = [job for job in jobs if not job.exclusive]
    assert all(function_path(job.function) for job in shared)  # can run in a worker process
    timing = [job for job in jobs if job.exclusive]
    # The interleaved timing rounds first, then each variant's equal-work and sweep job; the
    # quick study leaves out the variants marked quick=False (Keras on JAX).
    quick = [v for v in bench_plan.CPU_VARIANTS if bench_plan.VARIANTS[v].quick]
    assert "keras_jax" not in quick and "keras_fit" in quick
    expected = ["bench-rounds", *(f"bench-{v}" for v in quick)]
    assert "torch_compiled" not in quick  # full study only, as the JAX rows
    assert [job.name for job in timing] == expected
    assert jobs[-len(timing) :] == timing and all(job.key["quick"] for job in timing)
    names = [job.name for job in shared]
    assert "run-sliding-keras-seed1" in names and "parity-simple-float64-gap-double_bias" in names
    assert len(names) == len(set(names))
    shapes = [job for job in shared if job.function.__name__ == "shape_agreement_job"]
    assert {(job.kwargs["shape"], job.kwargs["dtype"]) for job in shapes} == {
        (shape, dtype) for shape in AGREEMENT_SHAPES for dtype in ("float32", "float64")
    }
    assert set(AGREEMENT_SHAPES) <= set(SHAPES)  # every row names a shape of the grammar


def test_report_refuses_a_bad_option(capsys):
    with pytest.raises(SystemExit):
        main(["report", "--preset", "nonsense"])
    assert "invalid choice" in capsys.readouterr().err
