"""Likelihoods on the loss and on its log, constant and scaled noise: fitted, predicted, saved."""

from __future__ import annotations

import numpy as np
import pytest

from bayeslaw.datasets import simulate_moe
from bayeslaw.errors import PriorError
from bayeslaw.inference.fitting import fit
from bayeslaw.models.hierarchical import ModelSpec, sample_prior_predictive
from bayeslaw.posterior.fit import load_fit
from bayeslaw.posterior.predictive import PredictiveDraws

N, E = "dense_parameter_count", "num_experts"


def test_log_scale_density_is_the_lognormal_density():
    """log p(y) on the log scale = Normal log density of log y minus log y (checked by
    integrating to 1 and against the closed form)."""
    mean, noise = np.array([[2.0]]), np.array([[0.1]])
    draws = PredictiveDraws(mean, noise, log_scale=True)
    y = np.linspace(1.0, 4.0, 20001)
    density = np.exp(draws.log_density(y))[0]
    assert np.trapezoid(density, y) == pytest.approx(1.0, abs=1e-6)
    closed = -np.log(y * 0.1 * np.sqrt(2 * np.pi)) - (np.log(y) - np.log(2.0)) ** 2 / 0.02
    np.testing.assert_allclose(np.log(density), closed, rtol=1e-10)
    sample = draws.sample(np.random.default_rng(0), replicates=20000)
    assert np.median(sample) == pytest.approx(2.0, rel=0.01) and np.all(sample > 0)


@pytest.mark.parametrize(
    ("likelihood", "noise"),
    [
        ("normal", "constant"),
        ("student_t", "constant"),
        ("lognormal", "constant"),
        ("student_t_log", "constant"),
        ("normal", "scaled"),
        ("lognormal", "scaled"),
    ],
)
def test_every_likelihood_and_noise_fits_predicts_and_saves(likelihood, noise, tmp_path):
    obs = simulate_moe(n_groups=2, seed=4).observations
    result = fit(obs, method="map", likelihood=likelihood, noise=noise, random_seed=0)
    assert result.record.model.likelihood == likelihood and result.record.model.noise == noise
    assert np.all(result.draws.theta["L_inf"] > 0) and np.all(result.draws.theta["L_inf"] < 10)
    assert (result.draws.kappa is not None) == (noise == "scaled")
    grid = {N: np.array([1e8, 1e10]), E: np.array([8.0, 8.0])}
    predicted = result.predict(grid, group="group_0", kind="observation")
    assert np.all(predicted["lower"] < predicted["mean"])
    assert np.all(predicted["mean"] < predicted["upper"])
    loaded = load_fit(result.save(tmp_path / "fit"))
    again = loaded.predict(grid, group="group_0", kind="observation")
    np.testing.assert_array_equal(predicted["upper"], again["upper"])
    np.testing.assert_array_equal(predicted["mean"], again["mean"])


def test_scaled_noise_narrows_intervals_where_the_noise_falls():
    """A fit whose noise exponent is positive gives narrower observation intervals at the
    larger size: the width ratio is the noise ratio, (x2 / x1) ** -kappa."""
    obs = simulate_moe(n_groups=1, seed=5).observations
    result = fit(obs, method="map", noise="scaled", random_seed=0)
    draws = result.draws
    kappa = {k: float(v[0]) for k, v in draws.kappa.items()}
    x = {N: np.array([1e7, 1e10]), E: np.array([8.0, 8.0])}
    sd = draws.noise_draws(x, draws.groups[0])[0]
    assert sd[1] / sd[0] == pytest.approx(1e3 ** -kappa[N], rel=1e-9)


def test_flat_priors_take_constant_noise_only():
    obs = simulate_moe(n_groups=1, seed=5).observations
    with pytest.raises(PriorError, match="noise='constant' only"):
        ModelSpec.from_observations(obs, priors="flat", pooling="none", noise="scaled")
    with pytest.raises(PriorError, match="noise must be one of"):
        ModelSpec.from_observations(obs, noise="rising")
    with pytest.raises(PriorError, match="likelihood must be one of"):
        ModelSpec.from_observations(obs, likelihood="cauchy")


@pytest.mark.parametrize("likelihood", ["lognormal", "student_t_log"])
def test_the_prior_predictive_of_a_log_likelihood_is_positive(likelihood):
    obs = simulate_moe(n_groups=2, seed=6).observations
    spec = ModelSpec.from_observations(obs, likelihood=likelihood, noise="scaled")
    draws = sample_prior_predictive(obs, spec, draws=200, random_seed=0)
    assert np.all(draws["loss"] > 0)
    assert spec.priors.noise_scale == pytest.approx(np.std(np.log(obs.y)) / 2)
