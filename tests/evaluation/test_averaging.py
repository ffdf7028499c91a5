"""Averaging over laws: stacking weights (ArviZ's) and the mixture of predictive draws."""

from __future__ import annotations

import numpy as np
import pytest

from bayeslaw.datasets import simulate_moe
from bayeslaw.errors import PredictionInputError
from bayeslaw.evaluation.averaging import stacking_weights
from bayeslaw.evaluation.scoring import score, split_largest
from bayeslaw.evaluation.selection import fit
from bayeslaw.posterior.averaged import AveragedFit, mixture_counts

N, E = "dense_parameter_count", "num_experts"


def test_a_clearly_better_form_takes_the_weight_and_ties_share_it():
    rng = np.random.default_rng(0)
    good = rng.normal(1.0, 0.1, 40)
    weights = stacking_weights({"good": good, "bad": good - 3.0})
    assert weights["good"] > 0.95 and weights["bad"] < 0.05
    assert sum(weights.values()) == pytest.approx(1.0)
    # two forms each better on half the points: a mixture beats either, so both get weight
    a = np.r_[np.full(20, 1.0), np.full(20, -2.0)]
    tied = stacking_weights({"a": a, "b": a[::-1]})
    assert tied["a"] == pytest.approx(0.5, abs=0.05) and tied["b"] == pytest.approx(0.5, abs=0.05)
    assert stacking_weights({"only": good}) == {"only": 1.0}


def test_mixture_counts_follow_the_weights():
    counts = mixture_counts([0.5, 0.3, 0.2], 7)
    assert counts.sum() == 7 and counts.tolist() == [4, 2, 1]
    assert mixture_counts([1.0, 0.0], 5).tolist() == [5, 0]


def test_an_averaged_fit_predicts_with_the_mixture(mock_nuts):
    obs = simulate_moe(n_groups=2, seed=7).observations
    train, test = split_largest(obs)
    forms = ["moe_additive", "moe_multiplicative"]
    result = fit(train, form=forms, draws=100, tune=100, chains=2, random_seed=0,
                 progressbar=False, check=False)  # fmt: skip
    assert isinstance(result, AveragedFit)
    assert set(result.stacking) == set(forms) and sum(result.weights) == pytest.approx(1.0)
    assert set(result.form_names) <= set(forms)
    grid = {N: np.array([2e8, 1e9]), E: np.array([8.0, 32.0])}
    mixed = result.predictive_draws(grid, group="group_0", kind="mean").mean(axis=0)
    parts = [f.predictive_draws(grid, group="group_0", kind="mean").mean(axis=0)
             for f in result.fits]  # fmt: skip
    expected = sum(w * p for w, p in zip(result.weights, parts, strict=True))
    np.testing.assert_allclose(mixed, expected, rtol=2e-3)
    again = result.predict(grid, group="new group", kind="observation")
    np.testing.assert_array_equal(
        again["upper"], result.predict(grid, group="other new", kind="observation")["upper"]
    )
    metrics, _ = score(result, test)
    assert np.isfinite(metrics["elpd"]) and 0 <= metrics["cover90_obs"] <= 1


def test_an_average_needs_one_likelihood_and_proper_weights(small_fit):
    with pytest.raises(PredictionInputError, match="sum to 1"):
        AveragedFit((small_fit,), (0.5,))
    with pytest.raises(PredictionInputError, match="one weight per fit"):
        AveragedFit((small_fit,), (0.5, 0.5))


def test_an_averaged_fit_saves_and_loads_to_the_same_predictions(small_fit, tmp_path):
    from bayeslaw.errors import FitArtifactError
    from bayeslaw.posterior.averaged import load_predictor

    other = AveragedFit((small_fit, small_fit), (0.25, 0.75), {"a": 0.25, "b": 0.75})
    path = other.save(tmp_path / "avg", datatree=False)
    loaded = load_predictor(path)
    assert isinstance(loaded, AveragedFit) and loaded.weights == (0.25, 0.75)
    grid = {N: np.array([3e8]), E: np.array([16.0])}
    for group in ("group_0", "unseen"):
        np.testing.assert_array_equal(
            other.predict(grid, group=group, kind="observation")["upper"],
            loaded.predict(grid, group=group, kind="observation")["upper"],
        )
    other.save(path, datatree=False)  # an earlier averaged fit may be replaced
    (path / "form_1" / "fit.json").write_text("{}")
    with pytest.raises(FitArtifactError, match="not the fit saved there"):
        load_predictor(path)
