"""The multiplicative (rank-one, AMMI) interaction of two crossed factors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayeslaw import cli
from bayeslaw.data import load_observations
from bayeslaw.errors import FitArtifactError, PriorError
from bayeslaw.inference.diagnostics import checked_variables
from bayeslaw.inference.fitting import fit
from bayeslaw.models.anchors import coordinates, inverse_link, to_law_params
from bayeslaw.models.hierarchical import ModelSpec, build_model, structure_key
from bayeslaw.models.products import product_names
from bayeslaw.models.registry import get_form
from bayeslaw.posterior.draws import PosteriorDraws
from bayeslaw.posterior.fit import load_fit
from bayeslaw.reports.diagnostics import diagnose_fit

FORM = "additive(D)"
SIZES = np.geomspace(1e2, 1e5, 6)


def _frame(n_models: int = 3, n_datasets: int = 4, *, skip=(), shift=None, cell_sd=0.0, seed=0):
    """Curves ``floor + 20 D^-0.35`` of every (model, dataset) cell but ``skip``; ``shift``
    maps a cell to a change of its floor, which also gets an offset of sd ``cell_sd``."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_models):
        for j in range(n_datasets):
            offset = cell_sd * rng.standard_normal()
            if (i, j) in skip:
                continue
            floor = 1.5 + 0.1 * i + 0.2 * j + (shift or {}).get((i, j), 0.0) + offset
            for size in SIZES:
                loss = floor + 20.0 * size**-0.35 + 0.005 * rng.standard_normal()
                rows.append({"model": f"m{i}", "dataset": f"d{j}", "D": size, "loss": loss})
    return pd.DataFrame(rows)


def _load(frame: pd.DataFrame, groups=("model", "dataset")):
    columns = {"loss_validation": "loss"}
    return load_observations(frame, inputs=["D"], columns=columns, groups=groups)


def test_model_has_a_rank_one_term_on_the_level():
    obs = _load(_frame())
    # True: the level and every slope (additive(D) has one, A_slope), not the exponent
    everywhere = ModelSpec.from_observations(obs, form=FORM, multiplicative=True)
    assert everywhere.multiplicative == ("L_ref", "A_slope")
    spec = ModelSpec.from_observations(obs, form=FORM, multiplicative=["L_ref"])
    assert spec.multiplicative == ("L_ref",)
    assert spec.product_factors() == ("model", "dataset")
    assert structure_key(spec) != structure_key(ModelSpec.from_observations(obs, form=FORM))
    model = build_model(obs, spec)
    names = product_names("L_ref", ("model", "dataset"))
    point = model.initial_point()
    point["L_ref_model_loading_raw_zerosum__"] = np.array([0.5, -1.5])  # 2 of 3 free
    point["L_ref_dataset_loading_z_zerosum__"] = np.array([0.3, -0.2, 0.9])
    outputs = [model[names[k]] for k in ("model", "dataset", "cells")]
    evaluate = model.compile_fn(outputs, inputs=model.value_vars, on_unused_input="ignore")
    row, col, cells = evaluate(point)
    # the first factor's loadings: zero-sum with unit root mean square
    assert abs(row.sum()) < 1e-12 and np.sqrt(np.mean(row**2)) == pytest.approx(1.0)
    assert abs(col.sum()) < 1e-12
    index = spec.level_index()
    np.testing.assert_allclose(cells, row[index["model"]] * col[index["dataset"]])
    assert np.isfinite(model.compile_logp()(point))
    # the A_slope coordinate has none
    assert "A_slope_model_loading" not in model.named_vars
    named = ModelSpec.from_observations(obs, form=FORM, multiplicative=["A_slope"])
    assert named.multiplicative == ("A_slope",)


def test_two_levels_have_one_direction():
    obs = _load(_frame(n_models=2))
    spec = ModelSpec.from_observations(obs, form=FORM, multiplicative=True)
    model = build_model(obs, spec)
    assert "L_ref_model_loading_raw" not in model.named_vars
    np.testing.assert_allclose(model["L_ref_model_loading"].eval(), [1.0, -1.0])


