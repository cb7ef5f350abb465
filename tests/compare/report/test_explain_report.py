"""The "Why they differ" section on a fixture record: effects and intervals checked by hand."""

from __future__ import annotations

import math

import pytest

from compare.report.explain import explain_section, summarise_explain

T_2 = 4.302652729911275  # Student-t 97.5% quantile, 2 degrees of freedom (tables)
VALUES = {  # test RMSE in sunspots per seed 0, 1, 2
    "keras": [10.0, 11.0, 12.0],
    "torch": [24.0, 25.0, 29.0],
    "init_kernel": [22.0, 23.0, 26.0],  # per-seed effect -2, -2, -3
    "epsilon_value": [25.0, 24.0, 29.0],  # +1, -1, 0
    "all": [10.0, 11.0, 12.0],
}
RECORD = {
    "kind": "explain",
    "label": "explain-tutorial",
    "preset": "tutorial",
    "cell": None,
    "seeds": 3,
    "epochs": 20,
    "factors": {"init_kernel": "input kernel", "epsilon_value": "Adam's epsilon"},
    "groups": {"all": ["init_kernel", "epsilon_value"]},
    "variants": list(VALUES),
    "runs": [
        {"variant": v, "seed": s, "test_rmse_units": x}
        for v, xs in VALUES.items()
        for s, x in enumerate(xs)
    ],
}


def test_effects_intervals_and_verdicts_match_the_hand_computation():
    summary = summarise_explain(RECORD)
    rows = {row["variant"]: row for row in summary["rows"]}
    kernel = rows["init_kernel"]
    # differences -2, -2, -3: mean -7/3, sd sqrt(1/3), half-width t_2 * sd / sqrt 3 = t_2 / 3
    assert kernel["mean"] == pytest.approx(-7 / 3)
    assert kernel["mean_ci95"] == pytest.approx([-7 / 3 - T_2 / 3, -7 / 3 + T_2 / 3])
    assert kernel["sd"] == pytest.approx(math.sqrt(13 / 3) - math.sqrt(7))
    assert kernel["verdict"] == "toward Keras"
    # gap: Keras 11 minus torch 26 = -15, Welch se sqrt(1/3 + 7/3), df (8/3)^2 / (50/18) = 2.56
    from scipy.special import stdtrit

    half = float(stdtrit(2.56, 0.975)) * math.sqrt(8 / 3)
    assert summary["gap"]["mean"] == -15
    assert summary["gap"]["ci95"] == pytest.approx([-15 - half, -15 + half])
    assert summary["gap"]["beyond_noise"]
    assert kernel["share_of_gap"] == pytest.approx((-7 / 3) / -15)
    epsilon = rows["epsilon_value"]  # +1, -1, 0: mean 0, sd 1, half-width t_2 / sqrt 3
    assert epsilon["mean"] == 0
    assert epsilon["mean_ci95"] == pytest.approx([-T_2 / math.sqrt(3), T_2 / math.sqrt(3)])
    assert epsilon["verdict"] == "within noise"
    assert summary["all_vs_keras"] == 0


def test_section_says_what_moves_torch_and_what_is_noise():
    text = "\n".join(explain_section([summarise_explain(RECORD)]))
    assert text.startswith("## Why they differ")
    assert "| init_kernel | input kernel | -2.33 [-3.77, -0.90] |" in text
    assert "Beyond noise toward Keras: init_kernel." in text
    assert "Within noise: epsilon_value." in text
    assert "the factors are complete" in text
    assert explain_section(None) == []


@pytest.mark.slow  # matplotlib draws the report's (empty) plots
def test_the_report_gains_the_section_from_an_explain_record_beside_it(tmp_path):
    """`write_report` reads OUT/explain-*.json (no training, no other record needed)."""
    from compare.records import write_json
    from compare.report.render import write_report

    (tmp_path / "records").mkdir()
    write_report(tmp_path / "records", tmp_path)
    assert "## Why they differ" not in (tmp_path / "report.md").read_text()
    write_json(tmp_path / "explain-tutorial.json", RECORD)
    summary = write_report(tmp_path / "records", tmp_path)
    report = (tmp_path / "report.md").read_text()
    assert "## Why they differ" in report and "### preset `tutorial`" in report
    assert "Beyond noise toward Keras: init_kernel." in report
    assert summary["explain"][0]["label"] == "explain-tutorial"


def test_a_rounding_sized_effect_is_never_beyond_noise():
    """Torch x (1 + 1e-6) on every seed: both intervals exclude no-change by a hair (the paired
    values correlate perfectly), yet 3e-5 sunspots is float32 rounding, not a factor's effect."""
    import copy

    record = copy.deepcopy(RECORD)
    torch = {r["seed"]: r["test_rmse_units"] for r in record["runs"] if r["variant"] == "torch"}
    for run in record["runs"]:
        if run["variant"] == "epsilon_value":
            run["test_rmse_units"] = torch[run["seed"]] * (1 + 1e-6)
    row = next(r for r in summarise_explain(record)["rows"] if r["variant"] == "epsilon_value")
    assert row["mean_ci95"][0] > 0 and row["sd_ratio_ci95"][0] > 1  # "significant" ...
    assert row["verdict"] == "within noise" and not row["spread_beyond_noise"]  # ... negligible
