"""law(): the SLDBench predictor contract, configuration, fast path and concurrency."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bayeslaw import predictor
from bayeslaw.datasets import simulate_moe
from bayeslaw.errors import ConfigError, FitArtifactError, PredictionInputError
from bayeslaw.posterior.fit import load_fit

ROWS = [
    {"num_experts": 8.0, "dense_parameter_count": 1.3e9},
    {"num_experts": 1.0, "dense_parameter_count": 2e7},
]
TINY = {"BAYESLAW_DRAWS": "60", "BAYESLAW_TUNE": "60", "BAYESLAW_CHAINS": "1"}


@pytest.fixture
def dataset(tmp_path):
    path = tmp_path / "data.csv"
    simulate_moe(n_groups=2, seed=0).observations.frame.to_csv(path, index=False)
    return path


@pytest.fixture
def configured(dataset, tmp_path, monkeypatch, small_fit):
    """BAYESLAW_DATA/HOME set and the session's fit saved there as if law() had fitted it."""
    home = tmp_path / "home"
    monkeypatch.setenv("BAYESLAW_DATA", str(dataset))
    monkeypatch.setenv("BAYESLAW_HOME", str(home))
    monkeypatch.setenv("BAYESLAW_FORM", "moe_additive")
    monkeypatch.setattr(predictor, "_CACHE", {})
    record = small_fit.record.with_fingerprint(predictor.data_fingerprint(dataset))
    dataclasses.replace(small_fit, record=record).save(home / "fit", datatree=False)
    return home


def test_contract_posterior_mean_and_population(configured, small_fit):
    out = predictor.law(ROWS, "group_1")
    assert [set(r) for r in out] == [{"loss_validation"}] * 2
    expected = small_fit.predict(
        {k: np.array([r[k] for r in ROWS]) for k in ROWS[0]}, group="group_1"
    )["mean"]
    np.testing.assert_allclose([r["loss_validation"] for r in out], expected, rtol=1e-12)
    unseen = predictor.law(ROWS, "never_seen")
    population = small_fit.predict(
        {k: np.array([r[k] for r in ROWS]) for k in ROWS[0]}, group="never_seen"
    )
    assert not population["seen_group"].any()
    np.testing.assert_allclose(
        [r["loss_validation"] for r in unseen], population["mean"], rtol=1e-12
    )
    assert predictor.law([], "group_0") == []


def test_bad_inputs_raise_instead_of_defaulting_to_zero(configured):
    with pytest.raises(PredictionInputError, match="row 1 has no 'num_experts'"):
        predictor.law([ROWS[0], {"dense_parameter_count": 1e8}], "group_0")
    with pytest.raises(PredictionInputError, match="positive"):
        predictor.law([{"num_experts": 0.0, "dense_parameter_count": 1e8}], "group_0")


def test_mismatched_fit_is_refused(configured, dataset, monkeypatch):
    monkeypatch.setenv("BAYESLAW_FORM", "moe_multiplicative")
    with pytest.raises(FitArtifactError, match="form"):
        predictor.law(ROWS, "group_0")
    monkeypatch.setenv("BAYESLAW_FORM", "moe_additive")
    monkeypatch.setattr(predictor, "_CACHE", {})
    dataset.write_text(dataset.read_text() + "1,1e8,2.5,group_0\n")
    with pytest.raises(FitArtifactError, match="other data"):
        predictor.law(ROWS, "group_0")