@pytest.mark.parametrize(
    ("kwargs", "groups", "message"),
    [
        ({"multiplicative": ["nope"]}, ("model", "dataset"), "unknown coordinates"),
        ({"multiplicative": "L_ref"}, ("model", "dataset"), "True, False or a list"),
        ({"multiplicative": True, "pooling": "none"}, ("model", "dataset"), "partial"),
        ({"multiplicative": True}, None, "two crossed factors"),
        ({"multiplicative": True, "form": "kaplan(D,E)"}, ("model", "dataset"), "lacks"),
    ],
)
def test_bad_multiplicative_is_named(kwargs, groups, message):
    frame = _frame()
    if groups is None:
        frame["group"] = frame["model"] + "/" + frame["dataset"]
        frame = frame.drop(columns=["model", "dataset"])
    if "kaplan" in kwargs.get("form", ""):
        frame["E"] = frame["D"]
        obs = load_observations(
            frame, inputs=["D", "E"], columns={"loss_validation": "loss"}, groups=groups
        )
    else:
        obs = _load(frame, groups=groups) if groups else load_observations(
            frame, inputs=["D"], columns={"loss_validation": "loss"}
        )  # fmt: skip
    kwargs = {"form": FORM, **kwargs}
    with pytest.raises(PriorError, match=message):
        ModelSpec.from_observations(obs, **kwargs)


def _hand_built() -> PosteriorDraws:
    """Draws of a 2 x 2 design (cell m1 | d1 unseen) with known effects and loadings."""
    form = get_form(FORM)
    s = 300
    levels = {"model": ("m0", "m1"), "dataset": ("d0", "d1")}
    groups = ("m0 | d0", "m0 | d1", "m1 | d0")
    row = np.tile([1.0, -1.0], (s, 1))
    col = np.tile([0.25, -0.25], (s, 1))
    population, effects, values = {}, {}, {}
    cells = [(0, 0), (0, 1), (1, 0)]
    for k, coord in enumerate(coordinates(form)):
        mu = np.full(s, 0.1 * (k + 1))
        population[coord.name] = (mu, np.zeros(s))
        effects[coord.name] = {
            "model": (np.tile([0.2, -0.2], (s, 1)), np.full(s, 0.3)),
            "dataset": (np.tile([0.1, -0.1], (s, 1)), np.full(s, 0.5)),
        }
        u = np.stack([mu + 0.2 * (1 - 2 * i) + 0.1 * (1 - 2 * j) for i, j in cells], axis=1)
        if coord.name == "L_ref":
            u = u + np.stack([row[:, i] * col[:, j] for i, j in cells], axis=1)
        values[coord.name] = inverse_link(coord, u)
    products = {"L_ref": {"model": (row, np.full(s, 1.2)), "dataset": (col, np.full(s, 0.3))}}
    return PosteriorDraws(
        form_name=form.name, scales={"D": 1.0}, groups=groups, pooling="partial",
        theta=to_law_params(form, values), noise=np.full((s, 3), 0.01),
        population=population, levels=levels, effects=effects, products=products,
    )  # fmt: skip


def _reference_loss(draws: PosteriorDraws, theta) -> np.ndarray:
    """The loss at the reference point (scaled input 1): L_ref on the loss scale."""
    return theta[draws.form.floor] + sum(theta[s.coefficient] for s in draws.form.slopes)


def test_new_cell_adds_the_product_of_its_levels_loadings(tmp_path):
    draws = _hand_built()
    new = _reference_loss(draws, draws.group_theta("m1 | d1"))
    # mu + model m1 + dataset d1 + (-1)(-0.25)
    np.testing.assert_allclose(new, 0.1 - 0.2 - 0.1 + 0.25, atol=1e-12)
    # a new model draws its loading (spread 1.2) times d1's loading (-0.25)
    new_model = _reference_loss(draws, draws.group_theta("m9 | d1"))
    assert np.std(new_model) == pytest.approx(np.hypot(0.3, 1.2 * 0.25), rel=0.05)
    # the loadings travel with the saved draws
    path = tmp_path / "draws.npz"
    draws.save(path)
    loaded = PosteriorDraws.load(
        path, form_name=draws.form_name, scales=draws.scales, groups=draws.groups,
        pooling="partial", levels=draws.levels,
    )  # fmt: skip
    assert set(loaded.products) == {"L_ref"}
    for group in ("m1 | d1", "m9 | d1"):
        a = _reference_loss(draws, draws.group_theta(group))
        np.testing.assert_array_equal(a, _reference_loss(loaded, loaded.group_theta(group)))


