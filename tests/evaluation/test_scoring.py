"""Extrapolation scores: exact metrics from a hand-built posterior, and the fitting plumbing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayeslaw.data import load_observations
from bayeslaw.datasets import simulate_moe
from bayeslaw.errors import DataError
from bayeslaw.evaluation.protocol import evaluate
from bayeslaw.evaluation.scoring import score, split_largest
from bayeslaw.posterior.draws import PosteriorDraws
from bayeslaw.posterior.fit import Fit

N, E = "dense_parameter_count", "num_experts"
TINY = {"draws": 60, "tune": 60, "chains": 1, "progressbar": False, "check": False}


def _point_fit(noise: float, make_record) -> Fit:
    """A one-draw posterior of the additive law: L = 2 + 1 * (N/1e8)^-0.5 + 0 * E^-1."""
    theta = {"L_inf": 2.0, "A": 1.0, "alpha": 0.5, "B": 0.0, "beta": 1.0}
    draws = PosteriorDraws(
        form_name="moe_additive",
        scales={N: 1e8, E: 10.0},
        groups=("g",),
        pooling="none",
        theta={k: np.array([[v]]) for k, v in theta.items()},
        noise=np.array([[noise]]),
    )
    return Fit(make_record(draws, method="map"), draws)


def test_metrics_by_hand(make_record):
    fit = _point_fit(noise=0.1, make_record=make_record)
    n = np.array([1e8, 4e8, 1e10, 1e8])
    law = 2.0 + (n / 1e8) ** -0.5
    y = law + np.array([0.0, 0.05, -0.2, 0.3])
    test = load_observations(pd.DataFrame({N: n, E: 1.0, "loss_validation": y, "group": "g"}))
    metrics, table = score(fit, test)
    err = y - law
    assert metrics["r2"] == pytest.approx(1 - np.mean(err**2) / np.var(y))
    assert metrics["nmse"] == pytest.approx(np.mean(err**2) / np.var(y))
    assert metrics["nmae"] == pytest.approx(np.mean(np.abs(err)) / np.mean(np.abs(y - y.mean())))
    # a point posterior: the 90% observation interval is law +- 1.645 * 0.1
    assert metrics["cover90_obs"] == pytest.approx(0.5)  # |err| = 0, 0.05 inside; 0.2, 0.3 out
    assert metrics["width90_obs"] == pytest.approx(2 * 1.645 * 0.1, rel=0.05)
    expected_lpd = np.mean(-0.5 * (err / 0.1) ** 2 - np.log(0.1 * np.sqrt(2 * np.pi)))
    assert metrics["elpd"] == pytest.approx(expected_lpd)
    assert list(table["mean"]) == pytest.approx(list(law))


def test_split_largest():
    obs = simulate_moe(n_groups=2, seed=0).observations
    train, test = split_largest(obs)
    assert set(test.frame[N]) == {obs.frame[N].max()}
    assert len(train) + len(test) == len(obs) and obs.frame[N].max() not in set(train.frame[N])
    with pytest.raises(DataError, match="tokens"):
        split_largest(obs, by="tokens")
    with pytest.raises(DataError, match="nothing is left"):
        split_largest(test)


def test_evaluate_table(mock_nuts):
    train, test = split_largest(simulate_moe(n_groups=2, seed=0).observations)
    result = evaluate(train, test, forms=["moe_additive"], poolings=["partial", "complete"], **TINY)
    assert list(result.table.index) == [("moe_additive", "partial"), ("moe_additive", "complete")]
    for (form, pooling), row in result.table.iterrows():
        points = result.points[(form, pooling)]
        y, pred = points["loss_validation"], points["mean"]
        assert row["r2"] == pytest.approx(1 - np.mean((y - pred) ** 2) / np.var(y))
        assert row["nmse"] == pytest.approx(1 - row["r2"])
        inside = (points["lo90_obs"] <= y) & (y <= points["hi90_obs"])
        assert row["cover90_obs"] == pytest.approx(inside.mean())
        assert row["elpd"] == pytest.approx(points["log_density"].mean())
        assert row["cover50_obs"] <= row["cover90_obs"] and row["width90_obs"] > 0
        assert row["n_test"] == len(test) and row["fit_s"] > 0
    assert "| ('moe_additive', 'partial')" in result.to_markdown()
    assert result.to_dict()["rows"][0]["pooling"] == "partial"
