"""Shared pytest configuration: a headless matplotlib backend, the shared data folder, and
a mocked NUTS sampler for the fast tier.

Tiers (``../shared/STYLE.md``): the fast tier checks plumbing on *mocked* posteriors
(:func:`mocked_sample_posterior`: no NUTS runs); tests that need a real sampler carry the
``slow`` marker.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis.configuration import set_hypothesis_home_dir

try:
    import matplotlib

    matplotlib.use("Agg")
except ImportError:  # pragma: no cover - matplotlib is a dependency, but keep tests importable
    pass

REPO_ROOT = Path(__file__).resolve().parent.parent

# Hypothesis caches the constants it finds in the code under ./.hypothesis even with no
# example database: keep that out of the working tree too
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="bayeslaw-hypothesis-"))


#: Where the fit function looks up its NUTS sampler (patched by the mock).
SAMPLER = "bayeslaw.inference.fitting.sample_posterior"
#: Spread of the mocked draws around the model's initial point (unconstrained space).
MOCK_JITTER = 0.05


def mocked_sample_posterior(model, config, random_seed, *, key):
    """A stand-in for NUTS with its output's shape: ``config.chains x config.draws`` points
    scattered around the model's initial point in the unconstrained space, mapped to every
    named variable, plus observed data and sample stats (no divergence, no tree-depth hit,
    Gaussian energy). Not a posterior: for plumbing only.

    ``pymc.testing.mock_sample`` cannot serve here: it draws from the prior, and the
    model's population means have a flat (improper) base prior that cannot be sampled.
    """
    from arviz_base import from_dict

    rng = np.random.default_rng(random_seed)
    start = model.initial_point()
    outputs = [v for v in model.unobserved_value_vars if v.name in model.named_vars]
    fn = model.compile_fn(outputs, inputs=model.value_vars, point_fn=False,
                          on_unused_input="ignore", mode="FAST_COMPILE")  # fmt: skip
    shape = (config.chains, config.draws)
    rows = []
    for _ in range(config.chains * config.draws):
        point = {k: v + MOCK_JITTER * rng.standard_normal(np.shape(v)) for k, v in start.items()}
        rows.append(fn(**point))
    posterior = {
        v.name: np.stack([r[i] for r in rows]).reshape(*shape, *np.shape(rows[0][i]))
        for i, v in enumerate(outputs)
    }
    stats = {
        "diverging": np.zeros(shape, dtype=bool),
        "maxdepth_reached": np.zeros(shape, dtype=bool),
        "energy": rng.standard_normal(shape),
    }
    dims = {k: [str(d) for d in v] for k, v in model.named_vars_to_dims.items()}
    observed = {"loss": np.asarray(model["loss_observed"].get_value())}
    tree = from_dict(
        {"posterior": posterior, "sample_stats": stats, "observed_data": observed},
        dims={**dims, "loss": ["obs_id"]},
        coords={k: list(v) for k, v in model.coords.items()},
    )
    return tree, None


@contextlib.contextmanager
def mocked_nuts() -> Iterator[None]:
    """Within the block, ``fit(method="nuts")`` uses :func:`mocked_sample_posterior`."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SAMPLER, mocked_sample_posterior)
        yield


@pytest.fixture
def mock_nuts() -> Iterator[None]:
    """The mocked sampler for one test (see :func:`mocked_sample_posterior`)."""
    with mocked_nuts():
        yield


@pytest.fixture(scope="session", autouse=True)
def compile_cache_dir(tmp_path_factory) -> Iterator[Path]:
    """Real fits save their compiled samplers in a session directory, not the user's
    cache (``bayeslaw.inference.compiled``); fits within the session still reuse them."""
    with pytest.MonkeyPatch.context() as patch:
        path = tmp_path_factory.mktemp("compiled")
        patch.setenv("BAYESLAW_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="session")
def fit_mocked():
    """``fit_mocked(obs, **kwargs)``: :func:`bayeslaw.inference.fitting.fit` with the mocked
    sampler, for session fixtures (which cannot use the function-scoped ``mock_nuts``)."""
    from bayeslaw.inference.fitting import fit

    def run(obs, **kwargs):
        with mocked_nuts():
            return fit(obs, **kwargs)

    return run


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
    """One fit of 3 synthetic groups by the mocked sampler (2 chains x 300 draws), shared by
    the session (read-only): everything of a NUTS fit but a real posterior."""
    from bayeslaw.datasets import simulate_moe
    from bayeslaw.inference.fitting import fit

    obs = simulate_moe(n_groups=3, seed=0).observations
    with mocked_nuts():
        return fit(
            obs, draws=300, tune=300, chains=2, random_seed=1, progressbar=False, check=False
        )
