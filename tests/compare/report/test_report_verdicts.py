"""The report's verdicts and columns, on records built to make a wrong rendering visible.

test_report.py's fixture records all agree and their parity gaps grow every epoch, so a report
that always printed "agree", or printed the last epoch in the "worst" column, would pass it.
Here an agreement record fails and a parity series peaks mid-run. Nothing trains or plots: the
summary and the Markdown are computed from the records alone.
"""

from __future__ import annotations

import argparse

from compare.commands.report import plan
from compare.report.render import render_markdown
from compare.report.summary import summarise


def agreement_record(kind: str, ok: bool, worst: float, tolerance: float = 1e-12) -> dict:
    """A float64 agreement_run whose keras-vs-torch output gap is `worst`."""
    pairs = ("keras vs reference", "torch vs reference", "keras vs torch")
    rows = [
        {
            "quantity": quantity,
            "pair": pair,
            "max_abs": worst if pair == "keras vs torch" else 1e-16,
            "max_rel": 1e-16,
            "tolerance": tolerance,
            "ok": ok or pair != "keras vs torch",
        }
        for pair in pairs
        for quantity in ("outputs", "layer 0 forward h")
    ]
    return {
        "kind": "agreement_run",
        "ok": ok,
        "inputs": "sunspot windows",
        "spec": {"layers": [{"kind": kind}], "dtype": "float64"},
        "rows": rows,
    }


def parity_record(mode: str, weight_gaps: list[float], loss_gaps: list[float]) -> dict:
    return {
        "kind": "parity_run",
        "layer_kind": "simple",
        "dtype": "float64",
        "mode": mode,
        "epochs": len(weight_gaps),
        "diverged": False,
        "epoch_weight_max_abs_diff": weight_gaps,
        "epoch_loss_abs_diff": loss_gaps,
    }


def render(records: list[dict]) -> tuple[dict, str]:
    summary = summarise(records)
    return summary, render_markdown(summary)


def test_a_failing_agreement_record_says_do_not_agree():
    records = [agreement_record("simple", True, 2e-16), agreement_record("lstm", False, 3e-9)]
    summary, text = render(records)
    assert [row["ok"] for row in summary["agreement"]] == [False, True]  # sorted: lstm, simple
    assert "Keras, torch and the numpy reference DO NOT agree for every layer kind" in text
    assert "worst difference 3.0e-09" in text
    assert "| lstm | float64 | 1.0e-16 | 1.0e-16 | 3.0e-09 | 3.0e-09 | 1e-12 | **NO** |" in text
    assert "| simple | float64 | 1.0e-16 | 1.0e-16 | 2.0e-16 | 2.0e-16 | 1e-12 | yes |" in text


def test_agreeing_records_say_agree():
    _, text = render([agreement_record("simple", True, 2e-16)])
    assert "Keras, torch and the numpy reference agree for every layer kind" in text
    assert "DO NOT" not in text and "**NO**" not in text


def test_final_and_worst_columns_differ_when_the_peak_is_mid_run():
    # worst weight gap at epoch 2 of 4; the loss gap also peaks mid-run
    peak = parity_record("parity", [1e-16, 7e-16, 3e-16, 2e-16], [0.0, 5e-17, 4e-17, 1e-17])
    summary, text = render([peak])
    row = summary["parity"][0]
    assert row["final_weight_max_abs_diff"] == 2e-16
    assert row["worst_weight_max_abs_diff"] == 7e-16
    assert row["final_loss_abs_diff"] == 1e-17
    # columns: layer | dtype | mode | epochs | final | worst | loss final
    assert "| simple | float64 | parity | 4 | 2.00e-16 | 7.00e-16 | 1.00e-17 |" in text
    # the headline quotes the final gap after all epochs
    assert "weights differ by 2.0e-16 after 4 epochs" in text


def test_report_plans_parity_runs_for_gru_reset_before():
    args = argparse.Namespace(
        quick=False,
        seeds=1,
        epochs=1,
        preset="tutorial",
        no_parity=False,
        parity_epochs=20,
        gap_epochs=4,
        lstm_gru_epochs=5,
        bench="none",
    )
    epochs = {job.name: job.kwargs["epochs"] for job in plan(args) if job.name.startswith("parity")}
    for dtype in ("float32", "float64"):
        for mode in ("parity", "users"):
            assert epochs[f"parity-gru-reset-before-{dtype}-{mode}"] == 5
            assert epochs[f"parity-gru-{dtype}-{mode}"] == 5
            assert epochs[f"parity-lstm-{dtype}-{mode}"] == 5
            # the tutorial's own model keeps the tutorial's 20 epochs
            assert epochs[f"parity-simple-{dtype}-{mode}"] == 20
        assert epochs[f"parity-simple-{dtype}-gap-double_bias"] == 4


def test_a_grammar_shape_row_is_named_by_its_label():
    record = agreement_record("lstm", True, 2e-16) | {"label": "embedding + mask_zero"}
    summary, text = render([record, agreement_record("simple", True, 2e-16)])
    assert [row["layer"] for row in summary["agreement"]] == ["embedding + mask_zero", "simple"]
    assert "| embedding + mask_zero | float64 |" in text
