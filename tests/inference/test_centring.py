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
    """A stand-in for the pilot: each coordinate's (and ``"<coord>:<factor>"`` term's) ratio
    as given; a crossed model's terms not given measure nothing (ratio infinite)."""

    def information(obs, spec, *, random_seed=None):
        out = {c: {"cell_sd": r, "max_cell_sd": r, "spread": 1.0, "between": 1.0, "ratio": r}
               for c, r in ratios.items() if ":" not in c}  # fmt: skip
        for c in list(out):
            for f in spec.factor_names:
                r = ratios.get(f"{c}:{f}", np.inf)
                out[f"{c}:{f}"] = {"level_sd": r, "between": 1.0, "ratio": r}
        return out

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


def test_level_information_measures_each_factors_effects():
    rng = np.random.default_rng(0)
    models, datasets = np.repeat(["m0", "m1", "m2", "m3"], 3), np.tile(["d0", "d1", "d2"], 4)
    model_effect = np.array([0.3, -0.1, 0.0, -0.2])  # zero-sum, as the fit's effects are
    dataset_effect = np.array([0.5, -0.25, -0.25])
    exact = (1.0 + model_effect[np.repeat(np.arange(4), 3)]
             + dataset_effect[np.tile(np.arange(3), 4)])  # fmt: skip
    levels = {"model": models, "dataset": datasets}
    got = centring.level_information(exact, levels, noise=0.0)
    # without noise the effects are exact: between is their sd, measured to no error
    assert got["model"]["between"] == pytest.approx(np.std(model_effect, ddof=1))
    assert got["dataset"]["between"] == pytest.approx(np.std(dataset_effect, ddof=1))
    assert got["model"]["level_sd"] == pytest.approx(0.0, abs=1e-12) and got["model"]["ratio"] == 0
    # balanced: a model's effect is its row mean less the grand mean, sd noise sqrt(3/4 / 3)
    noisy = centring.level_information(exact + 0.05 * rng.standard_normal(12), levels, 0.05)
    assert noisy["model"]["level_sd"] == pytest.approx(0.05 * np.sqrt(0.75 / 3))
    assert noisy["dataset"]["level_sd"] == pytest.approx(0.05 * np.sqrt((2 / 3) / 4))
    info = noisy["dataset"]
    assert info["ratio"] == pytest.approx(info["level_sd"] / info["between"])
    # levels that do not differ beyond the noise: no between-level sd, ratio infinite
    flat = centring.level_information(1.0 + 0.05 * rng.standard_normal(12), levels, 1.0)
    assert flat["model"]["between"] == 0 and flat["model"]["ratio"] == np.inf
    # nothing to measure the noise with: nothing measured
    unmeasured = centring.level_information(exact, levels, np.nan)
    assert all(v["ratio"] == np.inf for v in unmeasured.values())


def test_level_information_stays_on_the_noise_scale_with_a_nested_interaction():
    """An interaction nested in one factor (over-training's validation sets by source, C4's
    two sharing one, crossed with the training corpus) makes the additive design singular;
    its near-zero singular values must not blow up the effects' sds (they came out 1e4 to
    1e5 times the noise, and the pilot centred by that noise)."""
    trains = ["c4_original", "rpj", "rw_original"]
    evals = ["c4_val", "de-en", "openlm", "paloma_c4_en", "paloma_dolma", "paloma_falcon",
             "paloma_ptb", "paloma_redpajama"]  # fmt: skip
    source = {"c4_val": "c4", "paloma_c4_en": "c4"}
    cells = [(t, e) for t in trains for e in evals]
    levels = {
        "train_dataset": [t for t, _ in cells],
        "eval_set": [e for _, e in cells],
        "source:train_dataset": [f"{source.get(e, e)}:{t}" for t, e in cells],
    }
    values = np.random.default_rng(0).normal(size=len(cells))
    got = centring.level_information(values, levels, noise=0.1)
    for factor, info in got.items():
        assert 0 < info["level_sd"] < 0.1, factor
        assert np.isfinite(info["ratio"]), factor


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


def test_data_centred_centres_the_effects_the_levels_pin(sim, monkeypatch):
    obs = sim.observations
    monkeypatch.setattr(centring, "laplace_information",
                        canned({"L_ref": 0.05, "alpha": 0.35, "A_slope": 0.2, "L_ref:model": 0.1,
                                "alpha:model": 0.1, "A_slope:dataset": 0.1,
                                "A_slope:model": 0.5}))  # fmt: skip
    spec = ModelSpec.from_observations(obs, form=FORM)
    # alpha's cells keep non-centred offsets: its model effects stay non-centred as well
    assert centring.data_centred(obs, spec) == (
        "L_ref:cell", "L_ref:model", "A_slope:cell", "A_slope:dataset",
    )  # fmt: skip
    # without cells' offsets a coordinate's effects follow their own ratio
    spec = ModelSpec.from_observations(obs, form=FORM, interaction=["alpha", "A_slope"])
    assert centring.data_centred(obs, spec) == ("L_ref:model", "A_slope:cell", "A_slope:dataset")
    spec = ModelSpec.from_observations(obs, form=FORM, interaction=False)
    assert centring.data_centred(obs, spec) == ("L_ref:model", "alpha:model", "A_slope:dataset")
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
    names = {"L_ref", "alpha", "A_slope"}
    assert set(got) == names | {f"{c}:{f}" for c in names for f in ("model", "dataset")}
    for c in (got[n] for n in names):
        assert 0 < c["cell_sd"] <= c["max_cell_sd"] and c["spread"] > 0
        # the between-cell sd is the spread less the cells' own noise
        assert c["between"] == pytest.approx(np.sqrt(max(c["spread"] ** 2 - c["cell_sd"] ** 2, 0)))
        assert c["ratio"] == pytest.approx(c["cell_sd"] / c["between"])
    # each curve pins its level far better than its exponent (one alpha, cells barely differ)
    assert got["L_ref"]["ratio"] < centring.CENTRE_BELOW < got["alpha"]["ratio"]
    # the simulation's levels differ in L_ref and A, not in alpha (one shared)
    for term in ("L_ref:model", "L_ref:dataset", "A_slope:model", "A_slope:dataset"):
        assert got[term]["ratio"] < centring.CENTRE_BELOW
    assert got["alpha:model"]["ratio"] > 1 and got["alpha:dataset"]["ratio"] > 1
    # A_slope's cells barely differ (cell_sd 0.02): centring them gave divergences, and its
    # effects stay non-centred with its cells (R-hat 1.02-1.03 when centred)
    assert centring.data_centred(obs, spec, random_seed=0) == (
        "L_ref:cell", "L_ref:model", "L_ref:dataset",
    )  # fmt: skip
