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
def make_record():
    """``make_record(draws, method="nuts")``: the smallest honest FitRecord for a
    hand-built posterior (tests that build ``Fit`` from known draws)."""
    from bayeslaw.posterior.record import FitRecord, ModelRecord, Provenance, SamplingRecord

    def make(draws, *, method="nuts"):
        # hand-built draws have no prior: recorded as flat (what the report then shows)
        model = ModelRecord(
            form=draws.form_name,
            equation=draws.form.equation,
            pooling=draws.pooling,
            likelihood="normal" if draws.nu is None else "student_t",
            priors={"kind": "flat"},
            scales=dict(draws.scales),
            groups=tuple(draws.groups),
            inputs=tuple(draws.form.inputs),
        )
        provenance = Provenance(
            data_hash="none",
            data_source="hand-built draws",
            n_observations=0,
            bayeslaw_version="test",
            wall_time_s=0.0,
            created="2026-01-01T00:00:00+00:00",
        )
        return FitRecord(model, SamplingRecord(method, {}, None), provenance)

    return make


@pytest.fixture(scope="session")
def small_fit():
    """One real NUTS fit of 3 synthetic groups, shared by the session (read-only)."""
    from bayeslaw.datasets import simulate_moe
    from bayeslaw.inference.fitting import fit

    obs = simulate_moe(n_groups=3, seed=0).observations
    return fit(obs, draws=300, tune=300, chains=2, random_seed=1, progressbar=False, check=False)
