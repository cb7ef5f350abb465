"""`rnn-parity bench --compare`: old and new intervals per ratio, and whether they overlap.

Checked on hand-written report.json files whose intervals are chosen so that each verdict
(overlap, new ratio inside the old interval, no interval on one side) is known in advance.
"""

from __future__ import annotations

import argparse
import json

import pytest

from compare.commands import bench as bench_command
from compare.report.speed.versus import compare_pair, compare_text, read_ratios
from shared.errors import RnnParityError


def _entry(variant: str, reference: str, ratio: float, low: float, high: float, rounds=4) -> dict:
    return {
        "variant": variant,
        "reference": reference,
        "ratio": ratio,
        "ci95": [low, high],
        "rounds": rounds,
        "method": "student-t on log per-round values",
    }


OLD = [
    _entry("keras_tuned", "keras_fit", 0.25, 0.22, 0.28),
    _entry("torch_tuned", "torch_plain", 0.80, 0.78, 0.82),
    _entry("lightning_tuned", "torch_plain", 0.60, 0.55, 0.65),
    {**_entry("keras_fit", "lightning_default", 1.7, 0, 0, rounds=1), "ci95": ["nan", "nan"]},
]
NEW = [
    _entry("keras_tuned", "keras_fit", 0.27, 0.25, 0.29),  # overlaps, inside the old interval
    _entry("torch_tuned", "torch_plain", 0.86, 0.83, 0.90),  # moved beyond both intervals
    _entry("lightning_tuned", "torch_plain", 0.70, 0.63, 0.77),  # overlaps, yet outside
    _entry("keras_fit", "lightning_default", 1.6, 1.5, 1.7),  # the old one had no interval
]


def _write(path, ratios: list[dict]) -> str:
    path.write_text(json.dumps({"speed": {"ratios": ratios}}))
    return str(path)


def test_each_ratio_is_judged_against_the_old_interval():
    old = {(e["variant"], e["reference"]): e for e in OLD}
    new = {(e["variant"], e["reference"]): e for e in NEW}
    verdicts = [compare_pair(old[pair], new[pair]) for pair in old]
    assert verdicts == [
        {"overlap": True, "new_inside_old": True},
        {"overlap": False, "new_inside_old": False},
        {"overlap": True, "new_inside_old": False},
        {"overlap": None, "new_inside_old": None},
    ]


def test_the_table_shows_both_intervals_and_counts():
    old = {(e["variant"], e["reference"]): e for e in OLD[:3]}
    new = {(e["variant"], e["reference"]): e for e in NEW}
    lines = compare_text(old, new).splitlines()
    row = next(line for line in lines if line.startswith("keras_tuned ÷ keras_fit"))
    assert "0.25 (0.22 to 0.28, 4 r)" in row and "0.27 (0.25 to 0.29, 4 r)" in row
    assert row.split()[-2:] == ["yes", "yes"]
    moved = next(line for line in lines if line.startswith("torch_tuned ÷ torch_plain"))
    assert moved.split()[-2:] == ["NO", "NO"]
    only_new = next(line for line in lines if line.startswith("keras_fit ÷ lightning_default"))
    assert only_new.split()[-2:] == ["n/a", "n/a"] and " - " in only_new
    assert "3 ratio(s) with an interval in both: 2 overlap, 1 new ratio(s) inside" in lines[-2]


def test_bench_compare_of_two_files_measures_nothing(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    bench_command.add_arguments(parser)
    old = _write(tmp_path / "old.json", [{**OLD[0], "method": None}])  # made before methods
    new = _write(tmp_path / "new.json", NEW)
    out = tmp_path / "out"
    assert bench_command.run(parser.parse_args(["--out", str(out), "--compare", old, new])) == 0
    printed = capsys.readouterr().out
    assert "keras_tuned ÷ keras_fit" in printed and "1 overlap" in printed
    assert "old intervals: not recorded (a percentile bootstrap)" in printed
    assert not out.exists()  # nothing was measured or written


def test_bad_compare_files_fail_with_one_line(tmp_path):
    with pytest.raises(RnnParityError, match="no such report.json"):
        read_ratios(tmp_path / "absent.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(RnnParityError, match="broken.json: not a readable JSON report"):
        read_ratios(tmp_path / "broken.json")
    (tmp_path / "empty.json").write_text(json.dumps({"speed": {"ratios": []}}))
    with pytest.raises(RnnParityError, match="holds no speed ratios"):
        read_ratios(tmp_path / "empty.json")
    parser = argparse.ArgumentParser()
    bench_command.add_arguments(parser)
    args = parser.parse_args(["--compare", str(tmp_path / "absent.json")])
    with pytest.raises(RnnParityError, match="--compare: no such file"):
        bench_command.run(args)  # before any measuring
    args = parser.parse_args(["--compare", str(tmp_path / "empty.json")])
    with pytest.raises(RnnParityError, match="holds no speed ratios"):
        bench_command.run(args)
