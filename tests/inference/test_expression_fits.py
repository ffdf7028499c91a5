"""Laws written as expressions fit like the built-ins: same model, same optimum, saved too."""

from __future__ import annotations

import numpy as np
import pytest

from bayeslaw.datasets import simulate_moe
from bayeslaw.inference.fitting import fit
from bayeslaw.models.expressions import law_form
from bayeslaw.models.hierarchical import ModelSpec, build_model
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
