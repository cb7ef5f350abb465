"""The speed section of the report: its tables, ratios, wording and charts.

Nothing here asserts a timing: the section is checked on hand-written bench records whose ratios
and verdicts are known (no worker runs, nothing trains).
"""

from __future__ import annotations

import numpy as np
import pytest

from compare.report.speed import findings as speed_findings
from compare.report.speed import render as speed_report
from compare.report.speed.plots import draw_speed

# ---------------------------------------------------------------- fixture records


def _work(rmse: list[float], reference: str | None, within: bool | None) -> dict:
    return {
        "seeds": list(range(len(rmse))),
        "epochs": 20,
        "test_rmse": rmse,
        "mean": float(np.mean(rmse)),
        "sd": float(np.std(rmse, ddof=1)),
        "reference_variant": reference,
        "within_spread": within,
        "identical_to_reference": None if reference is None else within,
        "max_abs_diff_to_reference": None if reference is None else 0.0,
        "rule": "mean within reference mean ± 2 sd",
    }


def _record(variant: str, step: float | None, spread_rel: float = 0.02, **extra) -> dict:
    record = {
        "kind": "bench_run",
        "variant": variant,
        "device": "cuda" if variant.endswith("_cuda") else "cpu",
        "threads": 1,
        "repeats": 10,
        "machine": "x86_64, Linux, 2 CPU cores",
        "import_s": 2.5,
        "build_s": 0.1,
        "build_warm_s": 0.01,
        "predict_batch_median_s": 2e-4,
        "predict_one_median_s": 1e-4,
        "peak_rss_mb": 400.0,
        "peak_rss_mb_end": 420.0,
        "sweep": {
            "batch": [
                {"value": 1, "samples_per_s": 1000.0},
                {"value": 16, "samples_per_s": 9000.0},
            ],
            "units": [{"value": 3, "samples_per_s": 1000.0}],
        },
    }
    if step is not None:
        record.update(
            step_time_median_s=step,
            step_time_iqr_s=step * spread_rel / 2,
            step_time_spread_rel=spread_rel,
            step_times_s=[step * (1 - spread_rel / 2), step, step * (1 + spread_rel / 2)],
            samples_per_s=1 / step,
        )
    record.update(extra)
    return record


def _fixture(keras_tuned_step: float = 4e-4, keras_tuned_within: bool | None = True) -> list:
    return [
        {"kind": "meta"},  # other record kinds are ignored
        _record("keras_fit", 2e-3, equal_work=_work([0.10, 0.11, 0.12], None, None)),
        _record(
            "keras_tuned",
            keras_tuned_step,
            equal_work=_work([0.10, 0.11, 0.12], "keras_fit", keras_tuned_within),
        ),
        _record("lightning_default", 1.3e-3),
        _record("lightning_tuned", 1.1e-3),
        _record("torch_plain", 1e-3, spread_rel=0.08),
        _record("numpy_reference", None, sweep={}),
    ]


def _row(lines: list[str], variant: str, header_start: str) -> list[str]:
    """The cells of `variant`'s row in the table whose header starts with `header_start`."""
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0] == variant:
            return cells
    raise AssertionError(f"no row for {variant} in table {header_start!r}")


# ---------------------------------------------------------------- the report section


def _rounds(steps: dict[str, list[float]]) -> dict:
    """A bench_rounds record from per-variant per-round step times (seconds)."""
    from compare.bench.stats import summarise_rounds
    from compare.bench.variants import DIFFERENCES, RATIOS

    rows = [
        {"round": r, "variant": name, "step_time_median_s": value}
        for name, values in steps.items()
        for r, value in enumerate(values)
    ]
    return {
        "kind": "bench_rounds",
        "rounds": len(next(iter(steps.values()))),
        "epochs_per_round": 5,
        "seed": 0,
        "threads": 1,
        "variant_order": list(steps),
        "processes": rows,
        "machine": "x86_64, Linux, 2 CPU cores",
        "cpu_model": "Test CPU 9000",
        "gpu": None,
        **summarise_rounds(rows, RATIOS, DIFFERENCES),
    }


