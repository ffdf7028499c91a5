"""Crossed grouping factors (model x dataset): loading, the model, predictions for any
combination, saved fits, law(), the CLI and the report.

Fast tests run on the mocked sampler or on hand-built draws; the recovery of a new
combination of known levels by real NUTS is ``slow``.
"""

from __future__ import annotations

import dataclasses
import json

import arviz_stats as azs
import numpy as np
import pandas as pd
import pymc as pm
import pytest

from bayeslaw import cli, predictor
from bayeslaw.data import load_observations
from bayeslaw.datasets import simulate_crossed
from bayeslaw.errors import DataError, NewLevelWarning, PredictionInputError, PriorError
from bayeslaw.groups import group_label, join_levels, split_label
from bayeslaw.inference.fitting import fit
from bayeslaw.models.anchors import coordinates, inverse_link, to_law_params
from bayeslaw.models.hierarchical import ModelSpec, build_model
from bayeslaw.posterior.draws import PosteriorDraws
from bayeslaw.posterior.fit import load_fit

FORM = "additive(D)"


def _frame() -> pd.DataFrame:
    rows = []
    for m in ("m0", "m1", "m2"):
        for d in ("d0", "d1"):
            for size in (1e2, 1e3, 1e4):
                rows.append({"model": m, "dataset": d, "D": size, "loss": 2.0 + size**-0.3})
    return pd.DataFrame(rows)


def _load(frame: pd.DataFrame, **kwargs) -> object:
    return load_observations(
        frame, inputs=["D"], columns={"loss_validation": "loss"}, groups=("model", "dataset"),
        **kwargs,
    )  # fmt: skip


@pytest.fixture(scope="module")
def sim():
    return simulate_crossed(n_models=4, n_datasets=3, missing=[(0, 0)], seed=0)


@pytest.fixture(scope="module")
def crossed_fit(sim, fit_mocked):
    return fit_mocked(
        sim.observations, form=FORM, draws=100, tune=100, chains=2, random_seed=3,
        progressbar=False, check=False,
    )  # fmt: skip


# -- loading -----------------------------------------------------------------------------
def test_factors_are_kept_and_cells_labelled():
    obs = _load(_frame())
    assert obs.factors == ("model", "dataset")
    assert obs.levels("model") == ("m0", "m1", "m2")
    assert obs.groups == tuple(sorted(join_levels((m, d)) for m in ("m0", "m1", "m2")
                                      for d in ("d0", "d1")))  # fmt: skip
    levels = obs.group_levels()
    for i, group in enumerate(obs.groups):
        assert split_label(group, obs.factors) == (levels["model"][i], levels["dataset"][i])
    # subsets keep the factors, and the content hash tells crossed data from one column
    assert obs.subset(obs.frame["D"].to_numpy() > 1e2).factors == obs.factors
    plain = load_observations(_frame().assign(group=lambda f: f.model + " | " + f.dataset),
                              inputs=["D"], columns={"loss_validation": "loss"})  # fmt: skip
    assert plain.groups == obs.groups and plain.factors == ()
    assert plain.content_hash() != obs.content_hash()


def test_one_group_column_is_the_plain_group():
    frame = _frame()
    a = load_observations(frame, inputs=["D"], columns={"loss_validation": "loss"}, groups="model")
    b = load_observations(
        frame, inputs=["D"], columns={"loss_validation": "loss", "group": "model"}
    )
    assert a.factors == () and a.groups == ("m0", "m1", "m2")
    assert a.content_hash() == b.content_hash()


@pytest.mark.parametrize(
    ("change", "kwargs", "message"),
    [
        (lambda f: f, {"groups": ("model", "nope")}, "lacks"),
        (
            lambda f: f.assign(model=f.model.where(f.index != 3, None)),
            {},
            "missing values at row 3",
        ),
        (lambda f: f.assign(model=f.model.where(f.index != 2, "a | b")), {}, "containing ' | '"),
        (
            lambda f: f.rename(columns={"model": "cell"}),
            {"groups": ("cell", "dataset")},
            "reserved",
        ),
        (lambda f: f, {"groups": ("model", "model")}, "more than once"),
        (lambda f: f, {"groups": ()}, "one or more columns"),
    ],
)
def test_bad_factors_are_named(change, kwargs, message):
    how = {"groups": ("model", "dataset"), **kwargs}
    with pytest.raises(DataError, match=message):
        load_observations(
            change(_frame()), inputs=["D"], columns={"loss_validation": "loss"}, **how
        )


