"""The command line, in-process."""

from __future__ import annotations

from bayeslaw.cli import main


def test_summary_of_a_csv(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("num_experts,dense_parameter_count,loss_validation\n1,1e7,3.0\n8,1e8,2.5\n")
    assert main(["summary", str(path)]) == 0
    assert "all_data" in capsys.readouterr().out


def test_bad_input_exits_2_with_one_line(tmp_path, capsys):
    assert main(["summary", str(tmp_path / "missing.csv")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("bayeslaw: error:")
