"""Laws written as expressions fit like the built-ins: same model, same optimum, saved too."""

from __future__ import annotations

import numpy as np
import pytest

from bayeslaw.datasets import simulate_moe
from bayeslaw.inference.fitting import fit
from bayeslaw.models.expressions import law_form
from bayeslaw.models.hierarchical import ModelSpec, build_model
from bayeslaw.models.registry import get_form
from bayeslaw.posterior.fit import load_fit

N, E = "dense_parameter_count", "num_experts"
ADDITIVE = f"L_inf + A * {N}**(-alpha) + B * {E}**(-beta)"


def test_an_expression_equal_to_a_built_in_has_the_same_log_density_and_map():
    obs = simulate_moe(n_groups=2, seed=0).observations
    user = law_form(ADDITIVE, inputs=[N, E])
    models = [
        build_model(obs, ModelSpec.from_observations(obs, form=f, pooling="none", priors="flat"))
        for f in ("moe_additive", user)
    ]
    point = models[0].initial_point()
    point = {k: v + 0.1 for k, v in point.items()}
    logps = [m.compile_logp()(point) for m in models]
    assert logps[0] == pytest.approx(logps[1], rel=1e-12)
    fits = [
        fit(obs, form=f, method="map", priors="flat", pooling="none", random_seed=0)
        for f in ("moe_additive", user)
    ]
    for name in ("L_inf", "A", "alpha", "B", "beta"):
        np.testing.assert_allclose(fits[0].draws.theta[name], fits[1].draws.theta[name], rtol=1e-5)


def test_an_expression_fit_saves_loads_and_predicts(tmp_path):
    obs = simulate_moe(n_groups=2, seed=1).observations
    user = law_form("L_inf + A * (dense_parameter_count * num_experts**0.5)**(-alpha)",
                    inputs=[N, E], name="mixed")  # fmt: skip
    result = fit(obs, form=user, method="map", random_seed=0)
    loaded = load_fit(result.save(tmp_path / "fit"))
    assert loaded.form_name == user.name and loaded.record.model.equation == user.equation
    grid = {N: [2e9], E: [32.0]}
    for group in ("group_0", "new"):
        np.testing.assert_array_equal(
            result.predict(grid, group=group)["mean"], loaded.predict(grid, group=group)["mean"]
        )


def test_an_expression_of_power_terms_samples_in_the_built_ins_coordinates():
    """The default model of an expression written as a sum of power terms is the built-in
    one: the same free variables, log density and raw-unit parameters."""
    obs = simulate_moe(n_groups=3, seed=2).observations
    user = law_form("L_inf + A / dense_parameter_count**alpha + B * num_experts**(-beta)",
                    inputs=[N, E])  # fmt: skip
    assert [s.name for s in user.slopes] == ["A_slope", "B_slope"]
    models = [
        build_model(obs, ModelSpec.from_observations(obs, form=f)) for f in ("moe_additive", user)
    ]
    assert [v.name for v in models[0].free_RVs] == [v.name for v in models[1].free_RVs]
    point = {k: v + 0.05 for k, v in models[0].initial_point().items()}
    assert models[0].compile_logp()(point) == pytest.approx(
        models[1].compile_logp()(point), rel=1e-12
    )
    theta = {"L_inf": np.array([1.5]), "A": np.array([0.8]), "alpha": np.array([0.3]),
             "B": np.array([0.2]), "beta": np.array([0.4])}  # fmt: skip
    scales = {N: 1e8, E: 10.0}
    raw_user, raw_builtin = (
        user.to_raw(theta, scales),
        get_form("moe_additive").to_raw(theta, scales),
    )
    for name in theta:
        np.testing.assert_allclose(raw_user[name], raw_builtin[name], rtol=1e-12)
    assert "reference scales" not in user.equation


@pytest.mark.parametrize("priors", ["default", "flat"])
def test_declared_bounds_hold_in_the_fit(priors):
    """Bounds tighter than the data want: the estimate stays inside (at the edge)."""
    obs = simulate_moe(n_groups=2, seed=3).observations
    user = law_form(ADDITIVE, inputs=[N, E], bounds={"alpha": (0.01, 0.05)})
    pooling = "none" if priors == "flat" else "partial"
    result = fit(obs, form=user, method="map", priors=priors, pooling=pooling, random_seed=0)
    alpha = result.draws.theta["alpha"]
    assert np.all((alpha >= 0.01) & (alpha <= 0.05))