def test_group_given_twice_is_refused():
    with pytest.raises(DataError, match="once"):
        load_observations(_frame(), inputs=["D"], groups=("model", "dataset"),
                          columns={"loss_validation": "loss", "group": "model"})  # fmt: skip


def test_group_labels():
    assert group_label(("a", "b"), ("model", "dataset")) == "a | b"
    assert group_label("a | b", ("model", "dataset")) == "a | b"
    with pytest.raises(PredictionInputError, match="one string per factor"):
        group_label(("a",), ("model", "dataset"))
    with pytest.raises(PredictionInputError, match="one level per factor") as refused:
        split_label("a", ("model", "dataset"))
    assert "did you mean" not in str(refused.value)
    with pytest.raises(PredictionInputError, match=r"did you mean 'a \| b'\?"):
        split_label("a|b ", ("model", "dataset"))
    with pytest.raises(PredictionInputError, match="must be a string"):
        group_label(3, ())


def _families(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(family=frame.model.map({"m0": "f0", "m1": "f0", "m2": "f1"}))


def test_interaction_factor_is_derived_and_labels_name_its_columns():
    factors = ("model", "dataset", "family:dataset")
    obs = load_observations(
        _families(_frame()), inputs=["D"], columns={"loss_validation": "loss"}, groups=factors
    )
    assert obs.factors == factors
    first = obs.frame.iloc[0]
    assert first["family:dataset"] == f"{first['family']}:{first['dataset']}"
    assert obs.levels("family:dataset") == ("f0:d0", "f0:d1", "f1:d0", "f1:d1")
    # a cell is labelled by every column its factors use, each once: model, dataset, family
    assert "m1 | d0 | f0" in obs.groups and len(obs.groups) == 6
    assert split_label("m1 | d0 | f0", factors) == ("m1", "d0", "f0:d0")
    assert group_label(("m1", "d0", "f0"), factors) == "m1 | d0 | f0"
    with pytest.raises(PredictionInputError, match=r"\['model', 'dataset', 'family'\]"):
        split_label("m1 | d0", factors)
    # the derived column is rebuilt from its parts, whatever a frame holds under its name
    again = dataclasses.replace(obs, frame=obs.frame.assign(**{"family:dataset": "x"}))
    assert again.frame["family:dataset"].tolist() == obs.frame["family:dataset"].tolist()
    assert obs.subset(obs.frame["D"].to_numpy() > 1e2).factors == factors


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        (("model:dataset",), "alone is one group per combination"),
        (("model", "dataset", "family:"), "two or more different columns"),
        (("model", "dataset", "family:family"), "two or more different columns"),
        (("model", "dataset", "family:dataset", "dataset:family"), "the same factor twice"),
        (
            ("model", "dataset", "kin:dataset"),
            r"\['kin'\], which the source lacks \(a factor 'a:b' is the interaction",
        ),
        (("model", "dataset", "family:cell"), "reserved"),
    ],
)
def test_bad_interactions_are_named(groups, message):
    frame = _families(_frame()).assign(cell="c")
    with pytest.raises(DataError, match=message):
        load_observations(frame, inputs=["D"], columns={"loss_validation": "loss"}, groups=groups)


def test_interaction_levels_that_join_alike_are_refused():
    frame = _families(_frame())
    frame["family"] = np.where(frame.model == "m0", "f:d0", "f")
    frame["dataset"] = np.where(frame.model == "m0", frame.dataset, "d0:" + frame.dataset)
    with pytest.raises(DataError, match="both join to 'f:d0:d0'"):
        load_observations(frame, inputs=["D"], columns={"loss_validation": "loss"},
                          groups=("model", "dataset", "family:dataset"))  # fmt: skip


