"""Slow: NUTS recovers known population and group parameters from simulated data.

Tolerances, stated: on 3 simulated groups (moe_additive, noise 0.02, seed 11; the regime of
the shared router data),
- at least 80% of the 15 group-level parameters (raw units) lie inside their 90% intervals;
- every group's exponents have posterior means within 25% of the truth;
- the population medians of the exponents lie inside the 90% interval of exp(mu);
- the population log-slopes (A*alpha, B*beta) lie inside the 90% interval of exp(mu);
- the sampler is clean: no divergences, R-hat <= 1.01.

The fit runs 4 x 2000 draws after 2000 tuning steps, the longer run the convergence warning
itself advises: at the default 4 x 1000 the highest R-hat over this posterior's parameters
(``L_ref_offset``, the weakest-mixing, bulk ESS about 600) lands on either side of 1.01 by
seed alone (1.010, 1.005, 1.012 for seeds 11-13; 1.003 with 2000 draws; 2026-12-06), and
centring ``L_ref`` moves it both ways on 2-4 simulated groups and ``moe_by_router`` (README,
"Known limitations"), so no default is wrong there: the threshold sits at the noise of the
estimate.

With six or more groups the level and the first slope are centred
(:func:`bayeslaw.models.hierarchical.auto_centered`): all non-centred, six simulated groups
of 50 rows mixed poorly (R-hat 1.012-1.022). ``test_many_groups_sample_cleanly`` checks the
rule on ten groups.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayeslaw.datasets import simulate_moe
from bayeslaw.inference.fitting import fit

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def recovered():
    sim = simulate_moe(form="moe_additive", n_groups=3, seed=11)
    result = fit(sim.observations, random_seed=11, draws=2000, tune=2000, progressbar=False)
    return sim, result


def _share_inside(truth, table) -> float:
    """Share of true group parameters inside their interval in ``Fit.params`` ``table``."""
    inside = [
        table.loc[(g, p), "lower"] <= truth.loc[g, p] <= table.loc[(g, p), "upper"]
        for g in truth.index
        for p in truth.columns
    ]
    return float(np.mean(inside))


def _eti90(draws):
    return np.quantile(draws, [0.05, 0.95])


def test_group_parameters_are_recovered(recovered):
    sim, result = recovered
    truth = sim.raw_group_params()
    table = result.params(ci_prob=0.9)
    assert _share_inside(truth, table) >= 0.8
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
    assert not [p for p in result.record.convergence_problems if p.startswith("R-hat")]


def test_many_groups_sample_cleanly():
    """Ten simulated groups: the level and first slope are centred, and NUTS mixes.

    Stated tolerance: R-hat <= 1.02 here, not the 1.01 of the shared data: on this dataset
    (seed 5) ``alpha_sigma``, the between-group scale of a non-centred exponent, reaches
    R-hat 1.013 (bulk ESS 458); centring only ``L_ref`` gave 1.005 on it, but the level plus
    slope rule is what was measured on 30 and 100 groups (README, Known limitations)."""
    import arviz_stats

    sim = simulate_moe(form="moe_additive", n_groups=10, seed=5)
    result = fit(sim.observations, random_seed=5, progressbar=False, check=False)
    assert result.record.model.centered == ("L_ref", "A_slope")
    names = [*result.record.free_variables, "L_inf", "A", "alpha", "B", "beta"]
    summary = arviz_stats.summary(
        result.datatree, var_names=names, kind="diagnostics", round_to="none"
    )
    assert int(result.datatree["sample_stats"]["diverging"].sum()) == 0
    assert summary["r_hat"].max() <= 1.02
    assert summary["ess_bulk"].min() >= 400
    truth = sim.raw_group_params()
    table = result.params(ci_prob=0.9)
    assert _share_inside(truth, table) >= 0.8
