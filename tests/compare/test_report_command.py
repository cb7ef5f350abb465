"""`rnn-parity report --quick` end to end: measurements, records, report files, terminal summary."""

import json

import pytest

from compare.cli import main


@pytest.mark.slow
def test_quick_report_end_to_end(tmp_path, capsys):
    out = tmp_path / "reports"
    assert (
        main(["report", "--quick", "--preset", "tutorial", "--bench", "none", "--out", str(out)])
        == 0
    )
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


def test_report_refuses_a_bad_option(capsys):
    with pytest.raises(SystemExit):
        main(["report", "--preset", "nonsense"])
    assert "invalid choice" in capsys.readouterr().err