# -- the model -----------------------------------------------------------------------------
def test_model_has_a_term_per_factor_and_cells():
    obs = _load(_frame())
    spec = ModelSpec.from_observations(obs, form=FORM)
    model = build_model(obs, spec)
    names = set(model.named_vars)
    free = {v.name for v in model.free_RVs}
    for coord in coordinates(spec.form):
        for part in ("model", "dataset"):
            assert f"{coord.name}_{part}_sigma" in names
        assert f"{coord.name}_sigma" in names  # the cells' spread
        # the terms' scales split one total (sampled: the total and the shares)
        assert {f"{coord.name}_total_sigma", f"{coord.name}_share"} <= free
        assert model[f"{coord.name}_model_effect"].eval().shape == (3,)
    assert np.isfinite(model.compile_logp()(model.initial_point()))
    # no interaction: no cell terms
    spec = ModelSpec.from_observations(obs, form=FORM, interaction=False)
    names = set(build_model(obs, spec).named_vars)
    for coord in coordinates(spec.form):
        assert {f"{coord.name}_{x}" for x in ("sigma", "offset", "raw", "zbar")}.isdisjoint(names)
        assert f"{coord.name}_model_sigma" in names


def test_term_scales_split_a_total_with_each_variance_as_one_halfnormal():
    """Each term's scale is the total times the root of its share: the squares add up to
    the total's, and each has the prior mean of a HalfNormal(group_scale) variance."""
    obs = _load(_frame())
    spec = ModelSpec.from_observations(obs, form=FORM)
    model = build_model(obs, spec)
    group_scale = float(model["prior_L_ref"].get_value()[2])
    terms = ["L_ref_model_sigma", "L_ref_dataset_sigma", "L_ref_sigma"]
    draws = pm.draw([model["L_ref_total_sigma"], *(model[t] for t in terms)], draws=40_000,
                    random_seed=3)  # fmt: skip
    total, parts = draws[0], np.stack(draws[1:])
    np.testing.assert_allclose((parts**2).sum(axis=0), total**2, rtol=1e-10)
    np.testing.assert_allclose((parts**2).mean(axis=1), group_scale**2, rtol=0.05)


def test_cell_offsets_on_named_coordinates():
    obs = _load(_frame())
    spec = ModelSpec.from_observations(obs, form=FORM, interaction=["L_ref"])
    assert spec.interaction == ("L_ref",)
    names = set(build_model(obs, spec).named_vars)
    assert "L_ref_sigma" in names and "A_slope_sigma" not in names
    for bad in (["nope"], "L_ref", [1]):
        with pytest.raises(PriorError, match="interaction"):
            ModelSpec.from_observations(obs, form=FORM, interaction=bad)


def test_centring_is_chosen_per_factor_and_checked():
    obs = _load(_frame())
    spec = ModelSpec.from_observations(obs, form=FORM)
    # 3 models, 2 datasets, 6 cells: the cells' level is centred, nothing else (by rule)
    assert spec.centered == ("L_ref:cell",)
    spec = ModelSpec.from_observations(obs, form=FORM, centered=["L_ref:model"])
    assert spec.centered == ("L_ref:model",)
    build_model(obs, spec)
    with pytest.raises(PriorError, match="unknown coordinates"):
        ModelSpec.from_observations(obs, form=FORM, centered=["L_ref"])


def test_prior_predictive_of_crossed_factors(sim):
    """The exact prior predictive follows the crossed story: cells that share a level are
    more alike a priori than cells that share none (the level's effect is common)."""
    from bayeslaw.models.hierarchical import sample_prior_predictive

    obs = sim.observations
    spec = ModelSpec.from_observations(obs, form=FORM, interaction=False)
    prior = sample_prior_predictive(obs, spec, draws=2000, random_seed=0)
    index = {g: i for i, g in enumerate(spec.groups)}
    level = np.log(prior["A"])
    # without cell offsets, cells m1|d1 and m1|d2 differ by the dataset effects only
    share = np.var(level[:, index["m1 | d1"]] - level[:, index["m1 | d2"]])
    apart = np.var(level[:, index["m1 | d1"]] - level[:, index["m2 | d2"]])
    assert share < 0.8 * apart
    assert np.mean(np.isfinite(prior["loss"])) > 0.99


def test_one_column_model_is_unchanged():
    """One group column builds today's model: the same free variables as before factors."""
    frame = _frame().assign(group=lambda f: f.model)
    obs = load_observations(frame, inputs=["D"], columns={"loss_validation": "loss"})
    spec = ModelSpec.from_observations(obs, form=FORM)
    names = [v.name for v in build_model(obs, spec).free_RVs]
    assert spec.factors == ()
    assert not any("effect" in n for n in names)
    assert "L_ref_offset" in names and "L_ref_zbar" in names


