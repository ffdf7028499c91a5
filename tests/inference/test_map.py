"""MAP with flat priors and no pooling reproduces the classical point fits.

The point-fit predictor (../shared/reference/point_fit_law.txt) grid-searches
(alpha, beta) over linspace(0.05, 2.0, 40)^2 and solves (L_inf, A, B) by linear least
squares. Re-implemented here as the baseline, with a multi-start bounded
``scipy.optimize.least_squares`` over the same bounds as the reference optimum.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from bayeslaw.data import load_observations
from bayeslaw.inference.fitting import fit

BOUNDS = (0.05, 2.0)


def grid_search_mse(n: np.ndarray, e: np.ndarray, y: np.ndarray) -> float:
    best = np.inf
    for alpha in np.linspace(*BOUNDS, 40):
        for beta in np.linspace(*BOUNDS, 40):
            design = np.stack([np.ones_like(n), n**-alpha, e**-beta], axis=1)
            coef, *_ = np.linalg.lstsq(design, y, rcond=None)
            best = min(best, float(np.mean((y - design @ coef) ** 2)))
    return best


def least_squares_mse(n: np.ndarray, e: np.ndarray, y: np.ndarray) -> float:
    x = n / 1e8  # conditioning only; the optimum in raw units is the same

    def residuals(p):
        return p[0] + p[1] * x ** -p[2] + p[3] * e ** -p[4] - y

    lower = [-np.inf, -np.inf, BOUNDS[0], -np.inf, BOUNDS[0]]
    upper = [np.inf, np.inf, BOUNDS[1], np.inf, BOUNDS[1]]
    best = np.inf
    for alpha in (0.1, 0.3, 0.7, 1.5):
        for beta in (0.06, 0.2, 0.6, 1.5):
            design = np.stack([np.ones_like(x), x**-alpha, e**-beta], axis=1)
            c, *_ = np.linalg.lstsq(design, y, rcond=None)
            res = optimize.least_squares(
                residuals, [c[0], c[1], alpha, c[2], beta], bounds=(lower, upper),
                xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=20000,
            )  # fmt: skip
            best = min(best, float(np.mean(res.fun**2)))
    return best


@pytest.mark.parametrize("dataset", ["sldbench_moe", "moe_by_router"])
def test_map_matches_or_beats_the_point_fits(shared_data_dir, dataset):
    obs = load_observations(shared_data_dir / dataset)
    point = fit(obs, method="map", priors="flat", pooling="none", random_seed=0)
    for group in obs.groups:
        rows = obs.frame[obs.frame["group"] == group]
        n, e, y = (rows[c].to_numpy() for c in ("dense_parameter_count", "num_experts",
                                                 "loss_validation"))  # fmt: skip
        pred = point.predict(rows, group=group)["mean"].to_numpy()
        map_mse = float(np.mean((y - pred) ** 2))
        assert map_mse <= grid_search_mse(n, e, y) + 1e-12, group
        assert abs(map_mse - least_squares_mse(n, e, y)) <= 1e-6, group


def test_map_is_robust_to_its_starts(shared_data_dir):
    obs = load_observations(shared_data_dir / "moe_by_router")
    fits = [fit(obs, method="map", priors="flat", pooling="none", random_seed=s) for s in (1, 2)]
    a, b = (f.params(raw=False)["mean"].to_numpy() for f in fits)
    np.testing.assert_allclose(a, b, rtol=1e-4)


def test_partial_pooling_map_does_not_collapse_groups(shared_data_dir):
    """Without the Jacobian of log(sigma) the joint mode is sigma = 0: on moe_by_router
    every router got alpha = 0.235385 (sigma 1e-6); with it the routers differ."""
    obs = load_observations(shared_data_dir / "moe_by_router")
    point = fit(obs, method="map", pooling="partial", random_seed=0)
    alpha = point.params().xs("alpha", level="parameter")["mean"].drop("<population>")
    assert alpha.max() - alpha.min() > 1e-3, alpha
    assert float(point.datatree["posterior"]["alpha_sigma"].min()) > 1e-2