ROUND_STEPS = {
    "keras_fit": [2.0e-3, 2.1e-3, 1.9e-3, 2.2e-3, 2.0e-3],
    "keras_tuned": [5.0e-4, 5.2e-4, 4.8e-4, 5.5e-4, 5.0e-4],  # 0.25x keras_fit every round
    "lightning_default": [1.5e-3, 1.6e-3, 1.4e-3, 1.7e-3, 1.5e-3],
    "torch_plain": [1.0e-3, 1.1e-3, 0.9e-3, 1.1e-3, 1.0e-3],
    # the same as torch_plain up to +-2% each round: no difference beyond noise
    "torch_tuned": [1.02e-3, 1.078e-3, 0.918e-3, 1.089e-3, 1.0e-3],
}


def _speed(steps: dict[str, list[float]] | None = None) -> dict:
    from compare.report.speed.records import speed_summary

    return speed_summary([*_fixture(), _rounds(steps or ROUND_STEPS)])


def test_training_table_shows_medians_over_rounds_with_intervals():
    lines = speed_report.speed_section(_speed())
    cells = _row(lines, "keras_tuned", "| variant | per-step median")
    assert cells[1] == "500 µs" and cells[3] == "5"
    low, high = (float(part.split()[0]) for part in cells[2].split(" to "))
    assert low <= 500 <= high


def test_ratios_with_intervals_and_beyond_noise_wording():
    speed = _speed()
    by_pair = {(r["variant"], r["reference"]): r for r in speed["ratios"]}
    tuned = by_pair[("keras_tuned", "keras_fit")]
    assert set(tuned) == {"variant", "reference", "ratio", "ci95", "rounds", "method", "per_round"}
    assert tuned["ratio"] == pytest.approx(0.25, abs=1e-3) and tuned["rounds"] == 5
    assert tuned["method"] == "student-t on log per-round values"
    assert tuned["ci95"][0] <= 0.25 <= tuned["ci95"][1] < 1
    text = "\n".join(speed_report.speed_section(speed))
    assert "`keras_tuned` takes 0.25× `keras_fit`'s per-step time" in text
    assert "4.00× faster, beyond noise" in text
    assert "`torch_tuned` takes 1.00× `torch_plain`'s per-step time" in text
    assert "no difference beyond noise (the interval includes 1)" in text
    assert "| keras_tuned | keras_fit | 0.25× |" in text
    # per-round ratios 1.5, 1.45, 1.56, 1.55, 1.5: geometric mean 1.511, x torch_plain's 1 ms
    assert "`lightning_default` spends 511 µs more per step than `torch_plain`" in text
    assert "Test CPU 9000" in text and "no GPU" in text
    assert "goal" not in text.lower()


def test_interval_bounds_keep_their_digits():
    from compare.report.speed.records import fmt_bound

    found = [fmt_bound(v) for v in (3.1e-6, 0.0031, 0.25, 10.014, 228151.4)]
    assert found == ["3.1e-06", "0.0031", "0.25", "10.01", "2.28e+05"]


def test_one_round_shows_its_value_and_claims_nothing():
    speed = _speed({name: values[:1] for name, values in ROUND_STEPS.items()})
    text = "\n".join(speed_report.speed_section(speed))
    assert (
        "`keras_tuned` takes 0.25× `keras_fit`'s per-step time (per round: 0.25; too few " in text
    )
    assert (
        "| keras_tuned | keras_fit | 0.25× | too few rounds for an interval (per round: 0.25)"
        in text
    )
    assert "spends 500 µs more per step than `torch_plain` (per round: 500 µs; too few" in text
    assert "beyond noise" not in text.replace("| beyond noise |", "")  # only the column's name
    assert "95% CI" not in "\n".join(speed_findings.findings(speed))


def test_a_quick_study_says_in_the_headline_that_it_is_indicative():
    quick = _speed()
    assert not any("indicative" in line for line in speed_findings.headline(quick))
    quick["rounds"] = {**quick["rounds"], "quick": True, "rounds": 2, "epochs_per_round": 2}
    [first, *ratios] = speed_findings.headline(quick)
    assert first.startswith("the figures below come from the quick study (2 rounds of 2 timed")
    assert "indicative" in first and len(ratios) == 3 and "indicative" not in " ".join(ratios)
    assert first.endswith("`rnn-parity bench` runs the full study.")  # an old record: no list
    quick["rounds"]["full_study_only"] = ["keras_torch_backend", "keras_jax"]
    first = speed_findings.headline(quick)[0]
    assert first.endswith(
        "runs the full study, with the rows this one leaves out (keras_torch_backend, keras_jax)."
    )