# -- predictions ---------------------------------------------------------------------------
def _hand_built(cell_sigma: float) -> PosteriorDraws:
    """Two-factor draws with known effects: coordinates on the link scale are mu plus the
    levels' effects (plus a cell offset of spread ``cell_sigma``)."""
    from bayeslaw.models.registry import get_form

    form = get_form(FORM)
    rng = np.random.default_rng(0)
    s = 400
    levels = {"model": ("m0", "m1"), "dataset": ("d0", "d1")}
    groups = ("m0 | d0", "m0 | d1", "m1 | d0")
    population, effects, values = {}, {}, {}
    for k, coord in enumerate(coordinates(form)):
        mu = np.full(s, 0.1 * (k + 1))
        a_model = np.tile([0.2, -0.2], (s, 1)) + 0.01 * rng.standard_normal((s, 2))
        a_data = np.tile([0.1, -0.1], (s, 1))
        population[coord.name] = (mu, np.full(s, cell_sigma))
        effects[coord.name] = {
            "model": (a_model, np.full(s, 0.3)),
            "dataset": (a_data, np.full(s, 0.5)),
        }
        cells = [(0, 0), (0, 1), (1, 0)]
        values[coord.name] = np.stack([mu + a_model[:, i] + a_data[:, j] for i, j in cells], axis=1)
    theta = to_law_params(
        form, {c.name: inverse_link(c, values[c.name]) for c in coordinates(form)}
    )
    return PosteriorDraws(
        form_name=form.name, scales={"D": 1.0}, groups=groups, pooling="partial",
        theta=theta, noise=np.full((s, 3), 0.01), population=population,
        levels=levels, effects=effects,
    )  # fmt: skip


def test_new_cell_of_known_levels_combines_their_effects():
    draws = _hand_built(cell_sigma=0.0)
    new = draws.group_theta("m1 | d1")
    reps = draws.unseen_replicates
    values = {}
    for c in coordinates(draws.form):
        mu = draws.population[c.name][0]
        a_model = draws.effects[c.name]["model"][0][:, 1]
        a_data = draws.effects[c.name]["dataset"][0][:, 1]
        values[c.name] = inverse_link(c, np.tile(mu + a_model + a_data, reps))
    expected = to_law_params(draws.form, values)
    for name in expected:
        np.testing.assert_allclose(new[name], expected[name], rtol=1e-12)
    assert draws.group_status("m1 | d1") == "new cell"
    assert draws.group_status("m0 | d0") == "fitted"
    assert draws.group_status("m9 | d1") == "new level: model='m9'"


def test_new_level_draws_from_its_factor_population():
    draws = _hand_built(cell_sigma=0.0)
    c = coordinates(draws.form)[0]  # the level L_ref (identity link): effects add directly
    known = draws.group_theta("m0 | d1")
    new_model = draws.group_theta("m9 | d1")
    new_both = draws.population_theta()

    # the spread of the new level's L_ref is the model factor's sigma (0.3), the new cell
    # of two new levels has sqrt(0.3^2 + 0.5^2)
    def ref_level(theta):
        return theta[draws.form.floor] + sum(
            theta[slope.coefficient] for slope in draws.form.slopes
        )  # the loss at scaled input 1 (the reference point)

    assert np.std(ref_level(known)) < 0.05
    assert abs(np.std(ref_level(new_model)) - 0.3) < 0.03
    assert abs(np.std(ref_level(new_both)) - np.hypot(0.3, 0.5)) < 0.05
    assert c.name == "L_ref"


