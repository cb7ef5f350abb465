"""The `rnn-parity data` subcommand: its summary of the sunspots, sliding windows and its errors."""

from __future__ import annotations

from compare.cli import main


def test_default_summary(capsys):
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    assert "2820" in out
    assert "1749-01" in out and "1983-12" in out
    assert "train 2256 values, test 564 values" in out
    assert "fitted on all 2820 values" in out
    assert "X (187, 12, 1)" in out and "Y (187, 1)" in out
    assert "X (46, 12, 1)" in out and "Y (46, 1)" in out


def test_sliding_windows_and_train_scaling(capsys):
    assert main(["data", "--stride", "1", "--time-steps", "6", "--scaling", "train"]) == 0
    out = capsys.readouterr().out
    assert "sliding, stride 1" in out
    assert "fitted on the 2256 training values only" in out
    assert "X (2250, 6, 1)" in out and "X (558, 6, 1)" in out


def test_csv_by_column_name(tmp_path, capsys):
    path = tmp_path / "tiny.csv"
    path.write_text("t,level\n" + "".join(f"{i},{i * 0.5}\n" for i in range(30)))
    assert main(["data", "--csv", str(path), "--column", "level", "--time-steps", "3"]) == 0
    out = capsys.readouterr().out
    assert "column 'level'" in out and "length 30, index 0 .. 29" in out
    assert "train 24 values, test 6 values" in out
    assert "X (7, 3, 1)" in out and "X (1, 3, 1)" in out


def test_bad_csv_path_is_one_line_exit_2(tmp_path, capsys):
    missing = tmp_path / "nowhere.csv"
    assert main(["data", "--csv", str(missing)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("rnn-parity data: error:") and "nowhere.csv" in lines[0]


def test_too_short_test_part_names_the_part(capsys):
    assert main(["data", "--time-steps", "600"]) == 2
    err = capsys.readouterr().err
    assert "test part" in err and "too short" in err


def test_column_without_csv(capsys):
    assert main(["data", "--column", "1"]) == 2
    assert "--column needs --csv" in capsys.readouterr().err