def test_inconsistent_loadings_are_refused():
    draws = _hand_built()
    arrays = draws.to_arrays()
    arrays["products/L_ref/model/loading"] = arrays["products/L_ref/model/loading"][:, :1]
    bad = PosteriorDraws(
        form_name=draws.form_name, scales=draws.scales, groups=draws.groups,
        pooling="partial", theta=draws.theta, noise=draws.noise,
        population=draws.population, levels=draws.levels, effects=draws.effects,
        products={"L_ref": {"model": (arrays["products/L_ref/model/loading"],
                                      draws.products["L_ref"]["model"][1]),
                            "dataset": draws.products["L_ref"]["dataset"]}},
    )  # fmt: skip
    with pytest.raises(FitArtifactError, match="loadings of L_ref on model"):
        bad.validate()


def test_fit_predicts_with_the_product_and_round_trips(fit_mocked, tmp_path):
    obs = _load(_frame(skip=[(0, 0)]))
    result = fit_mocked(
        obs, form=FORM, multiplicative=["L_ref"], draws=50, tune=50, chains=2, random_seed=1,
        progressbar=False, check=False,
    )  # fmt: skip
    assert result.record.model.multiplicative == ("L_ref",)
    assert set(result.draws.products["L_ref"]) == {"model", "dataset"}
    x = {"D": np.array([1e3, 1e5])}
    new_cell = result.predict(x, group=("m0", "d0"))
    assert list(new_cell["group_status"]) == ["new cell"] * 2
    loaded = load_fit(result.save(tmp_path / "fit"))
    assert loaded.record.model.multiplicative == ("L_ref",)
    for group in [("m0", "d0"), ("m1", "d0"), "m9 | d0"]:
        pd.testing.assert_frame_equal(
            result.predict(x, group=group, kind="observation"),
            loaded.predict(x, group=group, kind="observation"),
        )


def test_checks_read_the_product_not_its_sign_free_loadings(fit_mocked):
    obs = _load(_frame())
    spec = ModelSpec.from_observations(obs, form=FORM, multiplicative=["L_ref"])
    free = [v.name for v in build_model(obs, spec).free_RVs]
    checked = checked_variables(free, spec.form.parameter_names, ("L_ref",), obs.factors)
    # the product's scale is a share of L_ref's total, both checked as free variables
    assert "L_ref_model_x_dataset" in checked
    assert {"L_ref_total_sigma", "L_ref_share"} <= set(checked)
    assert not {"L_ref_model_loading_raw", "L_ref_dataset_loading_z"} & set(checked)
    # the report's diagnostics read the same variables (from the fit's record)
    result = fit_mocked(
        obs, form=FORM, multiplicative=["L_ref"], draws=30, tune=30, chains=2, random_seed=1,
        progressbar=False, check=False,
    )  # fmt: skip
    table = diagnose_fit(result).summary
    assert any(str(i).startswith("L_ref_model_x_dataset[") for i in table.index)
    assert not any("loading" in str(i) for i in table.index)


def test_a_slope_gets_a_rank_one_term_of_its_own(fit_mocked, tmp_path):
    """``multiplicative=("L_ref", "A_slope")`` (what True gives this form): each coordinate
    named gets loadings and a product of its own, checked, saved and read back."""
    obs = _load(_frame(skip=[(0, 0)]))
    coords = ("L_ref", "A_slope")
    result = fit_mocked(
        obs, form=FORM, multiplicative=coords, draws=30, tune=30, chains=2, random_seed=1,
        progressbar=False, check=False,
    )  # fmt: skip
    assert result.record.model.multiplicative == coords
    assert set(result.draws.products) == set(coords)
    table = diagnose_fit(result).summary
    for coord in coords:
        assert any(str(i).startswith(f"{coord}_model_x_dataset[") for i in table.index)
    loaded = load_fit(result.save(tmp_path / "fit"))
    assert set(loaded.draws.products) == set(coords)
    x = {"D": np.array([1e2, 1e5])}
    for group in [("m0", "d0"), ("m1", "d2"), "m9 | d0"]:
        pd.testing.assert_frame_equal(
            result.predict(x, group=group, kind="observation"),
            loaded.predict(x, group=group, kind="observation"),
        )