def test_fit_predicts_any_combination_and_round_trips(crossed_fit, tmp_path):
    sim_cell = ("m0", "d0")  # left out of the data: a new cell of known levels
    x = {"D": np.array([1e3, 1e5])}
    seen = crossed_fit.predict(x, group=("m1", "d0"))
    new_cell = crossed_fit.predict(x, group=sim_cell)
    new_level = crossed_fit.predict(x, group="m9 | d0", kind="observation")
    assert list(seen["group_status"]) == ["fitted"] * 2
    assert list(new_cell["group_status"]) == ["new cell"] * 2
    assert list(new_level["group_status"]) == ["new level: model='m9'"] * 2
    assert new_cell["group"].iloc[0] == "m0 | d0"
    with pytest.raises(PredictionInputError, match="one level per factor"):
        crossed_fit.predict(x, group="m1")
    params = crossed_fit.params()
    assert "<population>" in params.index.get_level_values("group")
    path = crossed_fit.save(tmp_path / "fit")
    loaded = load_fit(path, with_observations=True)
    assert loaded.factors == ("model", "dataset")
    assert loaded.observations.factors == ("model", "dataset")
    assert loaded.record.model.levels["model"] == ("m0", "m1", "m2", "m3")
    for group in [("m1", "d0"), ("m0", "d0"), "m9 | d0"]:
        a = crossed_fit.predict(x, group=group, kind="observation")
        b = loaded.predict(x, group=group, kind="observation")
        pd.testing.assert_frame_equal(a, b)


def test_no_pooling_keeps_labels_and_has_no_population(sim, fit_mocked):
    result = fit_mocked(sim.observations, form=FORM, pooling="none", draws=20, tune=20,
                        chains=1, random_seed=0, progressbar=False, check=False)  # fmt: skip
    assert result.draws.effects is None
    x = {"D": np.array([1e3])}
    assert result.predict(x, group=("m1", "d0"))["group_status"].iloc[0] == "fitted"
    with pytest.raises(PredictionInputError, match="no population level"):
        result.predict(x, group=("m0", "d0"))


def test_map_fit_of_crossed_factors(sim):
    result = fit(sim.observations, form=FORM, method="map", random_seed=0)
    x = {"D": np.array([1e4])}
    truth = sim.expected_loss("m1 | d1", [1e4])
    assert abs(result.predict(x, group="m1 | d1")["mean"].iloc[0] - truth[0]) < 0.05
    assert result.draws.effects is not None


# -- law(), the CLI and the report ------------------------------------------------------------
def test_law_takes_cells_and_warns_about_new_levels(crossed_fit, sim, tmp_path, monkeypatch):
    data = tmp_path / "data.csv"
    sim.observations.frame.drop(columns="group").to_csv(data, index=False)
    home = tmp_path / "home"
    for key, value in {"BAYESLAW_DATA": str(data), "BAYESLAW_HOME": str(home),
                       "BAYESLAW_FORM": FORM, "BAYESLAW_INPUTS": "D",
                       "BAYESLAW_GROUPS": "model,dataset"}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(predictor, "_CACHE", {})
    record = crossed_fit.record.with_fingerprint(predictor.data_fingerprint(data))
    dataclasses.replace(crossed_fit, record=record).save(home / "fit", datatree=False)
    rows = [{"D": 1e3}, {"D": 1e5}]
    x = {"D": np.array([1e3, 1e5])}
    by_tuple = predictor.law(rows, ("m0", "d0"))
    by_label = predictor.law(rows, "m0 | d0")
    assert by_tuple == by_label
    expected = crossed_fit.predict(x, group="m0 | d0")["mean"]
    np.testing.assert_allclose([r["loss_validation"] for r in by_tuple], expected, rtol=1e-12)
    with pytest.warns(NewLevelWarning, match="model='m9'"):
        predictor.law(rows, ("m9", "d0"))
    with pytest.raises(PredictionInputError, match="one level per factor"):
        predictor.law(rows, "m0")


