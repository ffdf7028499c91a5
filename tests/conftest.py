"""Shared pytest configuration: a headless matplotlib backend and the shared data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

try:
    import matplotlib

    matplotlib.use("Agg")
except ImportError:  # pragma: no cover - matplotlib is a dependency, but keep tests importable
    pass

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """Return ``<repo root>/../shared/data``, skipping the test when it is absent."""
    path = REPO_ROOT.parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(
            "../shared/data is absent: the shared SLDBench/routing data sits beside the repo "
            "checkout; clone next to it to run these tests"
        )
    return path


@pytest.fixture(scope="session")
def small_fit():
    """One real NUTS fit of 3 synthetic groups, shared by the session (read-only)."""
    from bayeslaw.datasets import simulate_moe
    from bayeslaw.inference.fitting import fit

    obs = simulate_moe(n_groups=3, seed=0).observations
    return fit(obs, draws=300, tune=300, chains=2, random_seed=1, progressbar=False, check=False)
