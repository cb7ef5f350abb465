"""The learners' "Why they train differently": every factor in words, measured from the record.

The measured clause must come from the explain record (two records with different numbers give
two different paragraphs), and without a record no number appears at all.
"""

from __future__ import annotations

import copy
import re

from compare.learn.factor_notes import FACTOR_NOTES, sunspots, why_they_differ
from compare.learn.notebooks import build_notebooks
from compare.learn.tutorial_page import render_page
from compare.report.explain import summarise_explain
from compare.study.parity import FACTORS
from tests.compare.learn.test_tutorial_page import _sources
from tests.compare.report.test_explain_report import RECORD


def _paragraph(lines: list[str], factor: str) -> str:
    return next(line for line in lines if line.startswith(f"**{factor}.**"))


def test_every_factor_has_a_paragraph_in_words_when_nothing_is_measured():
    assert list(FACTOR_NOTES) == list(FACTORS)
    lines = why_they_differ(None)
    for factor in FACTORS:
        paragraph = _paragraph(lines, factor)
        assert paragraph.endswith("Not measured yet: `rnn-parity explain` measures its effect.")
        assert "sunspots" not in paragraph


def test_the_measured_effect_is_read_from_the_record():
    summary = summarise_explain(RECORD)
    row = next(r for r in summary["rows"] if r["variant"] == "init_kernel")
    text = _paragraph(why_they_differ([summary]), "init_kernel")
    low, high = row["mean_ci95"]
    measured = f"{sunspots(row['mean'])} sunspots [{sunspots(low)}, {sunspots(high)}]"
    assert f"{measured} on preset `tutorial` (3 seeds), toward Keras" in text
    shifted = copy.deepcopy(RECORD)  # torch's init_kernel runs 1 sunspot lower on every seed
    for run in shifted["runs"]:
        if run["variant"] == "init_kernel":
            run["test_rmse_units"] -= 1
    moved = _paragraph(why_they_differ([summarise_explain(shifted)]), "init_kernel")
    assert f"{sunspots(row['mean'] - 1)} sunspots" in moved and moved != text
    # a factor the record does not hold stays in words
    assert "Not measured yet" in _paragraph(why_they_differ([summary]), "shuffling")
    epsilon = _paragraph(why_they_differ([summary]), "epsilon_value")
    assert re.search(r"by [+-]\d+\.\d\d sunspots", epsilon)  # in the record: measured


def test_the_side_by_side_page_and_the_tutorial_notebooks_end_with_it():
    summary = summarise_explain(RECORD)
    why = "\n".join(why_they_differ([summary]))
    page = render_page(_sources(), facts_markdown="## What differs and why\n", explained=[summary])
    assert page.rstrip().endswith(why.rstrip())
    notebooks = build_notebooks(epochs=1, seed=0, explained=[summary])
    for name in ("tutorial_keras.ipynb", "tutorial_torch.ipynb"):
        assert notebooks[name].cells[-1].source == why.rstrip()
