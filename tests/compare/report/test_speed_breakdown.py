"""The speed section's "Where the time goes", rendered from a fixture rounds record.

The breakdown's numbers are hand-made: a gap whose parts fall 4% from it, one whose parts fall
30% short, so the renderer must say how far each falls and which one the check rejects.
Records without a breakdown (made before it, or by a quick study) render without the section.
"""

from __future__ import annotations

import pytest

from compare.report.speed import render as speed_report
from compare.report.speed.breakdown import CHART_BREAKDOWN, breakdown_section, gap_sentence
from compare.report.speed.breakdown_plot import breakdown_figure
from compare.report.speed.plots import draw_speed

PARTS = ["loop", "callbacks", "optimizer", "data", "compiled", "logging", "compute", "other"]


def _variant(parts_us: dict[str, float], timed_us: float) -> dict:
    parts_s = {part: parts_us.get(part, 0.0) * 1e-6 for part in PARTS}
    total = sum(parts_s.values())
    return {
        "parts_s": parts_s,
        "sum_s": total,
        "step_s": total * 1.05,
        "overhead_s": total * 0.02,
        "timed_step_s": timed_us * 1e-6,
        "cost": total * 1.05 / (timed_us * 1e-6) - 1,
        "samples": 2000,
        "interval_s": 5e-4,
        "frames": {"loop": [["lightning/pytorch/loops/training_epoch_loop.py:advance", 2e-4]]},
        "rounds": 2,
    }


def _gap(variant: str, reference: str, parts_us: dict[str, float], gap_us: float) -> dict:
    total = sum(parts_us.values()) * 1e-6
    residual = total - gap_us * 1e-6
    return {
        "variant": variant,
        "reference": reference,
        "parts_s": {part: parts_us.get(part, 0.0) * 1e-6 for part in PARTS},
        "sum_s": total,
        "gap": {"difference_s": gap_us * 1e-6, "ci95": [0.9 * gap_us * 1e-6, 1.1 * gap_us * 1e-6]},
        "residual_s": residual,
        "residual_rel": residual / (gap_us * 1e-6),
        "within": abs(residual / (gap_us * 1e-6)) <= 0.1,
        "max_residual": 0.1,
        "rounds": 2,
    }


def _rounds() -> dict:
    plain = {"compute": 500, "optimizer": 200, "data": 80, "loop": 20}
    lightning = {**plain, "loop": 300, "callbacks": 150, "data": 130}
    return {
        "kind": "bench_rounds",
        "rounds": 2,
        "threads": 1,
        "variant_order": ["keras_fit", "keras_tuned", "lightning_default", "torch_plain"],
        "variants": {
            "keras_fit": {"median": 1.6e-3, "ci95": [1.5e-3, 1.7e-3], "n": 2},
            "keras_tuned": {"median": 3.4e-4, "ci95": [3.3e-4, 3.5e-4], "n": 2},
            "lightning_default": {"median": 1.3e-3, "ci95": [1.2e-3, 1.4e-3], "n": 2},
            "torch_plain": {"median": 8e-4, "ci95": [7.5e-4, 8.5e-4], "n": 2},
        },
        "breakdown": {
            "parts": PARTS,
            "titles": {"loop": "the framework's loop", "callbacks": "callbacks and hooks"},
            "groups": {
                "Keras (TensorFlow)": ["keras_fit", "keras_tuned"],
                "PyTorch": ["lightning_default", "torch_plain"],
            },
            "variants": {
                "keras_fit": _variant({"compute": 600, "compiled": 500, "callbacks": 300}, 1600),
                "keras_tuned": _variant({"compute": 330}, 340),
                "lightning_default": _variant(lightning, 1300),
                "torch_plain": _variant(plain, 800),
            },
            "gaps": [
                # 480 µs of parts against a 500 µs gap: 4% below, within 10%
                _gap(
                    "lightning_default",
                    "torch_plain",
                    {"loop": 280, "callbacks": 150, "data": 50},
                    500,
                ),
                # 900 µs of parts against a 1,260 µs gap: 28.6% below, outside
                _gap(
                    "keras_fit",
                    "keras_tuned",
                    {"compiled": 500, "callbacks": 300, "compute": 100},
                    1260,
                ),
            ],
            "max_residual": 0.1,
        },
    }


def test_the_sentence_says_what_the_framework_adds_part_by_part_and_how_far_it_falls():
    rounds = _rounds()
    lightning = gap_sentence(rounds["breakdown"]["gaps"][0], rounds["breakdown"])
    assert lightning.startswith("`lightning_default` adds 500 µs per step over `torch_plain`: ")
    assert (
        "+280 µs in the framework's loop, +150 µs in callbacks and hooks, +50 µs in data"
        in lightning
    )
    assert "the parts sum to 480 µs, 4.0% below the measured 500 µs" in lightning
    assert lightning.endswith("within 10% (the sum lies inside the gap's 95% interval).")
    keras = gap_sentence(rounds["breakdown"]["gaps"][1], rounds["breakdown"])
    assert "28.6% below the measured 1,260 µs" in keras
    assert "**not within 10%**" in keras
    assert "(the sum lies outside the gap's 95% interval)" in keras  # 900 < 0.9 x 1,260


def test_a_gap_within_noise_is_said_to_be():
    rounds = _rounds()
    gap = {**rounds["breakdown"]["gaps"][0]}
    gap["gap"] = {"difference_s": 500e-6, "ci95": [-100e-6, 1100e-6]}
    assert "the gap itself is within noise)" in gap_sentence(gap, rounds["breakdown"])


def test_the_section_tables_each_gap_with_its_residual_and_the_profilers_cost():
    text = "\n".join(breakdown_section({"rounds": _rounds()}))
    assert "### Where the time goes" in text
    assert f"![per-step time by part]({CHART_BREAKDOWN})" in text
    assert "| **parts − measured gap** | | | -20 µs (-4.0%) | |" in text
    assert "`lightning/pytorch/loops/training_epoch_loop.py:advance`" in text
    assert "| torch_plain | 800 µs | 840 µs | 5.0% |" in text  # timed, sampled, cost


def test_records_without_a_breakdown_render_without_the_section():
    old = _rounds()
    del old["breakdown"]
    speed = {"rounds": old, "runs": [], "ratios": [], "differences": []}
    assert breakdown_section(speed) == []
    assert "Where the time goes" not in "\n".join(speed_report.speed_section(speed))
    assert breakdown_figure(old) is None  # so draw_speed draws no breakdown chart


@pytest.mark.slow
def test_the_chart_is_drawn_from_the_rounds_record(tmp_path):
    rounds = _rounds()
    speed = {"rounds": rounds, "runs": [], "ratios": [], "differences": []}
    assert "Where the time goes" in "\n".join(speed_report.speed_section(speed))
    draw_speed([rounds], tmp_path)
    assert (tmp_path / CHART_BREAKDOWN).stat().st_size > 10_000
