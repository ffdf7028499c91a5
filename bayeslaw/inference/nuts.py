"""Running NUTS (nutpie by default, its compiled sampler reused per model structure)."""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import pymc as pm
from pymc.util import get_random_generator

from bayeslaw.inference.compiled import CompileInfo, compiled_sampler
from bayeslaw.inference.config import SamplerConfig
from bayeslaw.inference.pointwise import OBSERVED

__all__ = ["sample_posterior"]

#: The observed variable's data container in :func:`bayeslaw.models.hierarchical.build_model`.
OBSERVED_DATA = "loss_observed"


def sample_posterior(
    model: pm.Model, config: SamplerConfig, random_seed: int | None, *, key: str
) -> tuple[Any, CompileInfo | None]:
    """Sample ``model`` and return a DataTree with posterior, sample stats and observed
    data (:mod:`bayeslaw.inference.pointwise` adds the log likelihood and posterior
    predictive), and, for nutpie, where its compiled sampler came from
    (:func:`~bayeslaw.inference.compiled.compiled_sampler`, keyed by the model's structure
    ``key``). The other samplers go through :func:`pymc.sample` and compile every time."""
    if config.sampler != "nutpie":
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
        return tree, None
    import nutpie
    import xarray as xr

    compiled, info = compiled_sampler(model, key)
    # nutpie takes one integer seed, derived from random_seed as pymc.sample derived it
    # before fits called nutpie directly (None: a fresh seed)
    seed = int(get_random_generator(random_seed).spawn(config.chains)[0].integers(2**30))
    start = time.perf_counter()
    tree = nutpie.sample(
        compiled,
        draws=config.draws,
        tune=max(config.tune, 1),  # nuts-rs needs at least one tuning step
        chains=config.chains,
        cores=min(4, os.cpu_count() or 1),  # as pymc.sample does
        seed=seed,
        save_warmup=False,
        progress_bar=config.progressbar,
        target_accept=config.target_accept,
    )
    tree["posterior"].attrs["sampling_time"] = time.perf_counter() - start
    observed = np.asarray(model[OBSERVED_DATA].get_value(), dtype=np.float64)
    coords = {"obs_id": np.arange(len(observed))}
    dataset = xr.Dataset({OBSERVED: (("obs_id",), observed)}, coords=coords)
    tree["observed_data"] = xr.DataTree(dataset)
    return tree, info
