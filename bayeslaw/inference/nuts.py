"""Running NUTS through PyMC (nutpie by default) and collecting what a report needs."""

from __future__ import annotations

from typing import Any

import pymc as pm

from bayeslaw.inference.config import SamplerConfig

__all__ = ["sample_posterior"]


def sample_posterior(model: pm.Model, config: SamplerConfig, random_seed: int | None) -> Any:
    """Sample ``model`` and return a DataTree with posterior, sample stats and observed
    data (:mod:`bayeslaw.inference.pointwise` adds the log likelihood and posterior
    predictive)."""
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
    return tree
