"""The numbers behind the plots: curves, intervals, forest, predictive replicates, traces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayeslaw.errors import FitNotReadyError, ReportError
from bayeslaw.posterior.fit import POPULATION, Fit
from bayeslaw.reports.plots.forest import group_forest
from bayeslaw.reports.plots.law import law_curves, series_values
from bayeslaw.reports.plots.ppc import ppc_replicates, predictive_tree
from bayeslaw.reports.plots.predicted import dodge, interval_position, predicted_vs_observed
from bayeslaw.reports.plots.trace import worst_components

N, E = "dense_parameter_count", "num_experts"


def test_series_values():
    experts = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256, 512] * 3, dtype=float)
    assert series_values(experts).tolist() == [1, 4, 16, 128, 512]
    assert series_values(np.array([2.0, 8.0, 2.0])).tolist() == [2.0, 8.0]
    continuous = np.geomspace(1e9, 1e12, 200)
    picked = series_values(continuous)
    assert len(picked) == 5 and picked[0] == 1e9 and picked[-1] == 1e12


def test_law_curves(tiny_fit: Fit):
    curves = law_curves(tiny_fit, group="group_0")
    largest = tiny_fit.observations.frame[N].max()
    assert curves.attrs["x"] == N and curves.attrs["series"] == E
    assert sorted(curves["series"].unique()) == [1, 4, 16, 128, 512]
    assert curves[N].max() == pytest.approx(10 * largest)
    assert (curves["extrapolated"] == (curves[N] > largest)).all()
    assert curves["extrapolated"].any() and not curves["extrapolated"].all()
    assert ((curves["lower"] <= curves["mean"]) & (curves["mean"] <= curves["upper"])).all()
    assert (curves[E] == curves["series"]).all()
    short = law_curves(tiny_fit, group="group_0", extrapolate_to=1e8)
    assert not short["extrapolated"].any() and short[N].max() == pytest.approx(largest)


def test_law_curves_need_observations(fit_without_data: Fit):
    with pytest.raises(FitNotReadyError, match=r"fit\.observations ="):
        law_curves(fit_without_data, group="group_0")


def test_group_forest_matches_params(tiny_fit: Fit):
    forest = group_forest(tiny_fit).set_index(["group", "parameter"])
    params = tiny_fit.params()
    for column in ("mean", "lower", "upper"):
        assert forest.loc[params.index, column].to_numpy() == pytest.approx(params[column])
    assert forest.loc[POPULATION, "population"].all()
    assert ((forest["lower"] <= forest["median"]) & (forest["median"] <= forest["upper"])).all()


def test_predicted_vs_observed(tiny_fit: Fit):
    table = predicted_vs_observed(tiny_fit)
    assert len(table) == len(tiny_fit.observations)
    obs = tiny_fit.observations.frame.loc[table.index, "loss_validation"]
    assert table["observed"].to_numpy() == pytest.approx(obs.to_numpy())
    position = interval_position(table)
    assert ((position.abs() <= 1) == table["inside"]).all()
    mean_band = predicted_vs_observed(tiny_fit, kind="mean")
    assert ((mean_band["upper"] - mean_band["lower"]) < (table["upper"] - table["lower"])).all()


def test_interval_position_by_hand():
    table = pd.DataFrame(
        {"observed": [2.0, 0.5, 1.0], "mean": [1.0, 1.0, 1.0], "lower": [0.0, 0.5, 0.9]}
    ).assign(upper=[3.0, 2.0, 1.1])
    assert interval_position(table).tolist() == pytest.approx([0.5, -1.0, 0.0])


def test_dodge_spreads_points_at_one_size():
    table = pd.DataFrame({"x": [10.0, 10.0, 100.0]})
    x = dodge(table, table.index, "x", width=0.1)
    assert x[0] < 10 < x[1] and x[2] == pytest.approx(100.0)
    assert np.log10(x[1] / x[0]) == pytest.approx(0.05)


def test_ppc_replicates(tiny_fit: Fit, map_fit: Fit):
    reps = ppc_replicates(tiny_fit, n_replicates=7, random_seed=3)
    assert list(reps.columns) == ["group", "observed"] + [f"rep_{i}" for i in range(7)]
    again = ppc_replicates(tiny_fit, n_replicates=7, random_seed=3)
    pd.testing.assert_frame_equal(reps, again)
    # a MAP fit has one draw: its replicates scatter around the law by the group's noise
    plug_in = ppc_replicates(map_fit, n_replicates=2000, random_seed=4)
    values = plug_in.filter(like="rep_")
    obs = map_fit.observations
    law = map_fit.predict(obs.frame, group="group_0")["mean"].to_numpy()
    rows = (obs.frame["group"] == "group_0").to_numpy()
    noise = map_fit.draws.noise[0, 0]
    mean_error = values[rows].mean(axis=1).to_numpy() - law[rows]
    assert np.abs(mean_error).max() < 5 * noise / np.sqrt(2000)
    assert values[rows].std(axis=1).to_numpy() == pytest.approx(noise, rel=0.1)


def test_predictive_tree(tiny_fit: Fit, map_fit: Fit):
    tree, kind = predictive_tree(tiny_fit)
    assert kind == "LOO-PIT" and tree is tiny_fit.datatree
    plug_in, kind = predictive_tree(map_fit, n_replicates=40, random_seed=2)
    assert kind == "plug-in PIT (MAP)"
    values = plug_in["posterior_predictive"]["loss"].values
    assert values.shape == (1, 40, len(map_fit.observations))
    reps = ppc_replicates(map_fit, n_replicates=40, random_seed=2).filter(like="rep_")
    np.testing.assert_array_equal(values[0], reps.to_numpy().T)
    observed = plug_in["observed_data"]["loss"].values
    np.testing.assert_array_equal(observed, map_fit.observations.y)


def test_worst_components(tiny_fit: Fit):
    import arviz_stats as azs

    data = worst_components(tiny_fit, max_panels=3)["posterior"]
    assert len(data.data_vars) == 3 and dict(data.sizes) == {"chain": 2, "draw": 50}
    r_hat = [v.attrs["r_hat"] for v in data.data_vars.values()]
    assert r_hat == sorted(r_hat, reverse=True)
    alpha = tiny_fit.datatree["posterior"]["alpha"].sel(group="group_1").values
    chosen = worst_components(tiny_fit, var_names=["alpha[group_1]", "noise_group"])["posterior"]
    assert list(chosen.data_vars) == [
        "alpha[group_1]",
        "noise_group[group_0]",
        "noise_group[group_1]",
    ]
    np.testing.assert_array_equal(chosen["alpha[group_1]"].values, alpha)
    assert chosen["alpha[group_1]"].attrs["r_hat"] == pytest.approx(float(azs.rhat(alpha)))


def test_worst_components_errors(tiny_fit: Fit, map_fit: Fit):
    with pytest.raises(ReportError, match="nope"):
        worst_components(tiny_fit, var_names=["nope"])
    with pytest.raises(FitNotReadyError, match="method='nuts'"):
        worst_components(map_fit)