def test_cli_option_names_the_coordinates():
    assert cli._multiplicative(None) == ()
    assert cli._multiplicative(True) is True  # given bare: fit's True
    assert cli._multiplicative("L_ref") == ("L_ref",)
    assert cli._multiplicative("L_ref, A_slope") == ("L_ref", "A_slope")


@pytest.mark.filterwarnings("ignore::bayeslaw.inference.diagnostics.ConvergenceWarning")
def test_cli_fits_a_multiplicative_interaction(tmp_path, mock_nuts):
    data = tmp_path / "data.csv"
    _frame().to_csv(data, index=False)
    out = tmp_path / "fit"
    argv = ["fit", str(data), "--inputs", "D", "--group-col", "model,dataset", "--form", FORM,
            "--loss-col", "loss", "--out", str(out), "--draws", "20", "--tune", "20",
            "--chains", "1", "--quiet", "--multiplicative"]  # fmt: skip
    assert cli.main(argv) == 0
    assert load_fit(out).record.model.multiplicative == ("L_ref", "A_slope")


@pytest.mark.slow
def test_a_new_cell_gets_its_levels_rank_one_interaction():
    """Four models and five datasets whose floors carry a rank-one interaction, ``u[model] *
    v[dataset]``, far larger than the noise and the cells' own offsets; m0 | d0 is left
    out. Its model's loading is measured on d1..d4 and its dataset's on m1..m3: the
    multiplicative term predicts the cell, additive effects alone cannot."""
    u = np.array([1.2, 0.4, -0.5, -1.1])
    v = np.array([0.3, -0.2, 0.25, -0.15, -0.2])
    shift = {(i, j): u[i] * v[j] for i in range(4) for j in range(5)}
    frame = _frame(4, 5, skip=[(0, 0)], shift=shift, cell_sd=0.02, seed=3)
    obs = _load(frame)
    kwargs = {"form": FORM, "random_seed": 1, "progressbar": False, "check": False}
    with_product = fit(obs, multiplicative=["L_ref"], **kwargs)
    additive = fit(obs, **kwargs)
    x = {"D": SIZES}
    truth = 1.5 + shift[0, 0] + 20.0 * SIZES**-0.35
    a = with_product.predict(x, group=("m0", "d0"))
    b = additive.predict(x, group=("m0", "d0"))
    error_product = np.mean((a["mean"] - truth) ** 2)
    error_additive = np.mean((b["mean"] - truth) ** 2)
    assert error_product < 0.25 * error_additive
    assert np.all((a["lower"] <= truth) & (truth <= a["upper"]))
    # sampling at default settings, over what the checks read (the per-cell product, not
    # the sign-free loadings): measured R-hat 1.014, bulk ESS 253, no divergence (seed 1;
    # without the cells' offsets of sd 0.02, a scale at zero: 3-13 divergences, R-hat 1.04)
    assert int(with_product.datatree["sample_stats"]["diverging"].sum()) <= 4
    summary = diagnose_fit(with_product).summary
    assert summary["r_hat"].max() <= 1.03 and summary["ess_bulk"].min() >= 200


def test_prior_predictive_draws_the_rank_one_term():
    from bayeslaw.models.hierarchical import _product_draws, sample_prior_predictive

    obs = _load(_frame())
    spec = ModelSpec.from_observations(obs, form=FORM, multiplicative=["L_ref"])
    draws = _product_draws(spec, spec.level_index(), 0.5, np.random.default_rng(0), 50)
    index = spec.level_index()
    for term in draws[:5]:  # one value per cell of the full 3 x 4 grid
        grid = np.zeros((3, 4))
        grid[index["model"], index["dataset"]] = term
        assert np.linalg.matrix_rank(grid, tol=1e-10) == 1
        np.testing.assert_allclose(grid.sum(axis=0), 0, atol=1e-12)
        np.testing.assert_allclose(grid.sum(axis=1), 0, atol=1e-12)
    prior = sample_prior_predictive(obs, spec, draws=40, random_seed=1)
    assert prior["loss"].shape == (40, len(obs)) and np.isfinite(prior["mean"]).all()
    both = ModelSpec.from_observations(obs, form=FORM, multiplicative=True)  # L_ref, A_slope
    assert np.isfinite(sample_prior_predictive(obs, both, draws=20, random_seed=1)["mean"]).all()