@pytest.mark.filterwarnings("ignore::bayeslaw.inference.diagnostics.ConvergenceWarning")
def test_cli_fits_and_predicts_cells(sim, tmp_path, capsys, mock_nuts):
    data = tmp_path / "data.csv"
    sim.observations.frame.drop(columns="group").to_csv(data, index=False)
    out = tmp_path / "fit"
    argv = ["fit", str(data), "--inputs", "D", "--group-col", "model,dataset", "--form", FORM,
            "--out", str(out), "--draws", "20", "--tune", "20", "--chains", "1",
            "--quiet"]  # fmt: skip
    assert cli.main(argv) == 0
    assert load_fit(out).factors == ("model", "dataset")
    rows = tmp_path / "rows.csv"
    pd.DataFrame({"model": ["m0", "m9"], "dataset": ["d0", "d0"], "D": [1e4, 1e4]}).to_csv(
        rows, index=False
    )
    capsys.readouterr()
    assert cli.main(["predict", str(out), "--input", str(rows), "--format", "json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert [r["group_status"] for r in table] == ["new cell", "new level: model='m9'"]
    assert cli.main(["predict", str(out), "--input", str(rows), "--group", "m1 | d1"]) == 0


FAMILY = ("model", "dataset", "family:dataset")


def _family_frame(sim) -> pd.DataFrame:
    frame = sim.observations.frame.drop(columns="group")
    return frame.assign(family=frame.model.map({"m0": "f0", "m1": "f0", "m2": "f1", "m3": "f1"}))


@pytest.fixture(scope="module")
def family_fit(sim, fit_mocked):
    obs = load_observations(_family_frame(sim), inputs=["D"], groups=FAMILY)
    return fit_mocked(
        obs, form=FORM, draws=100, tune=100, chains=2, random_seed=3, progressbar=False,
        check=False,
    )  # fmt: skip


def test_interaction_has_its_own_term_and_scale(sim):
    obs = load_observations(_family_frame(sim), inputs=["D"], groups=FAMILY)
    spec = ModelSpec.from_observations(obs, form=FORM)
    assert spec.factor_names == FAMILY
    model = build_model(obs, spec)
    names = set(model.named_vars)
    for coord in coordinates(spec.form):
        assert f"{coord.name}_family:dataset_sigma" in names
        assert model[f"{coord.name}_family:dataset_effect"].eval().shape == (6,)
    assert np.isfinite(model.compile_logp()(model.initial_point()))


def test_fit_with_an_interaction_predicts_any_combination(family_fit, sim, tmp_path, capsys):
    x = {"D": np.array([1e3, 1e5])}
    statuses = {
        ("m1", "d1", "f0"): "fitted",
        ("m0", "d0", "f0"): "new cell",  # its sibling m1 was fitted on d0
        ("m9", "d0", "f0"): "new level: model='m9'",  # a new model of a known family
        ("m9", "d0", "f7"): "new level: model='m9', family:dataset='f7:d0'",
    }
    for group, status in statuses.items():
        table = family_fit.predict(x, group=group)
        assert list(table["group_status"]) == [status] * 2
        assert table["group"].iloc[0] == join_levels(group)
    # the family's effect on the dataset is what a new model of the family borrows
    effect = family_fit.draws.effects["L_ref"]["family:dataset"][0]
    assert effect.shape[1] == 6
    path = family_fit.save(tmp_path / "fit")
    loaded = load_fit(path, with_observations=True)
    assert loaded.factors == FAMILY and loaded.observations.factors == FAMILY
    for group in statuses:
        a = family_fit.predict(x, group=group, kind="observation")
        pd.testing.assert_frame_equal(a, loaded.predict(x, group=group, kind="observation"))
    rows = tmp_path / "rows.csv"
    pd.DataFrame({"model": ["m0", "m9"], "dataset": ["d0", "d0"], "family": ["f0", "f7"],
                  "D": [1e4, 1e4]}).to_csv(rows, index=False)  # fmt: skip
    capsys.readouterr()
    assert cli.main(["predict", str(path), "--input", str(rows), "--format", "json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert [r["group_status"] for r in table] == [
        "new cell", "new level: model='m9', family:dataset='f7:d0'"
    ]  # fmt: skip


NESTED = ("model", "dataset", "family", "family:dataset")


def test_nested_factors_are_zero_sum_within_what_they_are_nested_in(sim, fit_mocked):
    """With ``family`` a factor, a model's effect deviates from its family's, and a family's
    effect on a dataset from the dataset's and the family's own: no direction left that only
    the priors pin (:mod:`bayeslaw.models.nesting`). A new model of a known family still
    gets a prediction, its effect drawn around its family's."""
    obs = load_observations(_family_frame(sim), inputs=["D"], groups=NESTED)
    spec = ModelSpec.from_observations(obs, form=FORM)
    assert spec.nesting() == {"model": ("family",), "family:dataset": ("dataset", "family")}
    model = build_model(obs, spec)
    assert np.isfinite(model.compile_logp()(model.initial_point()))
    family_of = {"m0": "f0", "m1": "f0", "m2": "f1", "m3": "f1"}
    levels = dict(spec.factors)
    for coord in coordinates(spec.form):
        models = pm.draw(model[f"{coord.name}_model_effect"], draws=20, random_seed=1)
        assert np.abs(models).max() > 1e-3  # the effects are free within each family
        for f in ("f0", "f1"):
            members = [i for i, m in enumerate(levels["model"]) if family_of[m] == f]
            np.testing.assert_allclose(models[:, members].sum(axis=1), 0.0, atol=1e-9)
        cells = pm.draw(model[f"{coord.name}_family:dataset_effect"], draws=20, random_seed=2)
        for part in (0, 1):  # within each family (f0:..) and within each dataset (..:d0)
            for key in {c.split(":")[part] for c in levels["family:dataset"]}:
                members = [i for i, c in enumerate(levels["family:dataset"])
                           if c.split(":")[part] == key]  # fmt: skip
                np.testing.assert_allclose(cells[:, members].sum(axis=1), 0.0, atol=1e-9)
    # cells are zero-sum within each family:dataset level: f0:d0 has one cell (m1 | d0 | f0),
    # wholly its level's, so no offset of its own; the other five levels two cells each
    cells = spec.nested_bases()["group"]
    assert cells.shape == (11, 5)
    np.testing.assert_allclose(cells[list(spec.groups).index("m1 | d0 | f0")], 0.0, atol=1e-12)
    for coord in spec.interaction:
        if f"{coord}:cell" not in spec.centered:
            assert model.named_vars_to_dims[f"{coord}_offset"] == ("group_nested",)
    nested = fit_mocked(
        obs, form=FORM, draws=50, tune=50, chains=2, random_seed=3, progressbar=False,
        check=False,
    )  # fmt: skip
    table = nested.predict({"D": np.array([1e3, 1e5])}, group=("m9", "d0", "f0"))
    assert list(table["group_status"]) == ["new level: model='m9'"] * 2
    assert np.all(np.isfinite(table[["mean", "lower", "upper"]].to_numpy()))
    assert np.all(table["upper"] > table["lower"])


def test_report_has_a_forest_per_factor(crossed_fit, tmp_path):
    from bayeslaw.reports.plots.effects import factor_effects, plot_factor_effects
    from bayeslaw.reports.render import write_report

    written = write_report(crossed_fit, tmp_path / "report")
    assert {"figures/effects_model.png", "figures/effects_dataset.png"} <= set(written)
    figure = plot_factor_effects(crossed_fit, factor="dataset")
    zero = [line for ax in figure.axes for line in ax.lines if line.get_gid() == "zero_effect"]
    assert len(zero) == 1 and set(zero[0].get_xdata()) == {0.0}
    table = factor_effects(crossed_fit, "dataset")
    assert len(table) == len(coordinates(crossed_fit.draws.form)) * 3
    draws = crossed_fit.draws.effects["L_ref"]["dataset"][0]
    np.testing.assert_allclose(
        table[table.coordinate == "L_ref"]["median"], np.median(draws, axis=0), rtol=1e-12
    )


def test_report_has_a_forest_for_an_interaction(family_fit, tmp_path):
    from bayeslaw.reports.render import write_report

    written = write_report(family_fit, tmp_path / "report")
    assert "figures/effects_family_dataset.png" in written
    assert "family:dataset" in (tmp_path / "report" / "report.md").read_text()


# -- slow: a new combination borrows from what is known -------------------------------------
@pytest.mark.slow
def test_new_cell_of_known_levels_is_recovered(sim):
    """The left-out cell m0 | d0 (its model seen on d1, d2; its dataset with m1..m3) is
    predicted from its levels' effects: close to the truth, inside its 90% interval, and
    far better than a new group of a one-factor fit, which knows neither level."""
    # default sampler settings; convergence is checked below with a stated tolerance (the
    # crossed model's between-level scales of 3-4 levels mix slowly: R-hat 1.006-1.014
    # measured over seeds 1-3). Divergences are rare but not absent in this small design,
    # and which transitions diverge moves with the seed and with the compiled sampler: at
    # the default centring, 1 / 0 / 0 of 4000 for seeds 1 / 2 / 3 compiled afresh, 0 / 0 / 1
    # with samplers from the disk cache (2026-12-02); centring the cells' level only (the
    # default before) 0 / 0 / 1 afresh and 0 / 2 / 4 on 2026-12-01 (4-6 at target_accept
    # 0.95, 10-31 at 0.9). At most 0.1% of the transitions is asserted.
    kwargs = {"form": FORM, "random_seed": 1, "progressbar": False, "check": False}
    crossed = fit(sim.observations, **kwargs)
    plain = load_observations(
        sim.observations.frame.drop(columns=["model", "dataset"]), inputs=["D"]
    )
    one_factor = fit(plain, **kwargs)
    sizes = np.array([1e3, 1e5])
    truth = sim.expected_loss("m0 | d0", sizes)
    a = crossed.predict({"D": sizes}, group="m0 | d0")
    b = one_factor.predict({"D": sizes}, group="m0 | d0")
    assert a["group_status"].iloc[0] == "new cell" and not b["seen_group"].any()
    assert np.all((a["lower"] <= truth) & (truth <= a["upper"]))
    error_crossed = np.mean((a["mean"] - truth) ** 2)
    error_plain = np.mean((b["mean"] - truth) ** 2)
    assert error_crossed < 0.25 * error_plain
    assert np.all(a["upper"] - a["lower"] < b["upper"] - b["lower"])
    stats = crossed.datatree["sample_stats"]
    assert int(stats["diverging"].sum()) <= 4
    summary = azs.summary(crossed.datatree, kind="diagnostics", round_to="none")
    assert summary["r_hat"].max() <= 1.03 and summary["ess_bulk"].min() >= 200


@pytest.mark.slow
def test_a_new_cell_borrows_from_its_sibling_through_an_interaction():
    """Models m0, m1 (family f0) and m2, m3 (f1) on datasets d0..d2, the floor shifted per
    (family, dataset) by far more than the cells' spread; m0 | d0 is left out. With the
    ``family:dataset`` interaction its floor comes from m1 | d0, its sibling's curve; two
    crossed factors alone know m0 and d0 only through other families and datasets."""
    rng = np.random.default_rng(5)
    sizes = np.geomspace(1e2, 1e5, 8)
    family = {"m0": "f0", "m1": "f0", "m2": "f1", "m3": "f1"}
    model_floor = dict(zip(family, rng.normal(0, 0.1, 4), strict=True))
    data_floor = {"d0": 0.0, "d1": 0.2, "d2": -0.2}
    shift = {(f, d): rng.normal(0, 0.4) for f in ("f0", "f1") for d in data_floor}

    def truth(m: str, d: str, size: np.ndarray) -> np.ndarray:
        floor = 1.5 + model_floor[m] + data_floor[d] + shift[family[m], d]
        return floor + 20.0 * size**-0.35

    rows = [
        {"model": m, "dataset": d, "family": family[m], "D": size,
         "loss": truth(m, d, size) + 0.01 * rng.standard_normal()}
        for m in family for d in data_floor for size in sizes if (m, d) != ("m0", "d0")
    ]  # fmt: skip
    frame = pd.DataFrame(rows)
    kwargs = {"form": FORM, "random_seed": 1, "progressbar": False, "check": False}
    columns = {"loss_validation": "loss"}
    with_family = fit(load_observations(frame, inputs=["D"], columns=columns, groups=FAMILY),
                      **kwargs)  # fmt: skip
    crossed = fit(load_observations(frame, inputs=["D"], columns=columns,
                                    groups=("model", "dataset")), **kwargs)  # fmt: skip
    x = {"D": np.array([1e3, 1e5])}
    expected = truth("m0", "d0", x["D"])
    a = with_family.predict(x, group=("m0", "d0", "f0"))
    b = crossed.predict(x, group=("m0", "d0"))
    assert a["group_status"].iloc[0] == "new cell" == b["group_status"].iloc[0]
    assert np.all((a["lower"] <= expected) & (expected <= a["upper"]))
    error_family = np.mean((a["mean"] - expected) ** 2)
    error_crossed = np.mean((b["mean"] - expected) ** 2)
    assert error_family < 0.25 * error_crossed, (error_family, error_crossed)
    # measured at seed 1 (2026-12-02): squared error 1e-5 against 0.16; 3 divergences of
    # 4000, R-hat 1.032, bulk ESS 206 (three factors of 3-6 levels each leave their scales
    # loosely identified); the bounds below keep that margin
    assert int(with_family.datatree["sample_stats"]["diverging"].sum()) <= 12
    summary = azs.summary(with_family.datatree, kind="diagnostics", round_to="none")
    assert summary["r_hat"].max() <= 1.06 and summary["ess_bulk"].min() >= 100
