"""The numpy log likelihood and posterior predictive agree with PyMC's."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest
import xarray as xr

from bayeslaw.datasets import simulate_moe
from bayeslaw.inference.fitting import fit
from bayeslaw.inference.pointwise import training_predictive
from bayeslaw.models.hierarchical import ModelSpec, build_model


def _pymc_log_likelihood(result) -> np.ndarray:
    spec = ModelSpec.from_observations(
        result.observations,
        form=result.form_name,
        pooling=result.record.model.pooling,
        likelihood=result.record.model.likelihood,
        noise=result.record.model.noise,
    )
    model = build_model(result.observations, spec)
    posterior = xr.DataTree.from_dict({"posterior": result.datatree["posterior"].to_dataset()})
    with model:
        ll = pm.compute_log_likelihood(posterior, progressbar=False)
    return np.asarray(ll["log_likelihood"]["loss"].values)


@pytest.mark.parametrize(
    ("likelihood", "noise"),
    [
        ("normal", "constant"),
        ("student_t", "constant"),
        ("lognormal", "constant"),
        ("student_t_log", "constant"),
        ("normal", "scaled"),
        ("student_t_log", "scaled"),
    ],
)
def test_log_likelihood_matches_pymc(likelihood, noise, mock_nuts):
    obs = simulate_moe(n_groups=2, seed=3).observations
    result = fit(obs, likelihood=likelihood, noise=noise, draws=40, tune=40, chains=2,
                 random_seed=2, progressbar=False, check=False)  # fmt: skip
    ours = np.asarray(result.datatree["log_likelihood"]["loss"].values)
    np.testing.assert_allclose(ours, _pymc_log_likelihood(result), rtol=1e-8, atol=1e-8)


def test_posterior_predictive_is_law_plus_noise(small_fit):
    tree = small_fit.datatree
    replicated = np.asarray(tree["posterior_predictive"]["loss"].values).reshape(
        small_fit.draws.n_draws, -1
    )
    assert replicated.shape[1] == len(small_fit.observations)
    mu = training_predictive(small_fit.draws, small_fit.observations).mean
    sigma = small_fit.draws.noise[:, small_fit.observations.group_index]
    z = (replicated - mu) / sigma
    assert abs(z.mean()) < 0.02
    assert z.std() == pytest.approx(1.0, abs=0.02)
    observed_dims = tree["observed_data"]["loss"].dims
    assert tree["posterior_predictive"]["loss"].dims == ("chain", "draw", *observed_dims)
