"""Pointwise log likelihood and posterior predictive draws, computed in numpy.

Both follow from the posterior draws in closed form: the law's mean loss per draw and
observation (the numpy form :class:`~bayeslaw.inference.posterior.PosteriorDraws` already
evaluates for predictions), the group's noise scale and, for Student-t, ``nu``. Computing
them here instead of with ``pm.compute_log_likelihood`` and
``pm.sample_posterior_predictive`` saves two PyTensor compilations per fit (measured on
``moe_by_router``, nutpie, fresh process: 4.0 s with an empty compile cache, 1.2 s with a
warm one, of a 10-25 s fit). A test checks the log likelihood against PyMC's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from bayeslaw.data import Observations
from bayeslaw.inference.posterior import PosteriorDraws

__all__ = ["add_pointwise", "log_density", "mean_per_observation"]

#: The observed variable of :func:`bayeslaw.models.hierarchical.build_model`.
OBSERVED = "loss"


def log_density(
    y: np.ndarray, mean: np.ndarray, noise: np.ndarray, nu: np.ndarray | None
) -> np.ndarray:
    """Log density of losses ``y`` under the likelihood, per draw and row: Normal, or
    Student-t with ``nu`` degrees of freedom (arrays broadcast against ``mean``)."""
    if nu is None:
        return np.asarray(stats.norm.logpdf(y, loc=mean, scale=noise))
    return np.asarray(stats.t.logpdf(y, df=nu, loc=mean, scale=noise))


def mean_per_observation(draws: PosteriorDraws, obs: Observations) -> np.ndarray:
    """Draws ``(S, n)`` of the law's mean loss at every training row (each in its group)."""
    out = np.empty((draws.n_draws, len(obs)))
    inputs = obs.input_values()
    index = obs.group_index
    for g, group in enumerate(draws.groups):
        rows = np.flatnonzero(index == g)
        out[:, rows] = draws.mean_draws({k: v[rows] for k, v in inputs.items()}, group)
    return out


def add_pointwise(
    tree: Any,
    draws: PosteriorDraws,
    obs: Observations,
    *,
    likelihood: str,
    random_seed: int | None,
) -> Any:
    """Add ``log_likelihood`` and ``posterior_predictive`` groups to a sampled DataTree.

    Their variable ``loss`` has the dims of ``observed_data["loss"]``; draws follow the
    posterior's ``(chain, draw)`` order (:class:`PosteriorDraws` flattens chain-major).
    """
    import xarray as xr

    observed = tree["observed_data"][OBSERVED]
    posterior = tree["posterior"]
    n_chain, n_draw = posterior.sizes["chain"], posterior.sizes["draw"]
    mu = mean_per_observation(draws, obs)
    sigma = draws.noise[:, obs.group_index]
    y = np.asarray(observed.values, dtype=np.float64)[None, :]
    rng = np.random.default_rng(random_seed)
    if likelihood == "student_t":
        if draws.nu is None:
            raise ValueError("a Student-t fit needs its nu draws")
        nu = draws.nu[:, None]
        log_lik = log_density(y, mu, sigma, nu)
        replicated = mu + sigma * rng.standard_t(np.broadcast_to(nu, mu.shape))
    else:
        log_lik = log_density(y, mu, sigma, None)
        replicated = rng.normal(mu, sigma)
    dims = ("chain", "draw", *observed.dims)
    coords = {
        "chain": posterior["chain"].values,
        "draw": posterior["draw"].values,
        **{d: observed[d].values for d in observed.dims},
    }
    for name, values in (("log_likelihood", log_lik), ("posterior_predictive", replicated)):
        data = values.reshape(n_chain, n_draw, -1)
        dataset = xr.Dataset({OBSERVED: (dims, data)}, coords=coords)
        dataset.attrs["sample_dims"] = ["chain", "draw"]
        tree[name] = xr.DataTree(dataset)
    return tree
