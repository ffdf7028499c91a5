"""The benchmark scripts: every one parses its options and exposes ``run`` and ``main``;
run_all.py's plumbing (options, a fresh process's JSON, the table) on cheap inputs."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import run_all

from bayeslaw.data import load_observations
from bayeslaw.datasets import simulate_moe

BENCH = Path(run_all.__file__).resolve().parent
MODULES = (
    "additive_reference", "baselines", "calibration", "calibration_real", "cell_information",
    "extrapolation", "fit_timing", "law_latency", "laws", "scale", "unseen_groups",
)  # fmt: skip


@pytest.mark.parametrize("script", ["run_all", *MODULES])
def test_help_exits_zero(script):
    done = subprocess.run(
        [sys.executable, str(BENCH / f"{script}.py"), "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "usage" in done.stdout
    assert ("--out" if script == "run_all" else "--json") in done.stdout


@pytest.mark.parametrize("name", MODULES)
def test_module_exposes_run_and_main(name):
    module = importlib.import_module(name)
    assert callable(module.run) and callable(module.main)
    assert module.__doc__.strip()


def test_cli_options_mirror_run_keywords():
    options = run_all.cli_options({"max_groups": 3, "priors": None, "data": BENCH / "x.csv"})
    assert options == ["--max-groups", "3", "--data", str(BENCH / "x.csv")]


def test_fresh_process_reads_back_the_json(tmp_path):
    path = tmp_path / "sim.csv"
    simulate_moe(n_groups=2, seed=0).observations.frame.to_csv(path, index=False)
    got = run_all.fresh_process("baselines", {"data": path, "repeats": 1, "n_boot": 2})
    assert (got["data"], got["n_groups"], got["n_rows"], got["n_boot"]) == (str(path), 2, 100, 2)
    assert len(got["grid_runs_s"]) == 1 and got["grid_s"] > 0 and got["bootstrap_s"] > 0


def test_fresh_process_failure_names_the_command(tmp_path):
    with pytest.raises(run_all.BenchmarkError, match=r"baselines\.py --data .*missing\.csv"):
        run_all.fresh_process("baselines", {"data": tmp_path / "missing.csv"})


def test_table_marks_targets_and_failures():
    result = {
        "settings": {"quick": False},
        "datasets": {"sldbench_moe": {"skipped": "x is absent"}},
        "law_latency": {"cold_process_median_s": 0.31, "warm_10k_rows_median_s": 0.7},
        "scale": {"error": "boom"},
    }
    assert run_all.table_rows(result) == [
        ("dataset", "sldbench_moe", "x is absent", "", ""),
        ("law() cold_process_median_s", "moe_by_router", 0.31, "<= 0.5", "yes"),
        ("law() warm_10k_rows_median_s", "moe_by_router", 0.7, "<= 0.5", "NO"),
        ("scale", "simulated", "failed: see JSON", "", ""),
    ]


def test_laws_benchmark_reads_each_dataset_as_documented(shared_data_dir):
    import laws

    sft = laws.observations("sft_finetuning")
    assert len(sft.groups) == 34 and sft.inputs == ("sft_data_size",)
    over = laws.observations("overtraining")
    assert set(over.groups) == {"c4_original", "rpj", "rw_original"}
    assert over.inputs == ("params", "tokens") and len(over) == 95


def test_laws_benchmark_keeps_the_forms_asked_for(monkeypatch, capsys):
    import laws

    class Split(list):  # the rows of one split: len() and a frame with the size input
        frame = pd.DataFrame({"sft_data_size": [409600.0]})

    fitted = []
    monkeypatch.setattr(laws, "observations", lambda name: name)
    monkeypatch.setattr(laws, "split_largest", lambda obs, by: (obs, Split([1, 2])))
    monkeypatch.setattr(
        laws, "_score_one", lambda train, test, form, method: fitted.append((train, form, method))
    )
    result = laws.run(datasets=["sft_finetuning", "overtraining"], forms=["rectified"])
    assert list(result) == ["sft_finetuning"] and result["sft_finetuning"]["test_rows"] == 2
    assert fitted == [("sft_finetuning", "rectified(sft_data_size)", m) for m in laws.METHODS]
    assert laws.main(["--forms", "rectify"]) == 1
    assert "unknown ['rectify']" in capsys.readouterr().out


def test_real_calibration_reads_crossed_curves_and_formats_its_rows(shared_data_dir):
    import calibration_real

    over = calibration_real.observations("overtraining")
    assert len(over.groups) == 24 and " | " in over.groups[0]
    row = {"likelihood": "normal", "noise": "constant", "predictor": "single best",
           "form": "f", **dict.fromkeys(calibration_real.COLUMNS, 0.5), "divergences": 0,
           "seconds": 1.0}  # fmt: skip
    table = calibration_real.format_result({"settings": {}, "x": {"rows": [row]}})
    assert "single best" in table and "normal" in table
    assert calibration_real.main(["--configs", "cauchy/constant"]) == 1


def test_unseen_groups_reads_crossed_curves_and_scores_the_median_fallback(shared_data_dir):
    import unseen_groups

    sft = unseen_groups.real_observations("sft_finetuning", factors=True)
    assert sft.factors == ("model", "dataset") and len(sft.groups) == 34
    plain = unseen_groups.one_factor(sft)
    assert plain.factors == () and plain.groups == sft.groups
    picked = unseen_groups.held_out_curves(sft.groups, 4)
    assert len(picked) == 4 and picked[0] == min(sft.groups) and picked[-1] == max(sft.groups)
    assert unseen_groups.held_out_curves(sft.groups, None) == sorted(sft.groups)
    # the family data hold the same rows in the same order (one mask holds a curve out of
    # both), each curve labelled with its family too
    family = unseen_groups.real_observations("sft_finetuning", families=True)
    assert family.factors == ("model", "dataset", "family:dataset")
    pd.testing.assert_frame_equal(family.frame[["model", "dataset", "sft_data_size"]],
                                  sft.frame[["model", "dataset", "sft_data_size"]])  # fmt: skip
    assert "t5-base | gigaword | t5" in family.groups
    assert set(family.levels("family:dataset")) >= {"t5:gigaword", "mt5:gigaword", "opt:flan"}
    # over-training's validation sets by source: C4's two share a level per training corpus
    over = unseen_groups.real_observations("overtraining", factors=True)
    source = unseen_groups.real_observations("overtraining", families=True)
    assert source.factors == ("train_dataset", "eval_set", "source:train_dataset")
    pd.testing.assert_frame_equal(source.frame[["train_dataset", "eval_set", "params"]],
                                  over.frame[["train_dataset", "eval_set", "params"]])  # fmt: skip
    assert {"rpj | c4_val | c4", "rpj | paloma_c4_en | c4"} <= set(source.groups)
    assert len(source.levels("source:train_dataset")) == 3 * 7
    records = [
        {"crossed": {"sq_error": [1.0, 3.0], "covered": [True, False], "width": [1.0, 1.0],
                     "divergences": 0, "seconds": 2.0, "sq_error_median": [0.5, 0.5]},
         "one factor": {"sq_error": [4.0, 4.0], "covered": [True, True], "width": [3.0, 3.0],
                        "divergences": 1, "seconds": 1.0},
         "median": {"sq_error": [8.0, 8.0]}},
    ]  # fmt: skip
    summary = unseen_groups.summarise(records)
    assert summary["crossed"]["mse"] == 2.0 and summary["crossed"]["mse_over_median"] == 0.25
    assert summary["crossed"]["cover90"] == 0.5 and summary["one factor"]["divergences"] == 1
    # the predictive median's squared error, where recorded
    assert summary["crossed"]["mse_at_median"] == 0.5 and "mse_at_median" not in summary["median"]
    assert "mse_at_median" not in summary["one factor"]
    table = unseen_groups.format_result({"settings": {}, "sft_finetuning": {
        "curves": records, "point_fit_s": 1.0, "summary": summary}})  # fmt: skip
    assert "0.0625" in table  # 0.5 / 8: the predictive median's ratio to the median fallback


def test_routing_curves_are_read_as_router_by_evaluation_set(shared_data_dir):
    """The routing study's third crossed dataset: routed runs at the last step, one row per
    run and evaluation set; the dense runs (no router) and unevaluated pairs are left out."""
    import common
    import unseen_groups

    frame = common.routing_evaluations()
    raw = pd.read_csv(shared_data_dir / "moe_routing" / "curves.csv.gz")
    final = raw[(raw["step"] == common.ROUTING_FINAL_STEP) & (raw["router_type"] != "Dense")]
    losses = final[[f"loss_{e}" for e in common.ROUTING_EVAL_SETS]]
    assert len(frame) == int(losses.notna().sum().sum()) and frame["loss"].notna().all()
    assert set(frame["router_type"]) == {"Hash", "RL-R", "S-Base"}
    assert (frame["num_experts"] > 1).all()
    # one row's loss is its run's loss on that set
    row = frame.iloc[0]
    run = final[final["hyper_id"] == row["hyper_id"]]
    assert run[f"loss_{row['eval_set']}"].item() == row["loss"]
    crossed = unseen_groups.real_observations("moe_routing", factors=True)
    assert crossed.factors == ("router_type", "eval_set") and len(crossed.groups) == 3 * 6
    plain = unseen_groups.real_observations("moe_routing")
    assert plain.groups == crossed.groups and len(plain.frame) == len(frame)
    assert unseen_groups.PLAN["moe_routing"] == "moe_additive"


def test_unseen_groups_passes_the_interaction_to_the_crossed_model_only(
    shared_data_dir, monkeypatch
):
    import unseen_groups

    seen = {}

    def fake_bayes(train, test, group, sampler):
        seen["crossed" if train.factors else "one factor"] = sampler
        n = len(test.y)
        return {"sq_error": [0.0] * n, "covered": [True] * n, "width": [1.0] * n,
                "divergences": 0, "seconds": 0.0}  # fmt: skip

    monkeypatch.setattr(unseen_groups, "_bayes", fake_bayes)
    out = unseen_groups.run_dataset("overtraining", 1, {"draws": 5}, interaction=("L_ref",))
    assert seen["crossed"]["interaction"] == ("L_ref",) and seen["crossed"]["draws"] == 5
    assert "interaction" not in seen["one factor"] and len(out["curves"]) == 1


def test_median_fallback_is_the_law_at_the_other_groups_median(make_record):
    import unseen_groups

    from bayeslaw.posterior.draws import PosteriorDraws
    from bayeslaw.posterior.fit import Fit

    draws = PosteriorDraws(
        form_name="additive(D)", scales={"D": 1.0}, groups=("a", "b", "c", "d"),
        pooling="none", noise=np.full((1, 4), 0.1),
        theta={"L_inf": np.array([[1.0, 2.0, 3.0, 10.0]]), "A": np.array([[1.0, 1.0, 2.0, 2.0]]),
               "alpha": np.array([[0.5, 0.5, 0.5, 0.5]])},
    )  # fmt: skip
    point = Fit(make_record(draws, method="map"), draws)
    test = load_observations(pd.DataFrame({"D": [4.0], "loss": [1.0]}), inputs=["D"],
                             columns={"loss_validation": "loss"})  # fmt: skip
    # leaving out "d": medians of a, b, c are L_inf 2, A 1, alpha 0.5 -> 2 + 4**-0.5
    np.testing.assert_allclose(unseen_groups.median_fallback(point, test, "d"), [2.5])


def test_crossed_sampling_reads_centring_choices_and_a_fits_quality(small_fit):
    import crossed_sampling

    assert crossed_sampling.centring("auto") is None
    assert crossed_sampling.centring("none") == ()
    assert crossed_sampling.centring("L_ref:cell,B:model") == ("L_ref:cell", "B:model")
    row = crossed_sampling.quality(small_fit)
    summary = small_fit.datatree["sample_stats"]
    assert row["divergences"] == int(summary["diverging"].sum())
    assert row["max_r_hat"] >= 1.0 - 1e-9 and row["min_ess_bulk"] > 0
    assert len(row["worst_r_hat"]) == 3 and "R-hat" in row["verdicts"]
    # the mocked sampler flags no tree-depth hit and records no step counts
    assert row["depth_hits"] == 0 and row["median_steps"] is None
    table = crossed_sampling.format_result(
        {"settings": {}, "sft_finetuning": {"rows": [{"choice": "auto", "seed": 7, **row}]}}
    )
    assert table.splitlines()[2].split()[:3] == ["sft_finetuning", "auto", "7"]
    assert table.splitlines()[2].split()[8:10] == ["0", "-"]
    assert crossed_sampling.main(["--datasets", "nowhere"]) == 1
    assert crossed_sampling.main(["--datasets", "overtraining", "--seeds", "0,x"]) == 1


def test_crossed_sampling_passes_the_step_size_target_on(small_fit, monkeypatch):
    import crossed_sampling

    calls = []

    def fake_fit(obs, **kwargs):
        calls.append(kwargs)
        return small_fit

    monkeypatch.setattr(crossed_sampling, "fit", fake_fit)
    monkeypatch.setattr(
        crossed_sampling, "real_observations", lambda *a, **k: small_fit.observations
    )
    out = crossed_sampling.run(datasets=("overtraining",), draws=10, tune=10, chains=1,
                               target_accept=0.9)  # fmt: skip
    assert calls[0]["target_accept"] == 0.9 and out["settings"]["target_accept"] == 0.9
    crossed_sampling.run(datasets=("overtraining",), draws=10, tune=10, chains=1)
    assert "target_accept" not in calls[1]  # fit's own default


def test_crossed_sampling_asks_for_families_only_where_a_dataset_has_them(small_fit, monkeypatch):
    import crossed_sampling

    asked = {}

    def fake_observations(name, **kwargs):
        asked[name] = kwargs
        return small_fit.observations

    monkeypatch.setattr(crossed_sampling, "fit", lambda obs, **kwargs: small_fit)
    monkeypatch.setattr(crossed_sampling, "real_observations", fake_observations)
    monkeypatch.setattr(crossed_sampling, "FAMILY_FACTORS", {"sft_finetuning": ("a", "b")})
    crossed_sampling.run(datasets=("sft_finetuning", "overtraining"), draws=10, tune=10,
                         chains=1, families=True)  # fmt: skip
    assert asked["sft_finetuning"]["families"] and not asked["overtraining"]["families"]
    crossed_sampling.run(datasets=("sft_finetuning",), draws=10, tune=10, chains=1)
    assert not asked["sft_finetuning"]["families"]


def test_interaction_option_reads_the_coordinates_named():
    from common import interaction_option

    assert interaction_option(None) is None
    assert interaction_option("L_ref,A_slope") == ("L_ref", "A_slope")
    assert interaction_option("") == ()
