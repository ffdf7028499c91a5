"""fit(): the Fit object, its DataTree, predictions, intervals and unseen groups."""

from __future__ import annotations

import numpy as np
import pytest

from bayeslaw.datasets import simulate_moe
from bayeslaw.errors import (
    BayeslawError,
    DataError,
    DataWarning,
    FormError,
    PredictionInputError,
    PriorError,
)
from bayeslaw.evaluation.selection import fit as public_fit
from bayeslaw.inference.diagnostics import ConvergenceWarning
from bayeslaw.inference.fitting import fit
from bayeslaw.posterior.fit import POPULATION

N, E = "dense_parameter_count", "num_experts"
GRID = {N: np.array([2e7, 3.7e8, 1.3e9]), E: np.array([1.0, 64.0, 64.0])}


def test_fit_holds_a_complete_datatree(small_fit):
    tree = small_fit.datatree
    for group in ("posterior", "sample_stats", "observed_data", "posterior_predictive"):
        assert group in tree.children
    assert "loss" in tree["log_likelihood"]
    assert small_fit.wall_time > 0
    assert small_fit.record.form == "moe_additive"
    assert small_fit.record.provenance.data_hash == small_fit.observations.content_hash()
    assert small_fit.draws.n_draws == 600


def test_predict_is_the_mean_over_draws_of_the_law(small_fit):
    """The additive law written out by hand on the stored draws (scaled units)."""
    pred = small_fit.predict(GRID, group="group_0")
    g = small_fit.groups.index("group_0")
    t = {k: v[:, g][:, None] for k, v in small_fit.draws.theta.items()}
    n = GRID[N][None, :] / small_fit.draws.scales[N]
    e = GRID[E][None, :] / small_fit.draws.scales[E]
    by_hand = t["L_inf"] + t["A"] * n ** -t["alpha"] + t["B"] * e ** -t["beta"]
    np.testing.assert_allclose(pred["mean"], by_hand.mean(axis=0), rtol=1e-12)
    lower, upper = np.quantile(by_hand, [0.05, 0.95], axis=0)
    np.testing.assert_allclose(pred["lower"], lower, rtol=1e-12)
    np.testing.assert_allclose(pred["upper"], upper, rtol=1e-12)


def test_observation_intervals_include_noise(small_fit):
    mean = small_fit.predict(GRID, group="group_1", kind="mean")
    obs = small_fit.predict(GRID, group="group_1", kind="observation")
    assert ((obs["upper"] - obs["lower"]) > (mean["upper"] - mean["lower"])).all()


def test_unseen_group_uses_the_population_and_is_wider(small_fit):
    seen = small_fit.predict(GRID, group="group_0")
    new = small_fit.predict(GRID, group="a_new_router")
    assert not new["seen_group"].any() and seen["seen_group"].all()
    assert ((new["upper"] - new["lower"]) > (seen["upper"] - seen["lower"])).all()
    again = small_fit.predict(GRID, group="a_new_router")
    np.testing.assert_array_equal(new["mean"], again["mean"])  # reproducible


def test_params_table_raw_units_and_population(small_fit):
    table = small_fit.params()
    assert set(table.index.get_level_values("group")) == {
        "group_0",
        "group_1",
        "group_2",
        POPULATION,
    }
    assert ((table["lower"] <= table["median"]) & (table["median"] <= table["upper"])).all()
    a_raw = table.loc[("group_0", "A"), "mean"]
    a_scaled = small_fit.params(raw=False).loc[("group_0", "A"), "mean"]
    assert a_raw > 100 * a_scaled  # A for raw N = A_scaled * 1e8**alpha


def test_bad_prediction_inputs_are_named(small_fit):
    with pytest.raises(PredictionInputError, match="num_experts"):
        small_fit.predict({N: [1e8]}, group="group_0")
    with pytest.raises(PredictionInputError, match=r"rows \[1\]"):
        small_fit.predict({N: [1e8, -1.0], E: [1.0, 2.0]}, group="group_0")
    with pytest.raises(PredictionInputError, match="kind"):
        small_fit.predict(GRID, group="group_0", kind="median")


def test_map_fit_is_one_draw_and_flat_nuts_is_refused():
    obs = simulate_moe(n_groups=2, seed=0).observations
    point = fit(obs, method="map", pooling="none", random_seed=0)
    assert point.draws.n_draws == 1
    pred = point.predict(GRID, group="group_0")
    np.testing.assert_allclose(pred["lower"], pred["mean"])
    with pytest.raises(PredictionInputError, match="pooling='partial'"):
        point.predict(GRID, group="unknown")
    with pytest.raises(PriorError, match="method='map'"):
        fit(obs, priors="flat", pooling="none")


