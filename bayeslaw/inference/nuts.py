"""Running NUTS through PyMC (nutpie by default) and collecting what a report needs."""

from __future__ import annotations

import warnings
from typing import Any

import pymc as pm

from bayeslaw.inference.config import SamplerConfig

__all__ = ["sample_posterior"]


def sample_posterior(model: pm.Model, config: SamplerConfig, random_seed: int | None) -> Any:
    """Sample ``model`` and return a DataTree with posterior, sample stats, observed data,
    posterior predictive and pointwise log likelihood (for PSIS-LOO)."""
    with model:
        tree = pm.sample(
            draws=config.draws,
            tune=config.tune,
            chains=config.chains,
            random_seed=random_seed,
            nuts_sampler=config.sampler,
            target_accept=config.target_accept,
            progressbar=config.progressbar,
            compute_convergence_checks=False,
        )
        pm.compute_log_likelihood(tree, extend_inferencedata=True, progressbar=False)
        with warnings.catch_warnings():
            # the only Potential (the soft L_inf range) acts on parameters, which are held
            # at their posterior draws here; only the likelihood is sampled
            warnings.filterwarnings("ignore", message="The effect of Potentials")
            pm.sample_posterior_predictive(
                tree, extend_inferencedata=True, random_seed=random_seed, progressbar=False
            )
    return tree
