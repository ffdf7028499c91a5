"""Fixtures for the report tests: one tiny NUTS fit and one MAP fit per session.

The NUTS-shaped fit is deliberately tiny (2 groups, 2 chains x 50 draws) and made by the
mocked sampler of ``tests/conftest.py``: these tests check the plumbing of diagnostics, plots
and reports, not the quality of the posterior.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import matplotlib
import pytest

from bayeslaw.posterior.fit import Fit

matplotlib.use("Agg")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    """Collect ``browser_check.py`` (a test module that is also a script) with the rest;
    pytest collects it by itself only when it is named on the command line."""
    if file_path.name == "browser_check.py" and not parent.session.isinitpath(file_path):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


@pytest.fixture(scope="session")
def tiny_fit(fit_mocked) -> Fit:
    """A fit by the mocked NUTS sampler (2 chains x 50 draws), tiny on purpose; read-only."""
    from bayeslaw.datasets import simulate_moe

    obs = simulate_moe(n_groups=2, seed=0).observations
    return fit_mocked(obs, draws=50, tune=50, chains=2, progressbar=False, random_seed=1,
                      check=False)  # fmt: skip


@pytest.fixture(scope="session")
def map_fit() -> Fit:
    """A real MAP fit (partial pooling) of the tiny fit's data; treat it as read-only."""
    from bayeslaw.datasets import simulate_moe
    from bayeslaw.inference.fitting import fit

    obs = simulate_moe(n_groups=2, seed=0).observations
    return fit(obs, method="map", random_seed=1)


@pytest.fixture
def fit_without_data(tiny_fit: Fit) -> Fit:
    """The tiny fit as loaded from disk: posterior and DataTree, no observations."""
    return dataclasses.replace(tiny_fit, observations=None)
