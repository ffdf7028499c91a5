"""The command line, in-process (main(argv) -> int) and once as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from bayeslaw.cli import main
from bayeslaw.data import load_observations
from bayeslaw.datasets import simulate_moe
from bayeslaw.posterior.fit import load_fit


@pytest.fixture(scope="module")
def data_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "runs.csv"
    simulate_moe(n_groups=2, seed=0).observations.frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def map_fit_dir(data_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("fits") / "map"
    assert main(["fit", str(data_csv), "--out", str(out), "--method", "map", "--quiet"]) == 0
    return out


def test_summary_of_a_csv(data_csv, capsys):
    assert main(["summary", str(data_csv)]) == 0
    assert "group_1" in capsys.readouterr().out


def test_fit_writes_a_loadable_fit(map_fit_dir, data_csv):
    loaded = load_fit(map_fit_dir, with_observations=True)
    assert loaded.record.method == "map" and loaded.groups == ("group_0", "group_1")
    assert loaded.observations.content_hash() == load_observations(data_csv).content_hash()
    params = json.loads((map_fit_dir / "params.json").read_text())
    expected = loaded.params().loc[("group_0", "alpha"), "mean"]
    assert params["coefficients"]["group_0"]["alpha"] == pytest.approx(expected, rel=1e-12)


def test_report_of_a_saved_fit(map_fit_dir, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["report", str(map_fit_dir), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    markdown = (out / "report.md").read_text()
    assert "report.md" in printed and "MAP" in markdown
    assert "do not apply to a MAP fit" in markdown  # no sampler diagnostics for one point
    assert (out / "figures" / "law.png").stat().st_size > 0


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_predict_formats(map_fit_dir, tmp_path, capsys, fmt):
    rows = tmp_path / "rows.csv"
    rows.write_text("num_experts,dense_parameter_count\n8,1.3e9\n64,1.3e9\n")
    code = main(["predict", str(map_fit_dir), "--input", str(rows), "--group", "group_0",
                 "--format", fmt, "--kind", "observation", "--ci", "0.5"])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    if fmt == "json":
        records = json.loads(out)
        assert len(records) == 2 and records[0]["lower"] < records[0]["upper"]
    elif fmt == "csv":
        assert out.splitlines()[0].startswith("dense_parameter_count,num_experts,mean")
    else:
        assert "50% equal-tailed interval" in out


def test_predict_groups_from_a_json_input_column(map_fit_dir, tmp_path, capsys):
    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps([
        {"num_experts": 8, "dense_parameter_count": 1e9, "group": "group_1"},
        {"num_experts": 8, "dense_parameter_count": 1e9, "group": "group_0"},
    ]))  # fmt: skip
    assert main(["predict", str(map_fit_dir), "--input", str(rows), "--format", "csv"]) == 0
    assert "group_1" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["summary", "/nonexistent/data.csv"], "does not exist"),
        (["predict", "/nonexistent/fit"], "no saved fit"),
        (["fit", "DATA", "--out", "OUT", "--priors", "nope.json"], "--priors takes"),
        (["fit", "DATA", "--out", "OUT", "--form", "moe_cubic"], "unknown law form"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, match, data_csv, tmp_path, capsys):
    argv = [str(data_csv) if a == "DATA" else str(tmp_path / "o") if a == "OUT" else a
            for a in argv]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("bayeslaw: error:") and match in err[0]


@pytest.mark.parametrize(
    ("rename", "option"),
    [
        ({"loss_validation": "loss"}, "--loss-col C"),
        ({"dense_parameter_count": "params"}, "--inputs a,b"),
    ],
)
def test_a_missing_column_names_the_cli_option(rename, option, data_csv, tmp_path, capsys):
    renamed = tmp_path / "renamed.csv"
    pd.read_csv(data_csv).rename(columns=rename).to_csv(renamed, index=False)
    assert main(["summary", str(renamed)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"On the command line: {option}" in err[0]
    assert next(iter(rename)) in err[0]  # the role that no column fills


def test_predict_without_group_lists_the_groups(map_fit_dir, tmp_path, capsys):
    rows = tmp_path / "rows.csv"
    rows.write_text("num_experts,dense_parameter_count\n8,1e9\n")
    assert main(["predict", str(map_fit_dir), "--input", str(rows)]) == 2
    assert "group_0" in capsys.readouterr().err


def test_console_script_as_a_subprocess(map_fit_dir):
    rows = "num_experts,dense_parameter_count\n8,1e9\n"
    cmd = [sys.executable, "-m", "bayeslaw.cli", "predict", str(map_fit_dir), "--group", "new",
           "--format", "json"]  # fmt: skip
    out = subprocess.run(cmd, input=rows, capture_output=True, text=True, check=True)
    record = json.loads(out.stdout)[0]
    assert record["seen_group"] is False and record["lower"] < record["mean"] < record["upper"]
    help_text = subprocess.run(
        [sys.executable, "-m", "bayeslaw.cli", "fit", "--help"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "--pooling" in help_text and "--priors" in help_text


TINY = ["--draws", "50", "--tune", "50", "--chains", "1"]


def test_evaluate_holds_out_the_largest_size_and_prints_json(data_csv, capsys, mock_nuts):
    argv = ["evaluate", "--train", str(data_csv), "--forms", "moe_additive", "--json", *TINY]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    (row,) = result["rows"]
    assert row["form"] == "moe_additive" and row["pooling"] == "partial"
    for key in ("r2", "nmse", "nmae", "cover50_obs", "cover90_obs", "width90_obs"):
        assert key in row


def test_evaluate_with_a_separate_test_file(data_csv, tmp_path, capsys, mock_nuts):
    import pandas as pd

    frame = pd.read_csv(data_csv)
    largest = frame["dense_parameter_count"] == frame["dense_parameter_count"].max()
    frame[~largest].to_csv(tmp_path / "train.csv", index=False)
    frame[largest].to_csv(tmp_path / "test.csv", index=False)
    argv = ["evaluate", "--train", str(tmp_path / "train.csv"), "--test",
            str(tmp_path / "test.csv"), *TINY]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "test:" in out and "r2" in out


def test_compare_lists_forms_best_first(data_csv, capsys, mock_nuts):
    argv = ["compare", str(data_csv), "--forms", "moe_additive,moe_multiplicative", *TINY]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "form='auto' takes the first" in out and "moe_multiplicative" in out


def test_fit_centred_coordinates_are_named(data_csv, tmp_path, capsys):
    out = tmp_path / "centred"
    args = ["fit", str(data_csv), "--out", str(out), "--method", "map", "--quiet"]
    assert main([*args, "--centered", "none"]) == 0
    assert json.loads((out / "fit.json").read_text())["model"]["centered"] == []
    capsys.readouterr()
    nuts = ["fit", str(data_csv), "--out", str(tmp_path / "n"), "--quiet", "--draws", "5"]
    assert main([*nuts, "--centered", "gamma"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unknown coordinates ['gamma']" in err
    assert main([*args, "--centered", "L_ref"]) == 2
    assert "MAP needs non-centred group offsets" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::bayeslaw.inference.diagnostics.ConvergenceWarning")
def test_demo_runs_the_main_job(tmp_path, capsys):
    """``bayeslaw demo --quick``: fit, held-out comparison with the truth, saved fit, report
    (its 2 x 200 draws may warn about R-hat: the demo prints such warnings itself)."""
    assert main(["demo", "--quick", "--out", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert "SYNTHETIC demo data" in out and "90% intervals cover the truth at" in out
    loaded = load_fit(tmp_path / "demo" / "fit")
    assert loaded.record.method == "nuts" and loaded.draws.n_draws == 400
    assert (tmp_path / "demo" / "report.html").stat().st_size > 0


# -- what a fuzzing pass found (issue "Bad input never crashes") ---------------------------
def _one_error_line(capsys, match: str) -> None:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("bayeslaw: error:") and match in err[0], err


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (b"", "is empty"),
        (b'[{"num_experts": 8', "is not a JSON list of row objects"),
        (b'{"num_experts": 8}', "is not a JSON list of row objects"),
        (b'num_experts,dense_parameter_count\n"8,1e9\n', "is not CSV with a header row"),
        (b"num_experts,dense_parameter_count\n\xff\xfe,1e9\n", "is not UTF-8 text"),
        (b"num_experts,dense_parameter_count\nabc,1e9\n", "rows [0] hold ['abc']"),
    ],
)
def test_bad_prediction_input_files(map_fit_dir, tmp_path, capsys, payload, match):
    rows = tmp_path / ("rows.json" if payload.startswith((b"[", b"{")) else "rows.csv")
    rows.write_bytes(payload)
    assert main(["predict", str(map_fit_dir), "--input", str(rows), "--group", "group_0"]) == 2
    _one_error_line(capsys, match)


def test_bad_input_on_stdin(map_fit_dir, monkeypatch, capsys):
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"[1, 2]")))
    assert main(["predict", str(map_fit_dir), "--group", "group_0"]) == 2
    _one_error_line(capsys, "standard input is not a JSON list of row objects")


def test_outputs_that_are_files_are_refused_before_any_work(data_csv, map_fit_dir, tmp_path,
                                                            capsys, monkeypatch):  # fmt: skip
    from bayeslaw.evaluation import selection

    monkeypatch.setattr(selection, "fit", lambda *a, **k: pytest.fail("fitted first"))
    taken = tmp_path / "taken"
    taken.write_text("mine")
    assert main(["fit", str(data_csv), "--out", str(taken), "--method", "map"]) == 2
    _one_error_line(capsys, "--out")
    assert main(["report", str(map_fit_dir), "--out", str(taken)]) == 2
    _one_error_line(capsys, "is a file; name a directory")
    assert taken.read_text() == "mine"


def test_cli_data_errors_are_one_line(tmp_path, data_csv, capsys):
    import gzip

    data = gzip.compress(b"dense_parameter_count,num_experts,loss_validation\n1e8,8,2.5\n" * 40)
    (tmp_path / "cut.csv.gz").write_bytes(data[: len(data) // 2])
    assert main(["summary", str(tmp_path / "cut.csv.gz")]) == 2
    _one_error_line(capsys, "is the file complete")
    (tmp_path / "priors.json").write_text('{"L_inf": 5}')
    argv = ["fit", str(data_csv), "--out", str(tmp_path / "o"), "--priors",
            str(tmp_path / "priors.json")]  # fmt: skip
    assert main(argv) == 2
    _one_error_line(capsys, "'L_inf' takes a (lower, upper) range")


def test_test_split_without_splits_says_what_is_missing(data_csv, capsys):
    assert main(["evaluate", "--train", str(data_csv), "--test-split", "test"]) == 2
    _one_error_line(capsys, "--test-split 'test' needs --train to be a dataset with splits")


def test_fit_an_expression_over_named_inputs(tmp_path, capsys):
    """--form takes an expression over --inputs; --loss-col names a loss without an alias."""
    frame = simulate_moe(n_groups=2, seed=0).observations.frame
    data = tmp_path / "sizes.csv"
    frame.rename(columns={"dense_parameter_count": "D", "loss_validation": "my_loss"})[
        ["D", "my_loss", "group"]
    ].to_csv(data, index=False)
    out = tmp_path / "fit"
    argv = ["fit", str(data), "--out", str(out), "--method", "map", "--inputs", "D",
            "--loss-col", "my_loss", "--form", "L_inf + B / (D_l + D**beta)"]  # fmt: skip
    assert main(argv) == 0
    loaded = load_fit(out)
    assert loaded.form_name == "L_inf + B / (D_l + D ** beta) | inputs=D"
    # the roles and priors the expression got are printed, the coefficient's slope included
    assert "B: coefficient, sampled as B_slope = B * beta" in capsys.readouterr().out
    assert main([*argv[:-2], "--form", "L_inf + B / (D_l + D**beta"]) == 2
    assert "does not parse" in capsys.readouterr().err


@pytest.mark.slow  # six MAP fits and three reports: a minute or more
# MAP intervals carry the noise only, so the held-out check behind the weights may say, by a
# CalibrationWarning, that the dominant form covered few held-out runs: plumbing is tested here
@pytest.mark.filterwarnings("ignore::bayeslaw.errors.CalibrationWarning")
def test_fit_average_with_a_log_likelihood_then_predict_and_report(data_csv, tmp_path, capsys):
    """--form average (MAP, lognormal, scaled noise): saved as an average, predicted with
    the mixture, reported per form."""
    out = tmp_path / "avg"
    argv = ["fit", str(data_csv), "--out", str(out), "--method", "map", "--form", "average",
            "--likelihood", "lognormal", "--noise", "scaled", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "averaged by stacking" in printed and "lognormal likelihood, scaled noise" in printed
    assert (out / "average.json").is_file()
    rows = tmp_path / "rows.csv"
    rows.write_text("dense_parameter_count,num_experts\n2e9,8\n")
    assert (
        main(["predict", str(out), "--input", str(rows), "--group", "g", "--format", "json"]) == 0
    )
    (row,) = json.loads(capsys.readouterr().out)
    assert row["lower"] < row["mean"] < row["upper"] and row["seen_group"] is False
    assert main(["report", str(out), "--out", str(tmp_path / "report")]) == 0
    assert (tmp_path / "report" / "form_0" / "report.md").is_file()


def test_compare_and_evaluate_take_inputs_and_families_with_commas(tmp_path, capsys, mock_nuts):
    """Data other than MoE: --inputs names the columns; a family's own commas do not split
    the --forms list; auto is the families that apply."""
    frame = simulate_moe(n_groups=2, seed=0).observations.frame
    frame = frame.rename(columns={"dense_parameter_count": "N", "num_experts": "D"})
    path = tmp_path / "nd.csv"
    frame[["N", "D", "loss_validation", "group"]].to_csv(path, index=False)
    argv = ["compare", str(path), "--inputs", "N,D", "--forms",
            "chinchilla(N,D),chinchilla_tied(N,D)", *TINY]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "chinchilla(N,D)" in out and "chinchilla_tied(N,D)" in out
    argv = ["evaluate", "--train", str(path), "--inputs", "N,D", "--json", *TINY]
    assert main(argv) == 0
    forms = {row["form"] for row in json.loads(capsys.readouterr().out)["rows"]}
    assert forms == {"chinchilla(N,D)", "chinchilla_tied(N,D)"}
