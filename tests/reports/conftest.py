"""Fixtures for the report tests: one tiny NUTS fit per session, and fits derived from it.

The NUTS fit is deliberately tiny (2 groups, 2 chains x 50 draws): these tests check the
plumbing of diagnostics, plots and reports, not the quality of the posterior. The MAP-like
fit is hand-built from its first draw (a real MAP fit takes far longer than the rest).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import matplotlib
import pytest

from bayeslaw.inference.posterior import PosteriorDraws
from bayeslaw.inference.result import Fit

matplotlib.use("Agg")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    """Collect ``browser_check.py`` (a test module that is also a script) with the rest;
    pytest collects it by itself only when it is named on the command line."""
    if file_path.name == "browser_check.py" and not parent.session.isinitpath(file_path):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


@pytest.fixture(scope="session")
def tiny_fit() -> Fit:
    """A real NUTS fit, tiny on purpose; treat it as read-only."""
    from bayeslaw.datasets import simulate_moe
    from bayeslaw.inference.fitting import fit

    obs = simulate_moe(n_groups=2, seed=0).observations
    return fit(obs, draws=50, tune=50, chains=2, progressbar=False, random_seed=1, check=False)


def _first_draw(draws: PosteriorDraws) -> PosteriorDraws:
    population = None
    if draws.population is not None:
        population = {k: (mu[:1], sd[:1]) for k, (mu, sd) in draws.population.items()}
    return dataclasses.replace(
        draws,
        theta={k: v[:1] for k, v in draws.theta.items()},
        noise=draws.noise[:1],
        nu=None if draws.nu is None else draws.nu[:1],
        population=population,
    )


@pytest.fixture(scope="session")
def map_fit(tiny_fit: Fit) -> Fit:
    """A MAP-shaped fit: one draw, a DataTree with only posterior and observed data."""
    import xarray as xr

    tree = tiny_fit.datatree
    posterior = tree["posterior"].to_dataset().isel(chain=[0], draw=[0])
    map_tree = xr.DataTree.from_dict(
        {"posterior": posterior, "observed_data": tree["observed_data"].to_dataset()}
    )
    info = {**tiny_fit.info, "method": "map", "sampler": {"map_starts": 12}}
    return Fit(info, _first_draw(tiny_fit.draws), tiny_fit.observations, _datatree=map_tree)


@pytest.fixture
def fit_without_data(tiny_fit: Fit) -> Fit:
    """The tiny fit as loaded from disk: posterior and DataTree, no observations."""
    return dataclasses.replace(tiny_fit, observations=None)
