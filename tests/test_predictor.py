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
from bayeslaw.errors import FitArtifactError, PredictionInputError
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
    monkeypatch.delenv("BAYESLAW_FORM", raising=False)
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
    monkeypatch.delenv("BAYESLAW_FORM")
    monkeypatch.setattr(predictor, "_CACHE", {})
    dataset.write_text(dataset.read_text() + "1,1e8,2.5,group_0\n")
    with pytest.raises(FitArtifactError, match="other data"):
        predictor.law(ROWS, "group_0")


def test_fast_path_imports_no_pymc_in_a_new_process(configured):
    code = (
        "import sys, bayeslaw\n"
        f"print(bayeslaw.law({ROWS!r}, 'group_0'))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pymc', 'arviz', 'arviz_base', 'arviz_stats', 'pytensor', 'datasets')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.slow
def test_two_first_calls_at_once_produce_one_valid_fit(dataset, tmp_path):
    """Two processes call law() on a fresh home at the same time: one fits, both agree."""
    home = tmp_path / "home"
    env = {**os.environ, **TINY, "BAYESLAW_DATA": str(dataset), "BAYESLAW_HOME": str(home)}
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
