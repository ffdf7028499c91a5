"""``fit(..., sampler=...)`` passes through to PyMC's NUTS implementations."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from bayeslaw.datasets import simulate_moe
from bayeslaw.errors import BayeslawError
from bayeslaw.inference.fitting import fit

JAX_SAMPLERS = {"numpyro": "numpyro", "blackjax": "blackjax"}


def _tiny_fit(sampler: str):
    obs = simulate_moe(n_groups=2, seed=0).observations
    return fit(obs, sampler=sampler, draws=30, tune=30, chains=2, random_seed=0,
               progressbar=False, check=False)  # fmt: skip


def _check(result, sampler: str) -> None:
    tree = result.datatree
    assert result.record.sampling.settings["sampler"] == sampler
    assert tree["posterior"].sizes["chain"] == 2
    assert tree["posterior"].sizes["draw"] == 30
    assert {"log_likelihood", "posterior_predictive", "sample_stats"} <= set(tree.children)
    pred = result.predict({"dense_parameter_count": [1e9], "num_experts": [8.0]}, group="group_0")
    assert np.isfinite(pred[["mean", "lower", "upper"]].to_numpy()).all()


@pytest.mark.slow
def test_pymc_sampler():
    _check(_tiny_fit("pymc"), "pymc")


@pytest.mark.slow
@pytest.mark.parametrize("sampler", sorted(JAX_SAMPLERS))
def test_jax_samplers(sampler):
    if importlib.util.find_spec(JAX_SAMPLERS[sampler]) is None:
        pytest.skip(f"{sampler} is not installed (pip install -e '.[jax]')")
    _check(_tiny_fit(sampler), sampler)


def test_unknown_sampler_is_named():
    obs = simulate_moe(n_groups=2, seed=0).observations
    with pytest.raises(BayeslawError, match=r"nutpie.*stan"):
        fit(obs, sampler="stan", draws=10, tune=10)
