"""Slow: NUTS recovers known population and group parameters from simulated data.

Tolerances, stated: on 6 simulated groups (moe_additive, noise 0.02, seed 11),
- at least 80% of the 30 group-level parameters (raw units) lie inside their 90% intervals;
- every group's exponents have posterior means within 25% of the truth;
- the population medians of the exponents lie inside the 90% interval of exp(mu);
- the population log-slopes (A*alpha, B*beta) lie inside the 90% interval of exp(mu);
- the sampler is clean: no divergences, R-hat <= 1.01.

Six groups need longer chains than the default 4 x 1000 (measured: R-hat up to 1.03 on a few
group-level offsets of the loss at the reference point), as the convergence warning
advises; the test runs tune=2000, draws=2000.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayeslaw.datasets import simulate_moe
from bayeslaw.inference.fitting import fit

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def recovered():
    sim = simulate_moe(form="moe_additive", n_groups=6, seed=11)
    return sim, fit(sim.observations, draws=2000, tune=2000, random_seed=11, progressbar=False)


def _eti90(draws):
    return np.quantile(draws, [0.05, 0.95])


def test_group_parameters_are_recovered(recovered):
    sim, result = recovered
    truth = sim.raw_group_params()
    table = result.params(ci_prob=0.9)
    inside = [
        table.loc[(g, p), "lower"] <= truth.loc[g, p] <= table.loc[(g, p), "upper"]
        for g in truth.index
        for p in truth.columns
    ]
    assert np.mean(inside) >= 0.8
    for g in truth.index:
        for p in ("alpha", "beta"):
            assert table.loc[(g, p), "mean"] == pytest.approx(truth.loc[g, p], rel=0.25)


def test_population_level_is_recovered(recovered):
    sim, result = recovered
    post = result.datatree["posterior"]
    pop = sim.population
    expected = {
        "alpha_mu": pop["alpha"],
        "beta_mu": pop["beta"],
        "A_slope_mu": pop["A"] * pop["alpha"],
        "B_slope_mu": pop["B"] * pop["beta"],
    }
    for name, value in expected.items():
        lower, upper = _eti90(np.exp(post[name].values.ravel()))
        assert lower <= value <= upper, (name, lower, value, upper)


def test_sampler_is_clean(recovered):
    _, result = recovered
    assert int(result.datatree["sample_stats"]["diverging"].sum()) == 0
    assert not [p for p in result.info["convergence_problems"] if p.startswith("R-hat")]
