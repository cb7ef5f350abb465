"""`rnn-parity explain` end to end at a tiny size: 2 seeds, 1 epoch, 8 tutorial windows."""

from __future__ import annotations

import argparse
import json

from compare.commands.explain import run
from compare.study.explain import VARIANTS


def test_explain_writes_its_record_and_section(tmp_path, capsys):
    args = argparse.Namespace(
        preset="tutorial",
        cell=None,
        seeds=2,
        epochs=1,
        jobs=1,
        cluster=None,
        out=str(tmp_path),
        fresh=False,
    )
    assert run(args, samples=8) == 0
    record = json.loads((tmp_path / "explain-tutorial.json").read_text())
    assert record["kind"] == "explain" and len(record["runs"]) == 2 * len(VARIANTS)
    assert all(run["error"] is None for run in record["runs"])
    by = {(r["variant"], r["seed"]): r["test_rmse_units"] for r in record["runs"]}
    assert all(abs(by["all", s] - by["keras", s]) < 1e-3 for s in (0, 1))  # sunspots
    section = (tmp_path / "explain-tutorial.md").read_text()
    assert section.startswith("## Why they differ") and "| shuffling |" in section
    assert "the factors are complete" in capsys.readouterr().out
