"""The speed section with the Keras-on-JAX rows: measured, not installed, or absent (old records).

Hand-written records only (no worker runs): the rows the JAX variants add, the "not installed"
row with the one command that adds JAX, and `bench --compare` between a study without them and
one with them.
"""

from __future__ import annotations

from compare.bench.plan import not_installed_record
from compare.bench.variants import VARIANTS, WorkerConfig
from compare.report.speed import render as speed_report
from compare.report.speed.records import speed_summary
from compare.report.speed.versus import compare_text
from tests.compare.report.test_speed_report import ROUND_STEPS, _fixture, _record, _rounds, _row

COMMAND = 'pip install "jax>=0.10" "jaxlib>=0.10"'
WITH_JAX = {
    **ROUND_STEPS,
    "keras_jax": [7.0e-4, 7.2e-4, 6.9e-4, 7.1e-4, 7.0e-4],
    "keras_jax_tuned": [2.0e-4, 2.1e-4, 1.9e-4, 2.2e-4, 2.0e-4],
    "numpy_train": [1.0e-4, 1.0e-4, 1.0e-4, 1.1e-4, 1.0e-4],  # tuned: 2, 2.1, 1.9, 2, 2×
}


def test_measured_jax_rows_show_their_times_and_ratios():
    records = [*_fixture(), _record("keras_jax", 7e-4), _record("keras_jax_tuned", 2e-4)]
    speed = speed_summary([*records, _rounds(WITH_JAX)])
    lines = speed_report.speed_section(speed)
    assert _row(lines, "keras_jax_tuned", "| variant | per-step median")[1] == "200 µs"
    ratio = _row(lines, "keras_jax_tuned", "| variant | ÷ reference")
    assert ratio[1] == "numpy_train" and ratio[2] == "2.00×"  # geometric mean over rounds
    assert _row(lines, "keras_jax", "| variant | ÷ reference")[1:3] == ["keras_fit", "0.35×"]


def test_without_jax_the_rows_say_not_installed_with_the_command():
    record = not_installed_record(VARIANTS["keras_jax"], "jax", WorkerConfig())
    speed = speed_summary([*_fixture(), record, _rounds(ROUND_STEPS)])
    lines = speed_report.speed_section(speed)
    assert _row(lines, "keras_jax", "| variant | per-step median")[1:3] == [
        "not installed",
        f"add it with `{COMMAND}`",
    ]
    assert _row(lines, "keras_jax", "| variant | import")[1] == "not installed"
    listed = next(line for line in lines if line.startswith("- `keras_jax`"))
    assert f"jax is not installed; add it with `{COMMAND}`" in listed
    terminal = speed_report.terminal_table(speed)
    assert f"keras_jax                 not installed; add it with: {COMMAND}" in terminal


def test_compare_across_a_study_without_the_jax_rows_and_one_with_them():
    def ratios(steps: dict) -> dict:
        entries = speed_summary([_rounds(steps)])["ratios"]
        return {(e["variant"], e["reference"]): e for e in entries}

    old, new = ratios(ROUND_STEPS), ratios(WITH_JAX)
    assert ("keras_jax", "keras_fit") not in old and ("keras_jax", "keras_fit") in new
    text = compare_text(old, new)
    row = next(line for line in text.splitlines() if line.startswith("keras_jax ÷ keras_fit"))
    assert " - " in row and row.split()[-2:] == ["n/a", "n/a"]  # no old interval: no verdict
    assert "keras_tuned ÷ keras_fit" in text


def test_with_gpu_rows_the_report_says_why_jax_has_none():
    from compare.report.speed.findings import jax_gpu_finding

    jax = _record("keras_jax", 7e-4, jax_platform="cpu", jax_version="0.10.2")
    gpu = _record("torch_plain_cuda", 1e-3)
    assert jax_gpu_finding([jax]) is None  # no GPU in the study: nothing to explain
    assert jax_gpu_finding([_record("keras_fit", 2e-3), gpu]) is None  # no JAX rows
    assert jax_gpu_finding([jax, gpu]).startswith("Keras on JAX (jax 0.10.2) has no GPU row")
