"""PredictiveDraws: log densities against scipy, noise simulation, the log score."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from bayeslaw.posterior.predictive import PredictiveDraws, log_density


def _draws(nu: np.ndarray | None) -> PredictiveDraws:
    rng = np.random.default_rng(0)
    mean = 2.0 + 0.1 * rng.standard_normal((50, 7))
    noise = np.exp(-3 + 0.2 * rng.standard_normal((50, 1)))
    return PredictiveDraws(mean, noise, None if nu is None else nu[:, None])


def test_normal_log_density_matches_scipy():
    d = _draws(None)
    y = np.linspace(1.8, 2.2, 7)
    expected = stats.norm.logpdf(y[None, :], loc=d.mean, scale=d.noise)
    np.testing.assert_allclose(d.log_density(y), expected, rtol=1e-12)


def test_student_t_log_density_matches_scipy():
    nu = np.random.default_rng(1).gamma(2.0, 10.0, size=50) + 0.5
    d = _draws(nu)
    y = np.linspace(1.8, 2.2, 7)
    expected = stats.t.logpdf(y[None, :], df=nu[:, None], loc=d.mean, scale=d.noise)
    np.testing.assert_allclose(d.log_density(y), expected, rtol=1e-10)
    # the plain function broadcasts the same way
    np.testing.assert_allclose(
        log_density(y[None, :], d.mean, d.noise, nu[:, None]), expected, rtol=1e-10
    )


def test_log_predictive_density_is_log_mean_density():
    d = _draws(None)
    y = np.linspace(1.8, 2.2, 7)
    by_scipy = special.logsumexp(stats.norm.logpdf(y, d.mean, d.noise), axis=0) - np.log(50)
    np.testing.assert_allclose(d.log_predictive_density(y), by_scipy, rtol=1e-12)


@pytest.mark.parametrize("nu", [None, np.full(50, 4.0)])
def test_sample_is_mean_plus_scaled_noise(nu):
    d = PredictiveDraws(np.full((50, 3), 2.0), np.full((50, 1), 0.1),
                        None if nu is None else nu[:, None])  # fmt: skip
    draws = d.sample(np.random.default_rng(2), replicates=400)
    assert draws.shape == (20000, 3)
    z = (draws - 2.0) / 0.1
    assert abs(z.mean()) < 0.03
    expected_sd = 1.0 if nu is None else np.sqrt(4.0 / 2.0)  # t(4): variance nu / (nu - 2)
    assert z.std() == pytest.approx(expected_sd, rel=0.05)


def test_take_keeps_draws_aligned():
    nu = np.arange(50, dtype=float) + 3
    d = _draws(nu)
    picked = d.take(np.array([4, 9]))
    np.testing.assert_array_equal(picked.mean, d.mean[[4, 9]])
    np.testing.assert_array_equal(picked.noise, d.noise[[4, 9]])
    np.testing.assert_array_equal(picked.nu[:, 0], [7.0, 12.0])