def test_section_links_the_charts_and_shows_equal_work():
    text = "\n".join(speed_report.speed_section(_speed()))
    assert "(speed_tutorial.png)" in text
    assert "(speed_sweep_batch.png)" in text and "(speed_sweep_units.png)" in text
    assert "speed_sweep_time_steps.png" not in text  # no record swept time steps
    assert "| keras_tuned | 3 × 20 | 0.11000 ± 0.01000 | keras_fit | yes |" in text


def test_gpu_wins_from_is_computed_from_the_sweep():
    from compare.report.speed.findings import gpu_findings, gpu_wins_from

    def run(name: str, rates: dict[int, float]) -> dict:
        points = [{"value": v, "samples_per_s": r} for v, r in rates.items()]
        return {"variant": name, "sweep": {"units": points}}

    cpu = run("torch_plain", {3: 1000, 64: 800, 256: 300, 1024: 40})
    gpu = run("torch_plain_cuda", {3: 400, 64: 500, 256: 350, 1024: 330})
    assert gpu_wins_from(cpu, gpu, "units") == (256, 1024)
    never = run("torch_plain_cuda", {3: 1, 64: 1, 256: 1, 1024: 1})
    assert gpu_wins_from(cpu, never, "units") == (None, 1024)
    lines = gpu_findings([cpu, gpu])
    assert lines == [
        "`torch_plain_cuda` trains more samples per second than `torch_plain` from recurrent "
        "units 256 on (to 1024, the largest swept)."
    ]
    records = [{**cpu, "kind": "bench_run"}, {**gpu, "kind": "bench_run", "gpu": "H100"}]
    from compare.report.speed.records import speed_summary

    text = "\n".join(speed_report.speed_section(speed_summary(records)))
    assert "GPU H100" in text and "from recurrent units 256 on" in text


def test_empty_and_partial_records():
    from compare.report.speed.records import speed_summary

    assert speed_report.speed_section(speed_summary([])) == []
    assert speed_report.speed_section(speed_summary([{"kind": "meta"}])) == []
    partial = [
        {"kind": "bench_run", "variant": "keras_fit", "step_time_median_s": "nan"},
        {"kind": "bench_run", "variant": "torch_plain", "sweep": {"batch": [{"value": 1}]}},
    ]
    text = "\n".join(speed_report.speed_section(speed_summary(partial)))
    assert "n/a" in text and "speed_tutorial.png" not in text
    one_round = _speed({"keras_fit": [2e-3], "keras_tuned": [5e-4]})
    assert "too few rounds for an interval" in "\n".join(speed_report.speed_section(one_round))
    assert "keras_fit" in speed_report.terminal_table(speed_summary(partial))


@pytest.mark.slow
def test_draw_speed_writes_the_pngs(tmp_path):
    draw_speed([*_fixture(), _rounds(ROUND_STEPS)], tmp_path)
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == ["speed_sweep_batch.png", "speed_sweep_units.png", "speed_tutorial.png"]
    for name in names:
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_draw_speed_with_nothing_to_draw(tmp_path):
    draw_speed([], tmp_path / "none")
    assert not (tmp_path / "none").exists()
    draw_speed([{"kind": "bench_run", "variant": "x"}], tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_report_json_speed_holds_runs_and_ratios():
    from compare.report.summary import summarise

    speed = summarise([*_fixture(), _rounds(ROUND_STEPS)])["speed"]
    assert [run["variant"] for run in speed["runs"]][:2] == ["keras_fit", "keras_tuned"]
    for entry in speed["ratios"]:
        assert {"variant", "reference", "ratio", "ci95", "rounds", "method"} <= set(entry)
        assert len(entry["ci95"]) == 2 and entry["rounds"] == 5 and len(entry["per_round"]) == 5
