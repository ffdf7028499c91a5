"""Centring chosen from the data (bayeslaw.inference.centring, ``fit(centered="data")``).

The decision and its wiring run on canned pilot numbers; the pilot itself (MAP, a
finite-difference Hessian) on simulated crossed curves is ``slow``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bayeslaw import cli
from bayeslaw.datasets import simulate_crossed, simulate_moe
from bayeslaw.errors import PriorError
from bayeslaw.inference import centring
from bayeslaw.inference.fitting import fit
from bayeslaw.models.hierarchical import ModelSpec, build_model

FORM = "additive(D)"


@pytest.fixture(scope="module")
def sim():
    return simulate_crossed(n_models=4, n_datasets=3, missing=[(0, 0)], seed=0)


def canned(ratios):
    """A stand-in for the pilot: each coordinate's ratio as given."""

    def information(obs, spec, *, random_seed=None):
        return {c: {"cell_sd": r, "max_cell_sd": r, "spread": 1.0, "between": 1.0, "ratio": r}
                for c, r in ratios.items()}  # fmt: skip

    return information


def test_additive_spread_is_the_residual_sd_after_the_levels_effects():
    models = ["m0", "m0", "m1", "m1", "m2", "m2"]
    datasets = ["d0", "d1", "d0", "d1", "d0", "d1"]
    effect = {"m0": 0.0, "m1": 1.0, "m2": -2.0, "d0": 0.0, "d1": 0.5}
    additive = np.array(
        [3.0 + effect[m] + effect[d] for m, d in zip(models, datasets, strict=True)]
    )
    levels = {"model": models, "dataset": datasets}
    assert centring.additive_spread(additive, levels) == pytest.approx(0.0, abs=1e-12)
    # an interaction with zero row and column sums is all residual: 4 e^2 over 6 - 4 dof
    e = 0.1
    bump = e * np.array([1.0, -1.0, -1.0, 1.0, 0.0, 0.0])
    assert centring.additive_spread(additive + bump, levels) == pytest.approx(e * np.sqrt(2.0))
    # one factor: the sd around the mean
    assert centring.additive_spread(np.array([1.0, 2.0, 3.0]), {}) == pytest.approx(1.0)
    # nothing left to measure a spread with
    assert np.isnan(centring.additive_spread(additive[1:3], {"model": models[1:3]}))


def test_data_centred_centres_the_cells_the_data_pin(sim, monkeypatch):
    obs = sim.observations
    monkeypatch.setattr(centring, "laplace_information",
                        canned({"L_ref": 0.05, "alpha": 0.35, "A_slope": 0.2}))  # fmt: skip
    spec = ModelSpec.from_observations(obs, form=FORM)
    assert centring.data_centred(obs, spec) == ("L_ref:cell", "A_slope:cell")
    # cell offsets only where the model has them
    spec = ModelSpec.from_observations(obs, form=FORM, interaction=["alpha", "A_slope"])
    assert centring.data_centred(obs, spec) == ("A_slope:cell",)
    spec = ModelSpec.from_observations(obs, form=FORM, interaction=False)
    assert centring.data_centred(obs, spec) == ()
    # below six groups nothing is centred, whatever the numbers
    few = simulate_crossed(n_models=2, n_datasets=2, seed=0).observations
    assert centring.data_centred(few, ModelSpec.from_observations(few, form=FORM)) == ()


def test_data_centred_names_coordinates_for_one_factor(monkeypatch):
    obs = simulate_moe(n_groups=6, seed=0).observations
    monkeypatch.setattr(centring, "laplace_information",
                        canned({"L_ref": 0.25, "A_slope": 0.6, "B_slope": 0.1, "alpha": 2.0,
                                "beta": 0.35}))  # fmt: skip
    spec = ModelSpec.from_observations(obs, form="moe_additive")
    assert set(centring.data_centred(obs, spec)) == {"L_ref", "B_slope"}


def test_fit_records_the_centring_the_data_chose(sim, monkeypatch, mock_nuts):
    calls = []

    def information(obs, spec, *, random_seed=None):
        calls.append(random_seed)
        return canned({"L_ref": 0.1, "alpha": 0.8, "A_slope": 0.2})(obs, spec)

    monkeypatch.setattr(centring, "laplace_information", information)
    got = fit(sim.observations, form=FORM, centered="data", draws=20, tune=20, chains=2,
              random_seed=5, progressbar=False, check=False)  # fmt: skip
    assert got.record.model.centered == ("L_ref:cell", "A_slope:cell") and calls == [5]
    # the same pilot keeps cell offsets where the cells differ: alpha's 0.8 drops them
    assert got.record.model.interaction == ("L_ref", "A_slope")
    got = fit(sim.observations, form=FORM, interaction=True, draws=20, tune=20, chains=2,
              random_seed=5, progressbar=False, check=False)  # fmt: skip
    assert got.record.model.interaction == ("L_ref", "alpha", "A_slope")
    assert got.record.model.centered == ("L_ref:cell", "A_slope:cell") and calls == [5, 5]
    # MAP is always non-centred: no pilot runs
    got = fit(sim.observations, form=FORM, method="map", centered="data", random_seed=5)
    assert got.record.model.centered == () and calls == [5, 5]
    assert got.record.model.interaction == ("L_ref", "alpha", "A_slope")
    with pytest.raises(PriorError, match="'data' or a list"):
        fit(sim.observations, form=FORM, centered="L_ref", random_seed=5)


def test_cli_passes_data_centring_through():
    assert cli._centered("data") == "data"
    assert cli._centered("auto") is None and cli._centered("none") == ()


@pytest.mark.slow
def test_pilot_on_simulated_crossed_curves(sim):
    obs = sim.observations
    spec = ModelSpec.from_observations(obs, form=FORM)
    pilot = ModelSpec(spec.form, "none", spec.likelihood, spec.priors, spec.scales, spec.groups)
    model = build_model(obs, pilot)
    point = {k: np.asarray(v) for k, v in model.initial_point().items()}
    # the finite-difference Hessian matches PyTensor's symbolic one
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        symbolic = model.compile_d2logp(model.free_RVs, negate_output=False)(point)
    np.testing.assert_allclose(centring._hessian(model, point), symbolic, rtol=1e-4, atol=1e-4)
    got = centring.laplace_information(obs, spec, random_seed=0)
    assert set(got) == {"L_ref", "alpha", "A_slope"}
    for c in got.values():
        assert 0 < c["cell_sd"] <= c["max_cell_sd"] and c["spread"] > 0
        # the between-cell sd is the spread less the cells' own noise
        assert c["between"] == pytest.approx(np.sqrt(max(c["spread"] ** 2 - c["cell_sd"] ** 2, 0)))
        assert c["ratio"] == pytest.approx(c["cell_sd"] / c["between"])
    # each curve pins its level far better than its exponent (one alpha, cells barely differ)
    assert got["L_ref"]["ratio"] < centring.CENTRE_BELOW < got["alpha"]["ratio"]
    # A_slope's cells barely differ (cell_sd 0.02): centring them gave divergences
    assert centring.data_centred(obs, spec, random_seed=0) == ("L_ref:cell",)