def test_fast_path_imports_no_pymc_in_a_new_process(configured):
    """Nor pandas or scipy: a prediction costs about a numpy import."""
    code = (
        "import sys, bayeslaw\n"
        f"print(bayeslaw.law({ROWS!r}, 'group_0'))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pymc', 'arviz', 'arviz_base', 'arviz_stats', 'pytensor', 'datasets', 'pandas', "
        "'scipy', 'xarray', 'matplotlib')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.slow
def test_two_first_calls_at_once_produce_one_valid_fit(dataset, tmp_path):
    """Two processes call law() on a fresh home at the same time: one fits, both agree."""
    home = tmp_path / "home"
    env = {**os.environ, **TINY, "BAYESLAW_DATA": str(dataset), "BAYESLAW_HOME": str(home),
           "BAYESLAW_FORM": "moe_additive"}  # fmt: skip
    code = (
        "import json, warnings, bayeslaw\n"
        "warnings.simplefilter('ignore')\n"
        f"print(json.dumps(bayeslaw.law({ROWS!r}, 'group_0')))\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), results
    outputs = [json.loads(out.strip().splitlines()[-1]) for out, _ in results]
    assert outputs[0] == outputs[1]
    fitted = ["fitting moe_additive" in err for _, err in results]
    assert sorted(fitted) == [False, True]  # exactly one process fitted, the other loaded
    saved = load_fit(home / "fit")  # one artifact, loadable, and it is what both predicted
    expected = saved.predict({k: [r[k] for r in ROWS] for k in ROWS[0]}, group="group_0")
    assert [r["loss_validation"] for r in outputs[0]] == pytest.approx(list(expected["mean"]))
    assert sorted(p.name for p in Path(home).iterdir()) == [".fit.lock", "fit"]


# -- what a fuzzing pass found (issue "Bad input never crashes") ---------------------------
@pytest.mark.parametrize(
    ("input_data", "match"),
    [
        (None, "must be a list of dicts, one per row"),
        ({"num_experts": 8.0, "dense_parameter_count": 1e9}, "got dict"),
        ("num_experts=8", "got str"),
        ([[8.0, 1e9]], "input row 0 is a list, not a dict"),
        ([{"num_experts": [64], "dense_parameter_count": 1e9}], r"num_experts=\[64\]"),
        ([{"num_experts": True, "dense_parameter_count": 1e9}], "num_experts=True"),
        ([{"num_experts": "8", "dense_parameter_count": 1e9}], "num_experts='8'"),
    ],
)
def test_malformed_inputs_are_named(configured, input_data, match):
    with pytest.raises(PredictionInputError, match=match):
        predictor.law(input_data, "group_0")


def test_a_dataframe_is_not_a_list_of_rows(configured):
    import pandas as pd

    with pytest.raises(PredictionInputError, match="got DataFrame"):
        predictor.law(pd.DataFrame(ROWS), "group_0")


def test_group_must_be_a_string(configured):
    with pytest.raises(PredictionInputError, match=r"group must be a string.*NoneType None"):
        predictor.law(ROWS, None)


def test_an_unseen_groups_prediction_does_not_depend_on_its_name(configured):
    names = ["new", "another-router", "None", "x" * 40]
    values = [predictor.law(ROWS, name) for name in names]
    assert all(v == values[0] for v in values)


def test_bad_draws_setting_is_a_config_error(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("BAYESLAW_DATA", str(dataset))
    monkeypatch.setenv("BAYESLAW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BAYESLAW_DRAWS", "abc")
    monkeypatch.setattr(predictor, "_CACHE", {})
    with pytest.raises(ConfigError, match="BAYESLAW_DRAWS='abc' must be a whole number"):
        predictor.law(ROWS, "group_0")


def test_a_complete_fit_is_read_without_the_lock(configured, small_fit):
    """What makes a read-only home with a complete fit usable: reading takes no lock (the
    tests run as root, for whom file modes cannot make a directory read-only)."""
    assert not (configured / ".fit.lock").exists()
    out = predictor.law(ROWS, "group_1")
    assert not (configured / ".fit.lock").exists()
    expected = small_fit.predict({k: [r[k] for r in ROWS] for k in ROWS[0]}, group="group_1")
    assert [r["loss_validation"] for r in out] == pytest.approx(list(expected["mean"]))


def test_broken_homes_are_named_before_any_fitting(configured, monkeypatch):
    """fit/ replaced by a file, or the lock path by a directory: a FitArtifactError at once."""
    import shutil

    def never(*args, **kwargs):
        raise AssertionError("law() started fitting")

    monkeypatch.setattr(predictor, "_fit_and_save", never)
    shutil.rmtree(configured / "fit")
    (configured / "fit").write_text("not a fit")
    with pytest.raises(FitArtifactError, match="is a file, not a saved fit"):
        predictor.law(ROWS, "group_0")
    (configured / "fit").unlink()
    (configured / ".fit.lock").mkdir()
    with pytest.raises(FitArtifactError, match="cannot take the lock"):
        predictor.law(ROWS, "group_0")


def test_data_changed_in_place_is_not_matched_to_the_old_fit(configured, dataset):
    """Same size, same mtime, other content: the content hash tells them apart."""
    import os

    text = dataset.read_text()
    stat_before = dataset.stat()
    changed = text.replace("group_0", "group_9", 1)
    assert len(changed) == len(text)
    dataset.write_text(changed)
    os.utime(dataset, ns=(stat_before.st_atime_ns, stat_before.st_mtime_ns))
    with pytest.raises(FitArtifactError, match="other data"):
        predictor.law(ROWS, "group_0")


def test_a_damaged_fit_is_refitted_not_refused(configured, dataset, monkeypatch, small_fit):
    """fit.json deleted: the directory holds only bayeslaw's files, so a refit replaces it."""
    (configured / "fit" / "fit.json").unlink()
    calls = []

    def refit(cfg, fingerprint):
        calls.append(cfg.fit_dir)
        record = small_fit.record.with_fingerprint(fingerprint)
        result = dataclasses.replace(small_fit, record=record, _path=None)
        result.save(cfg.fit_dir, datatree=False)
        return result

    monkeypatch.setattr(predictor, "_fit_and_save", refit)
    assert predictor.law(ROWS, "group_0")
    assert calls == [configured / "fit"] and (configured / "fit" / "fit.json").is_file()


def test_law_with_an_expression_form_and_named_inputs(tmp_path, monkeypatch, fit_mocked):
    """BAYESLAW_FORM may be an expression over BAYESLAW_INPUTS; a second process-like call
    loads the saved fit by its canonical name."""
    from bayeslaw.data import load_observations

    frame = simulate_moe(n_groups=2, seed=0).observations.frame
    sizes = frame.rename(columns={"dense_parameter_count": "D"})[["D", "loss_validation", "group"]]
    data = tmp_path / "sizes.csv"
    sizes.to_csv(data, index=False)
    monkeypatch.setenv("BAYESLAW_DATA", str(data))
    monkeypatch.setenv("BAYESLAW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BAYESLAW_FORM", "L_inf + B / (D_l + D**beta)")
    monkeypatch.setenv("BAYESLAW_INPUTS", "D")
    monkeypatch.setattr(predictor, "_CACHE", {})
    made = []

    def mocked(cfg, fingerprint):  # the real one, with the mocked sampler
        from bayeslaw.models.registry import form_from_text

        obs = load_observations(cfg.data, inputs=cfg.inputs)
        form = form_from_text(cfg.form, cfg.inputs)
        tiny = {"draws": 20, "tune": 20, "chains": 1, "progressbar": False, "check": False}
        result = fit_mocked(obs, form=form, random_seed=0, **tiny)
        result.record = result.record.with_fingerprint(fingerprint)
        result.save(cfg.fit_dir)
        made.append(result)
        return result

    monkeypatch.setattr(predictor, "_fit_and_save", mocked)
    first = predictor.law([{"D": 2e9}], "group_0")
    monkeypatch.setattr(predictor, "_CACHE", {})
    again = predictor.law([{"D": 2e9}], "group_0")  # loaded from disk by its name
    assert len(made) == 1 and first == again
    expected = made[0].predict({"D": [2e9]}, group="group_0")["mean"].iloc[0]
    assert first[0]["loss_validation"] == pytest.approx(expected)
    monkeypatch.setenv("BAYESLAW_FORM", "L_inf + B / (D_l + D**gamma)")
    monkeypatch.setattr(predictor, "_CACHE", {})
    with pytest.raises(FitArtifactError, match="expected"):
        predictor.law([{"D": 2e9}], "group_0")


@pytest.mark.filterwarnings("ignore::bayeslaw.inference.diagnostics.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore::bayeslaw.errors.CalibrationWarning")  # a mocked posterior
def test_law_averages_the_applicable_forms(dataset, tmp_path, monkeypatch, mock_nuts):
    """BAYESLAW_FORM=average: the forms averaged by stacking, saved, loaded again, and the
    prediction is the weighted mean of the forms' posterior means."""
    from bayeslaw.posterior.averaged import AveragedFit, load_predictor

    monkeypatch.setenv("BAYESLAW_DATA", str(dataset))
    monkeypatch.setenv("BAYESLAW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BAYESLAW_FORM", "average")
    for key, value in TINY.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(predictor, "_CACHE", {})
    first = predictor.law(ROWS, "group_1")
    saved = load_predictor(tmp_path / "home" / "fit")
    assert isinstance(saved, AveragedFit) and sum(saved.weights) == pytest.approx(1.0)
    x = {k: np.array([r[k] for r in ROWS]) for k in ROWS[0]}
    expected = sum(
        w * f.predict(x, group="group_1")["mean"].to_numpy()
        for w, f in zip(saved.weights, saved.fits, strict=True)
    )
    np.testing.assert_allclose([r["loss_validation"] for r in first], expected, rtol=1e-12)
    monkeypatch.setattr(predictor, "_CACHE", {})
    assert predictor.law(ROWS, "group_1") == first
    monkeypatch.setenv("BAYESLAW_FORM", "moe_additive")
    monkeypatch.setattr(predictor, "_CACHE", {})
    with pytest.raises(FitArtifactError, match="average of forms"):
        predictor.law(ROWS, "group_1")


def test_law_defaults_to_the_average_of_the_applicable_forms(monkeypatch):
    monkeypatch.delenv("BAYESLAW_FORM", raising=False)
    assert predictor.law_config().form == "average"
    assert predictor.law_config().expected_form() is None