def test_convergence_problems_are_warned_by_name(mock_nuts):
    obs = simulate_moe(n_groups=2, seed=0).observations
    with pytest.warns(ConvergenceWarning) as record:
        result = fit(obs, draws=20, tune=20, chains=2, random_seed=0, progressbar=False)
    messages = [str(w.message) for w in record]
    # 2 chains x 20 draws: at most 40 draws, so no variable can reach ESS 200
    assert any(m.startswith("ESS: min bulk/tail ESS") and "want >= 200" in m for m in messages)
    assert list(result.record.convergence_problems) == messages  # kept for reports


def test_student_t_map_predicts_unseen_groups_with_width():
    obs = simulate_moe(n_groups=2, seed=0).observations
    point = fit(obs, method="map", likelihood="student_t", random_seed=0)
    assert point.draws.nu is not None
    for kind in ("mean", "observation"):
        pred = point.predict(GRID, group="brand_new", kind=kind)
        assert ((pred["upper"] - pred["lower"]) > 0).all()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"form": None}, FormError, "form must be a form name or a LawForm, got NoneType"),
        ({"form": 123}, FormError, "got int 123"),
        ({"priors": {"alpha": {"scale": "x"}}}, PriorError, "alpha.scale must be a number"),
        ({"priors": {"noise": "x"}}, PriorError, "'noise' scale must be a number"),
        ({"priors": {"L_inf": 5}}, PriorError, "'L_inf' takes a .lower, upper. range"),
        ({"priors": {"L_inf": (1, 2, 3)}}, PriorError, "'L_inf' takes a"),
        ({"draws": "100"}, BayeslawError, "draws must be a whole number, got str"),
        ({"draws": 2.5}, BayeslawError, "draws must be a whole number, got float"),
        ({"random_seed": "x"}, BayeslawError, "random_seed must be None or a whole number"),
        ({"random_seed": -1}, BayeslawError, "random_seed must be >= 0"),
    ],
)
def test_bad_arguments_are_refused_before_compiling(kwargs, error, match, monkeypatch):
    """Each names the argument; nothing is built (build_model is never reached)."""
    from bayeslaw.inference import fitting

    def never(*args, **kw):
        raise AssertionError("the model was built before the arguments were checked")

    monkeypatch.setattr(fitting, "build_model", never)
    obs = simulate_moe(n_groups=2, seed=0).observations
    with pytest.raises(error, match=match):
        fit(obs, **kwargs)


def test_a_table_instead_of_observations_says_how_to_load_it():
    frame = simulate_moe(n_groups=2, seed=0).observations.frame
    with pytest.raises(DataError, match="fitting needs Observations, got DataFrame"):
        fit(frame)
    with pytest.raises(DataError, match="load_observations"):
        public_fit(frame, form="auto")


def test_degenerate_data_warns_by_name_and_one_row_still_fits():
    from bayeslaw.data import load_observations

    one = load_observations(simulate_moe(n_groups=2, seed=0).observations.frame.iloc[:1])
    with pytest.warns(DataWarning) as record:
        point = fit(one, method="map", random_seed=0)
    messages = [str(w.message) for w in record]
    assert any(m.startswith("input 'dense_parameter_count' has one value") for m in messages)
    assert any("fewer rows than the law's 5 parameters in group_0 (1)" in m for m in messages)
    pred = point.predict(GRID, group="group_0")
    assert np.isfinite(pred["mean"]).all()


def test_losses_too_large_to_summarise_name_the_column():
    from bayeslaw.data import load_observations

    frame = simulate_moe(n_groups=2, seed=0).observations.frame.copy()
    frame["loss_validation"] *= 1e300
    with pytest.raises(DataError, match="losses in 'loss_validation' are too large"):
        fit(load_observations(frame), method="map")


def test_prediction_inputs_read_numbers_as_text_and_name_the_rest(small_fit):
    """CSV gives a column holding one bad cell as text: the numbers in it still count."""
    import pandas as pd

    rows = pd.DataFrame({N: ["1e9", "abc", "2e9"], E: ["8", "8", "True"]})
    with pytest.raises(
        PredictionInputError, match=r"'dense_parameter_count'.*rows \[1\] hold \['abc'\]"
    ):
        small_fit.predict(rows, group="group_0")
    good = pd.DataFrame({N: ["1e9", "2e9"], E: ["8", "64"]})
    expected = small_fit.predict({N: [1e9, 2e9], E: [8.0, 64.0]}, group="group_0")
    np.testing.assert_array_equal(
        small_fit.predict(good, group="group_0")["mean"], expected["mean"]
    )
    with pytest.raises(PredictionInputError, match=r"rows \[0\] hold \[True\]"):
        small_fit.predict({N: [1e9], E: [True]}, group="group_0")
